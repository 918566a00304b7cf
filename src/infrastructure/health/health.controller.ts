import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import type { CustodianConfig } from '../config/config.js';
import { CONFIG } from '../config/config.module.js';
import { AccessFor } from '../auth/access.js';
import { ProjectionMonitor } from '../../projection/projection.module.js';
import { KafkaHealthIndicator } from './kafka-health.indicator.js';

@AccessFor('public')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly kafka: KafkaHealthIndicator,
    private readonly database: TypeOrmHealthIndicator,
    private readonly projection: ProjectionMonitor,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {}

  /** Liveness: the process serves HTTP. Says nothing about its dependencies. */
  @Get()
  liveness(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness: Kafka and PostgreSQL are reachable. 503 names what is down, in the terminus
   * result shape ({ status, info, error, details }), which load balancers and people read.
   */
  @Get('ready')
  async readiness(@Res({ passthrough: true }) reply: FastifyReply): Promise<unknown> {
    try {
      return await this.health.check([
        () => this.kafka.check('kafka'),
        () => this.database.pingCheck('database').withTimeout(this.config.health.timeoutMs),
        () => this.projection.check('projection'),
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      void reply.status(503).header('retry-after', '5');
      return error.getResponse();
    }
  }
}

import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import type { CustodianConfig } from '../config/config.js';
import { CONFIG } from '../config/config.module.js';
import { AccessFor } from '../auth/access.js';
import { KafkaHealthIndicator } from './kafka-health.indicator.js';
import { type ReadinessCheck, ReadinessChecks } from './readiness.js';

@AccessFor('public')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly kafka: KafkaHealthIndicator,
    private readonly database: TypeOrmHealthIndicator,
    private readonly checks: ReadinessChecks,
    private readonly indicators: HealthIndicatorService,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {}

  /** Liveness: the process serves HTTP. Says nothing about its dependencies. */
  @Get()
  liveness(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness: Kafka and PostgreSQL are reachable, and every capability says it is ready (the
   * ledger writers take appends, the projection follows the ledger). 503 names what is down and
   * why, in the terminus result shape ({ status, info, error, details }), which load balancers
   * and people read.
   */
  @Get('ready')
  async readiness(@Res({ passthrough: true }) reply: FastifyReply): Promise<unknown> {
    try {
      return await this.health.check([
        () => this.kafka.check('kafka'),
        () => this.database.pingCheck('database').withTimeout(this.config.health.timeoutMs),
        ...this.checks.all().map((check) => () => this.run(check)),
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      void reply.status(503).header('retry-after', '5');
      return error.getResponse();
    }
  }

  private async run(check: ReadinessCheck) {
    const indicator = this.indicators.check(check.key);
    const { ready, ...details } = await check.check();
    return ready ? indicator.up(details) : indicator.down(details);
  }
}

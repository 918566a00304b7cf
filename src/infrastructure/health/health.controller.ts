import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { CustodianConfig } from '../config/config.js';
import { CONFIG } from '../config/config.module.js';
import { AccessFor } from '../auth/access.js';
import { ApiAnswer } from '../http/api-schemas.js';
import { KafkaHealthIndicator } from './kafka-health.indicator.js';
import { type ReadinessCheck, ReadinessChecks } from './readiness.js';

const LivenessSchema = Type.Object({ status: Type.Literal('ok') });

/** One dependency's state, with what its indicator adds (brokers, response time, partitions…). */
const IndicatorSchema = Type.Object({ status: Type.String({ description: '`up` or `down`' }) }, { additionalProperties: true });
const Indicators = Type.Record(Type.String(), IndicatorSchema);
/** @nestjs/terminus's result: `info` what is up, `error` what is down, `details` both. */
const ReadinessSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('error'), Type.Literal('shutting_down')]),
  info: Type.Optional(Indicators),
  error: Type.Optional(Indicators),
  details: Indicators,
});

@ApiTags('health')
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
  @ApiOperation({ summary: 'Liveness: the process serves HTTP' })
  @ApiAnswer(200, 'serving', LivenessSchema)
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
  @ApiOperation({ summary: 'Readiness: Kafka, PostgreSQL, the ledger writers and the projection, each with its state' })
  @ApiAnswer(200, 'ready: every dependency is up', ReadinessSchema)
  @ApiAnswer(503, 'not ready: `error` names what is down', ReadinessSchema, { 'Retry-After': 'seconds' })
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

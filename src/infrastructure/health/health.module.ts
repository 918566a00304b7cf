import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { KafkaHealthIndicator } from './kafka-health.indicator.js';
import { ReadinessChecks } from './readiness.js';

/**
 * Liveness and readiness; capabilities add their readiness checks to ReadinessChecks. A failed
 * readiness probe is an answer, not a log line (load balancers probe every few seconds): the
 * part that is down logs its own change of state once.
 */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [KafkaHealthIndicator, ReadinessChecks],
  exports: [ReadinessChecks],
})
export class HealthModule {}

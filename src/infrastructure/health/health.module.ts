import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ProjectionModule } from '../../projection/projection.module.js';
import { HealthController } from './health.controller.js';
import { KafkaHealthIndicator } from './kafka-health.indicator.js';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), ProjectionModule],
  controllers: [HealthController],
  providers: [KafkaHealthIndicator],
})
export class HealthModule {}

import {
  Controller,
  Get,
  Header,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { AccessFor } from '../infrastructure/auth/access.js';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { type Readiness, ReadinessChecks } from '../infrastructure/health/readiness.js';
import { KAFKA } from '../infrastructure/kafka/kafka.module.js';
import { CheckpointSigner } from '../ledger/checkpoint-note.js';
import { LedgerWriter } from '../ledger/ledger-writer.js';
import { createProjector } from './projection-parts.js';
import { Projector } from './projector.js';
import { ProjectorLease } from './projector-lease.js';

/**
 * Runs the projector in this process, unless PROJECTOR_ENABLED=false; with several instances,
 * in the one that holds the projection's lease (ProjectorLease).
 */
@Injectable()
class ProjectorLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly lease: ProjectorLease | null;

  constructor(
    private readonly projector: Projector,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {
    const logger = new Logger('Projection');
    this.lease =
      config.projection.enabled && config.cluster.enabled
        ? new ProjectorLease(config.database.url, config.ledger.id, {
            acquired: async () => {
              logger.log('this instance projects the ledger (it holds the projection lease)');
              await projector.start();
            },
            lost: async () => {
              logger.warn('the projection lease is lost; another instance takes the projection over');
              await projector.stop();
            },
          })
        : null;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.lease) this.lease.start();
    else if (this.config.projection.enabled) await this.projector.start();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.lease) await this.lease.stop();
    else if (this.config.projection.enabled) await this.projector.stop();
  }
}

/** How far the projection is behind the ledger, per partition, in records. */
export interface ProjectionLag {
  readonly partition: number;
  readonly status: string;
  readonly ledgerNextSequence: number;
  readonly projectedNextSequence: number;
  readonly lag: number;
}

@Injectable()
export class ProjectionMonitor implements OnModuleInit {
  readonly key = 'projection';

  constructor(
    private readonly projector: Projector,
    private readonly writer: LedgerWriter,
    private readonly readiness: ReadinessChecks,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {}

  onModuleInit(): void {
    this.readiness.register(this);
  }

  lag(): ProjectionLag[] {
    const heads = this.writer.heads();
    return this.projector.status().map((p) => {
      const ledgerNextSequence = heads[p.partition]?.nextSequence ?? 0;
      return {
        partition: p.partition,
        status: p.status,
        ledgerNextSequence,
        projectedNextSequence: p.nextSequence,
        lag: Math.max(0, ledgerNextSequence - p.nextSequence),
      };
    });
  }

  /** Readiness: down when a partition is quarantined (the read models no longer follow the ledger). */
  check(): Readiness {
    if (!this.config.projection.enabled) return { ready: true, enabled: false };
    const partitions = this.lag();
    const quarantined = this.projector.status().filter((p) => p.status === 'quarantined');
    if (quarantined.length > 0) {
      return {
        ready: false,
        state: 'degraded',
        partitions,
        quarantined: quarantined.map((p) => ({ partition: p.partition, problem: p.problem })),
      };
    }
    return { ready: true, partitions };
  }
}

/** Prometheus text metrics of the ledger and its projection. */
@Controller('metrics')
class MetricsController {
  constructor(private readonly monitor: ProjectionMonitor) {}

  @AccessFor('public')
  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): string {
    const lines = [
      '# HELP custodian_projection_lag_records Ledger records not yet in the read models.',
      '# TYPE custodian_projection_lag_records gauge',
      '# HELP custodian_projection_quarantined Whether the partition stopped on a record that does not verify.',
      '# TYPE custodian_projection_quarantined gauge',
      '# HELP custodian_ledger_next_sequence The next sequence number of the partition chain.',
      '# TYPE custodian_ledger_next_sequence gauge',
    ];
    for (const p of this.monitor.lag()) {
      const label = `{partition="${p.partition}"}`;
      lines.push(`custodian_projection_lag_records${label} ${p.lag}`);
      lines.push(`custodian_projection_quarantined${label} ${p.status === 'quarantined' ? 1 : 0}`);
      lines.push(`custodian_ledger_next_sequence${label} ${p.ledgerNextSequence}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/** The projector of the ledger into the read models, its health and its metrics (docs/projection.md). */
@Module({
  controllers: [MetricsController],
  providers: [
    {
      provide: Projector,
      inject: [CONFIG, getDataSourceToken(), KAFKA, CheckpointSigner],
      useFactory: (config: CustodianConfig, dataSource: DataSource, kafka: Kafka, signer: CheckpointSigner) =>
        createProjector(config, { dataSource, kafka, signer, logger: new Logger('Projection') }),
    },
    ProjectorLifecycle,
    ProjectionMonitor,
  ],
  exports: [Projector, ProjectionMonitor],
})
export class ProjectionModule {}

import {
  type BeforeApplicationShutdown,
  Inject,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { type Readiness, ReadinessChecks } from '../infrastructure/health/readiness.js';
import { LedgerWriter } from '../ledger/ledger-writer.js';

/** Starts the writers once the application is up, closes them on shutdown, and says whether they take appends. */
export class LedgerWriterLifecycle
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('Ledger');

  constructor(
    private readonly writer: LedgerWriter,
    private readonly readiness: ReadinessChecks,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {}

  onModuleInit(): void {
    this.readiness.register({ key: 'ledger', check: () => this.check() });
  }

  async onApplicationBootstrap(): Promise<void> {
    // With several instances, Kafka's group says which writers run here (src/cluster/writer-placement.ts).
    if (this.config.cluster.enabled) return;
    const heads = await this.writer.start();
    for (const [partition, head] of heads.entries()) {
      if (!head) continue;
      this.logger.log(
        `ledger ${this.config.ledger.id} partition ${partition}: head at sequence ${head.nextSequence - 1}, genesis ${String(head.genesisHash)}`,
      );
    }
  }

  /** Ready when every partition's writer here takes appends; else each one that does not, and why. */
  private check(): Readiness {
    const writers = this.writer.describe();
    // One instance writes every partition. With several, only those Kafka placed here, and a
    // writer starting or fenced while its partition moves is no reason to take this instance out
    // of a load balancer: its steps wait for the partition's writer (docs/scaling.md §3).
    const passing = this.config.cluster.enabled ? ['open', 'elsewhere', 'new', 'fenced'] : ['open'];
    const down = writers.filter((writer) => !passing.includes(writer.state));
    return down.length === 0
      ? { ready: true, partitions: writers.length }
      : { ready: false, partitions: down.map(({ partition, state, reason }) => ({ partition, state, reason })) };
  }

  /**
   * Snapshots what was committed, while PostgreSQL is still connected: Nest closes the database
   * in onApplicationShutdown, before or after this module's own (docs/ledger-format.md §11).
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.writer.snapshotNow();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.writer.close();
  }
}

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
    const heads = await this.writer.start();
    for (const [partition, head] of heads.entries()) {
      if (!head) continue;
      this.logger.log(
        `ledger ${this.config.ledger.id} partition ${partition}: head at sequence ${head.nextSequence - 1}, genesis ${String(head.genesisHash)}`,
      );
    }
  }

  /** Ready when every partition's writer takes appends; else each one that does not, and why. */
  private check(): Readiness {
    const writers = this.writer.describe();
    const down = writers.filter((writer) => writer.state !== 'open');
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

import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { LedgerWriter } from '../ledger/ledger-writer.js';
import type { LedgerFollower } from './ledger-follower.js';
import { LEDGER_FOLLOWER, WITNESS } from './verification.tokens.js';
import { type Witness, WitnessRefusedError } from './witness.js';

/**
 * Publishes each partition's latest checkpoint to the witness every WITNESS_INTERVAL_MS, and
 * once more on shutdown. A refusal means the witness saw a larger or another tree than this
 * writer's: the ledger was truncated or forked, which is logged as an error.
 */
@Injectable()
export class WitnessPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Witness');
  private readonly published = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    @Inject(WITNESS) private readonly witness: Witness | null,
    private readonly writer: LedgerWriter,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.witness) return;
    this.logger.log(`publishing checkpoints to the witness: ${this.witness.description}`);
    this.timer = setInterval(() => void this.publish(), this.config.verification.witnessIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.publish();
  }

  /** Publishes what is new; never throws (the next round tries again). */
  publish(): Promise<void> {
    this.running = this.running.then(() => this.publishNow());
    return this.running;
  }

  private async publishNow(): Promise<void> {
    if (!this.witness) return;
    for (const [partition, head] of this.writer.heads().entries()) {
      const checkpoint = head?.lastCheckpoint;
      if (!checkpoint || checkpoint.treeSize <= (this.published.get(partition) ?? -1)) continue;
      try {
        await this.witness.publish(partition, checkpoint);
        this.published.set(partition, checkpoint.treeSize);
      } catch (error) {
        const message = `partition ${partition}: the witness did not take the checkpoint of tree size ${checkpoint.treeSize}: ${(error as Error).message}`;
        if (error instanceof WitnessRefusedError) this.logger.error(message);
        else this.logger.warn(message);
      }
    }
  }
}

/** Starts the ledger follower with the application and stops it on shutdown. */
@Injectable()
export class FollowerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(LEDGER_FOLLOWER) private readonly follower: LedgerFollower | null) {}

  private starting: Promise<void> | null = null;

  /** Starts the follower without holding the application's start: readings wait for it. */
  onApplicationBootstrap(): void {
    this.starting =
      this.follower?.start().catch((error: unknown) => {
        // Attestations then read their partition in full, as with VERIFIER_FOLLOW=false.
        new Logger('Verification').warn(`the ledger follower did not start: ${(error as Error).message}`);
      }) ?? null;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.starting;
    await this.follower?.stop();
  }
}

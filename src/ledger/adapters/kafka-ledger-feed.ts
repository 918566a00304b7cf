import type { Consumer, Kafka } from 'kafkajs';
import type { LedgerFeed, StoredEntry } from '../ports.js';
import { ledgerConsumer } from './kafka-partition-reader.js';

/**
 * The ledger topic as a feed, read_committed. The consumer group is the projector's own and
 * commits nothing: the position lives in PostgreSQL, next to the read models it belongs to.
 * The feed seeks there on start, and again after every rejoin of the group (a restart of the
 * consumer would otherwise fetch from the beginning).
 */
export class KafkaLedgerFeed implements LedgerFeed {
  private consumer: Consumer | null = null;
  private stopped: (() => void) | null = null;
  /**
   * Each run's "stopped" mark: a consumer whose start was still under way when stop() came is
   * disconnected as soon as it has started.
   */
  private readonly runs = new Set<{ stopped: boolean }>();
  /** Where each partition is to be read from next: updated by seeks and by every fetched run. */
  private readonly positions = new Map<number, string>();
  /**
   * Batches eachBatch skipped as stale (a seek came meanwhile), as "partition:lastOffset".
   * kafkajs reports the end of such a batch like any other; it must not count as progress, or a
   * reader waiting for that offset would go on without records it never got.
   */
  private readonly skipped = new Set<string>();

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly groupPrefix: string,
  ) {}

  async run(
    from: ReadonlyMap<number, string>,
    onBatch: (partition: number, entries: readonly StoredEntry[]) => Promise<void>,
    onProgress?: (partition: number, fetchedTo: string) => void,
  ): Promise<void> {
    for (const [partition, offset] of from) this.positions.set(partition, offset);
    const mark = { stopped: false };
    this.runs.add(mark);
    // Never restarted by kafkajs: a crash ends the run, and the feed's owner (the projector, the
    // ledger follower) runs it again with a new consumer after a pause. kafkajs decides to restart
    // when the crash happens and then starts the consumer again on a timer; a stop() that came
    // while such a start was connecting left a consumer running after the stop.
    const consumer = ledgerConsumer(this.kafka, this.groupPrefix, { maxWaitTimeInMs: 200, restartOnFailure: false });
    this.consumer = consumer;
    const finished = new Promise<void>((resolve, reject) => {
      this.stopped = resolve;
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        reject(payload.error);
      });
    });
    // Until it is returned, a crash must not become an unhandled rejection (run() may throw first).
    finished.catch(() => undefined);
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const [partition, offset] of this.positions) consumer.seek({ topic: this.topic, partition, offset });
    });
    // Runs that hold only transaction markers deliver no entry, but still move the read on.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic !== this.topic) return;
      if (this.skipped.delete(`${payload.partition}:${payload.lastOffset}`)) return;
      const next = (BigInt(payload.lastOffset) + 1n).toString();
      if (BigInt(next) > BigInt(this.positions.get(payload.partition) ?? '0')) this.positions.set(payload.partition, next);
      onProgress?.(payload.partition, next);
    });
    try {
      await this.start(consumer, onBatch);
    } catch (error) {
      this.runs.delete(mark);
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
    if (mark.stopped) {
      // stop() came while the consumer was starting: it must not keep running.
      await consumer.disconnect().catch(() => undefined);
      return;
    }
    for (const [partition, offset] of from) consumer.seek({ topic: this.topic, partition, offset });
    return finished;
  }

  private async start(
    consumer: Consumer,
    onBatch: (partition: number, entries: readonly StoredEntry[]) => Promise<void>,
  ): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (!payload.isRunning() || payload.isStale()) {
          this.skipped.add(`${batch.partition}:${batch.lastOffset()}`);
          return;
        }
        const entries: StoredEntry[] = [];
        for (const message of batch.messages) {
          if (message.value) entries.push({ offset: message.offset, value: new Uint8Array(message.value) });
        }
        if (entries.length > 0) await onBatch(batch.partition, entries);
        await payload.heartbeat();
      },
    });
  }

  seek(partition: number, offset: string): void {
    this.positions.set(partition, offset);
    this.consumer?.seek({ topic: this.topic, partition, offset });
  }

  async stop(): Promise<void> {
    for (const mark of this.runs) mark.stopped = true;
    this.runs.clear();
    await this.consumer?.disconnect();
    this.consumer = null;
    this.stopped?.();
  }
}

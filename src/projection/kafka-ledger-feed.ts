import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { StoredEntry } from '../ledger/ports.js';
import type { LedgerFeed } from './projector.js';

/**
 * The ledger topic as a feed, read_committed. The consumer group is the projector's own and
 * commits nothing: the position lives in PostgreSQL, next to the read models it belongs to,
 * and the feed seeks there on start.
 */
export class KafkaLedgerFeed implements LedgerFeed {
  private consumer: Consumer | null = null;
  private stopped: (() => void) | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly groupPrefix: string,
  ) {}

  async run(
    from: ReadonlyMap<number, string>,
    onBatch: (partition: number, entries: readonly StoredEntry[]) => Promise<void>,
  ): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: `${this.groupPrefix}-${randomUUID()}`,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxWaitTimeInMs: 200,
    });
    this.consumer = consumer;
    const crashed = new Promise<void>((resolve, reject) => {
      this.stopped = resolve;
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) reject(payload.error);
      });
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (!payload.isRunning() || payload.isStale()) return;
        const entries: StoredEntry[] = [];
        for (const message of batch.messages) {
          if (message.value) entries.push({ offset: message.offset, value: new Uint8Array(message.value) });
        }
        if (entries.length > 0) await onBatch(batch.partition, entries);
        await payload.heartbeat();
      },
    });
    for (const [partition, offset] of from) consumer.seek({ topic: this.topic, partition, offset });
    await crashed;
  }

  seek(partition: number, offset: string): void {
    this.consumer?.seek({ topic: this.topic, partition, offset });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = null;
    this.stopped?.();
  }
}

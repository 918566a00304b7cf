import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { LedgerUnavailableError } from '../ledger-errors.js';
import type { StoredEntry } from '../ports.js';

export interface ReadOptions {
  readonly fromOffset?: string;
  /** Told, before the first record, where the partition starts and ends for this read. */
  readonly onOffsets?: (offsets: PartitionOffsets) => void;
  /** Give up when no record arrives for this long although the end is not reached. */
  readonly stallTimeoutMs?: number;
  /** Records buffered ahead of the consumer of the iterator before fetching pauses. */
  readonly highWaterMark?: number;
}

/**
 * A consumer of the ledger topic in a throwaway group of its own that commits nothing (the
 * reader's and the feeds' positions are their own): read_committed, so records of aborted or
 * open transactions are never seen, and fetches of up to 4 MiB, the largest transaction the
 * topic takes. `maxWaitTimeInMs` bounds how long a fetch past the end is held by the broker.
 * The one way the ledger's readers (the reader below, the feeds, the audit) consume it.
 */
export function ledgerConsumer(
  kafka: Kafka,
  groupPrefix: string,
  options: { readonly maxWaitTimeInMs: number; readonly restartOnFailure?: boolean },
): Consumer {
  return kafka.consumer({
    groupId: `${groupPrefix}-${randomUUID()}`,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxWaitTimeInMs: options.maxWaitTimeInMs,
    ...(options.restartOnFailure === false ? { retry: { restartOnFailure: () => Promise.resolve(false) } } : {}),
  });
}

/** Where a partition's records are: from `start` (earlier ones were deleted) to `end` (the high watermark). */
export interface PartitionOffsets {
  readonly start: string;
  readonly end: string;
}

/** The partition's log start offset and high watermark, now, asked of a connected admin client. */
export async function partitionOffsetsOf(admin: Admin, topic: string, partition: number): Promise<PartitionOffsets> {
  const offsets = (await admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition);
  return { start: offsets?.low ?? '0', end: offsets?.high ?? '0' };
}

/** The partition's log start offset and high watermark, now: the one "where does it end" of the ledger's readers. */
export async function partitionOffsets(kafka: Kafka, topic: string, partition: number): Promise<PartitionOffsets> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await partitionOffsetsOf(admin, topic, partition);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads one partition from an offset up to its current end, read_committed: records of
 * aborted or open transactions are never seen. The end is the last stable offset when the
 * read starts. kafkajs has no manual partition assignment, so this uses a throwaway consumer
 * group that commits nothing; its END_BATCH_PROCESS events report progress past transaction
 * markers, which occupy offsets but are never delivered as records.
 */
export async function* readPartition(
  kafka: Kafka,
  topic: string,
  partition: number,
  options: ReadOptions = {},
): AsyncGenerator<StoredEntry> {
  const from = BigInt(options.fromOffset ?? '0');
  const stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
  const highWaterMark = options.highWaterMark ?? 5_000;

  const offsets = await partitionOffsets(kafka, topic, partition);
  options.onOffsets?.(offsets);
  const end = BigInt(offsets.end);
  if (end <= from) return;

  const queue: StoredEntry[] = [];
  // Set from consumer callbacks (a holder: TypeScript cannot see closures assign locals).
  const progress: { reached: boolean; failure: Error | null } = { reached: false, failure: null };
  // Resolvers the reader and the consumer hand each other (a holder: closures assign them).
  const waiting: { reader: (() => void) | null; consumer: (() => void) | null } = { reader: null, consumer: null };
  const notify = () => {
    waiting.reader?.();
    waiting.reader = null;
  };
  const release = () => {
    waiting.consumer?.();
    waiting.consumer = null;
  };

  // A bounded read: past the last record, a fetch finds nothing new and would otherwise be held
  // by the broker for kafkajs's default 5 s before the end becomes visible.
  const consumer = ledgerConsumer(kafka, 'custodian-reader', { maxWaitTimeInMs: 100 });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic && payload.partition === partition && BigInt(payload.lastOffset) + 1n >= end) {
      progress.reached = true;
      notify();
    }
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    // A retriable error (a coordinator still loading after a broker start) restarts the
    // consumer by itself; only a crash it does not come back from ends the read.
    if (payload.restart) return;
    progress.failure = payload.error;
    notify();
  });

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (batch.partition !== partition) return;
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          if (offset >= end) break;
          if (offset < from || !message.value) continue;
          queue.push({ offset: message.offset, value: new Uint8Array(message.value) });
        }
        notify();
        if (queue.length >= highWaterMark) {
          await new Promise<void>((resolve) => {
            waiting.consumer = resolve;
          });
        }
      },
    });
    if (from > 0n) consumer.seek({ topic, partition, offset: from.toString() });

    let lastProgress = Date.now();
    for (;;) {
      const entry = queue.shift();
      if (entry) {
        lastProgress = Date.now();
        if (queue.length < highWaterMark / 2) release();
        yield entry;
        continue;
      }
      if (progress.failure) throw new LedgerUnavailableError(`reading ${topic}/${partition} failed: ${progress.failure.message}`);
      if (progress.reached) return;
      if (Date.now() - lastProgress > stallTimeoutMs) {
        throw new LedgerUnavailableError(
          `reading ${topic}/${partition} stalled before its end offset ${end}: the broker is unreachable or an open transaction holds back read_committed readers`,
        );
      }
      await new Promise<void>((resolve) => {
        waiting.reader = resolve;
        setTimeout(resolve, 250);
      });
    }
  } finally {
    release();
    await consumer.disconnect();
  }
}

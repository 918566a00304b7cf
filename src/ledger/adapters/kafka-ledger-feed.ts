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
  private readonly runs = new Set<RunMark>();
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
    const mark = runMark();
    this.runs.add(mark);
    let started: Started | null;
    try {
      // A start that crashes on an error kafkajs calls retriable (the group coordinator still
      // loading its offsets after a broker start) is tried again soon, not left to the owner's
      // slower restart: a reader waiting on the feed would otherwise wait for seconds.
      started = await startRetrying(() => this.startOnce(onBatch, onProgress), {
        stopped: () => mark.stopped,
        interrupted: mark.woken,
      });
    } catch (error) {
      this.runs.delete(mark);
      throw error;
    }
    if (started === null) return;
    const { consumer, finished } = started;
    if (mark.stopped) {
      // stop() came while the consumer was starting: it must not keep running.
      await consumer.disconnect().catch(() => undefined);
      return;
    }
    for (const [partition, offset] of from) consumer.seek({ topic: this.topic, partition, offset });
    return finished;
  }

  /**
   * One consumer, started. kafkajs reports a crash in its start (joining the group) as an event and
   * then resolves run(): that crash is returned, the consumer already disconnected by kafkajs.
   */
  private async startOnce(
    onBatch: (partition: number, entries: readonly StoredEntry[]) => Promise<void>,
    onProgress?: (partition: number, fetchedTo: string) => void,
  ): Promise<Started> {
    // Never restarted by kafkajs: a crash ends the run, and the feed's owner (the projector, the
    // ledger follower) runs it again with a new consumer after a pause. kafkajs decides to restart
    // when the crash happens and then starts the consumer again on a timer; a stop() that came
    // while such a start was connecting left a consumer running after the stop.
    const consumer = ledgerConsumer(this.kafka, this.groupPrefix, { maxWaitTimeInMs: 200, restartOnFailure: false });
    this.consumer = consumer;
    let crash: unknown = null;
    const finished = new Promise<void>((resolve, reject) => {
      this.stopped = resolve;
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        crash ??= payload.error;
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
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
    return { consumer, finished, crash };
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
    try {
      this.consumer?.seek({ topic: this.topic, partition, offset });
    } catch {
      // A consumer still joining its group, or one that crashed, takes no seek (kafkajs throws
      // "Consumer group was not initialized"): the position is kept, and the join seeks there.
    }
  }

  async stop(): Promise<void> {
    for (const mark of this.runs) {
      mark.stopped = true;
      mark.wake();
    }
    this.runs.clear();
    await this.consumer?.disconnect();
    this.consumer = null;
    this.stopped?.();
  }
}

/** A run's mark: stop() sets it, and ends a pause between two starts. */
interface RunMark {
  stopped: boolean;
  readonly woken: Promise<void>;
  readonly wake: () => void;
}

function runMark(): RunMark {
  let wake: () => void = () => undefined;
  const woken = new Promise<void>((resolve) => (wake = resolve));
  return {
    stopped: false,
    woken,
    wake: () => {
      wake();
    },
  };
}

interface Started {
  readonly consumer: Consumer;
  /** Resolves when the feed is stopped, rejects when the consumer crashes. */
  readonly finished: Promise<void>;
  /** The error the start itself crashed on, or null. */
  readonly crash: unknown;
}

/** The pauses before a crashed start is tried again, then the crash is the owner's. */
export const START_RETRY_DELAYS_MS: readonly number[] = [100, 200, 400, 800, 1_000, 1_500];
/** No start is tried again this long after the first began (a crash may come only after kafkajs's own retries). */
export const START_RETRY_BUDGET_MS = 4_000;

/** Whether kafkajs would start a consumer again after this crash (its own rule, in consumer/index.js). */
export function retriableKafkaError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'KafkaJSNumberOfRetriesExceeded') return true;
  let cause: unknown = error;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  return (cause as { retriable?: unknown }).retriable === true;
}

/**
 * Starts, and starts again after a pause while the start crashes on a retriable error. Returns
 * what started without a crash, or null when stopped meanwhile (a pause ends when `interrupted`
 * settles); throws a crash that is not retriable, or the last one once the pauses or the time
 * (`budgetMs` from the first start) are used up.
 */
export async function startRetrying<T extends { readonly crash: unknown }>(
  start: () => Promise<T>,
  options: {
    readonly stopped: () => boolean;
    readonly interrupted?: Promise<void>;
    readonly delaysMs?: readonly number[];
    readonly budgetMs?: number;
    readonly sleep?: (ms: number) => Promise<void>;
    readonly now?: () => number;
  },
): Promise<T | null> {
  const delays = options.delaysMs ?? START_RETRY_DELAYS_MS;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => pause(ms, options.interrupted));
  const deadline = now() + (options.budgetMs ?? START_RETRY_BUDGET_MS);
  for (let attempt = 0; ; attempt++) {
    const started = await start();
    if (started.crash === null) return started;
    // A crash after stop() is the end the owner asked for, not a failure.
    if (options.stopped()) return null;
    const delay = delays[attempt];
    if (delay === undefined || now() + delay > deadline || !retriableKafkaError(started.crash)) {
      throw started.crash instanceof Error ? started.crash : new Error(`the consumer crashed: ${JSON.stringify(started.crash)}`);
    }
    await sleep(delay);
    if (options.stopped()) return null;
  }
}

/** Resolves after `ms`, or as soon as `interrupted` settles. */
async function pause(ms: number, interrupted?: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
      interrupted ?? new Promise(() => undefined),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

import kafkajs, { type Kafka, type Producer, type Transaction } from 'kafkajs';
import {
  AppendOutcomeUnknownError,
  LedgerError,
  LedgerIntegrityError,
  LedgerUnavailableError,
  WriterFencedAfterCommitError,
  WriterFencedError,
} from '../ledger-errors.js';
import type { LogEntry, PartitionLog, StoredEntry } from '../ports.js';
import { partitionOffsets, readPartition } from './kafka-partition-reader.js';

const { Partitioners } = kafkajs;

const FENCED = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

/**
 * Retries of the writer's producer. A transaction that starts right after a commit usually
 * gets CONCURRENT_TRANSACTIONS while the coordinator still writes the previous commit's
 * markers, which on a local broker takes a few milliseconds. The Java client retries that
 * after 20 ms; kafkajs's default first retry after 300 ms would cap a writer near three
 * transactions a second. A first retry after 2 ms (doubling, randomised) lets the writer start
 * its next transaction as soon as the coordinator is done: one caller went from about 270 to
 * 480 appends/s and the p99 from 28 to 8 ms against 20 ms (docs/PERFORMANCE.md). Thirteen
 * retries doubling up to 2 s ride out a broker hiccup of about eight seconds, as before.
 */
export const WRITER_RETRY = { initialRetryTime: 2, maxRetryTime: 2_000, retries: 13 };

/** kafkajs wraps protocol errors (retries, non-retriable wrappers); look through them. */
function protocolErrorTypes(error: unknown): string[] {
  const types: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { type, originalError, cause } = current as { type?: unknown; originalError?: unknown; cause?: unknown };
    if (typeof type === 'string') types.push(type);
    current = originalError ?? cause;
  }
  return types;
}

export function isFencingError(error: unknown): boolean {
  return protocolErrorTypes(error).some((type) => FENCED.has(type));
}

/** The transactional id of a partition's writer: one per ledger partition, across instances. */
export function writerTransactionalId(ledgerId: string, partition: number): string {
  return `custodian.writer.${ledgerId}.${partition}`;
}

/**
 * A ledger partition in Kafka. open() initialises a transactional producer, which fences
 * every earlier producer with the same transactional id: from then on only this one can
 * commit to the partition. Each append is one transaction with acks=all.
 *
 * Only the writer appends to the partition, so the log knows where its next transaction must
 * land: at the end it read to, or just after the commit marker of its last transaction. Kafka
 * answers a transaction's send with the offset its records got and the partition's log start
 * offset, before the commit: a record someone else appended meanwhile (or records deleted from
 * the start) shows there, and the transaction is aborted instead of extending a chain that no
 * longer verifies (docs/ledger-format.md §8).
 */
export class KafkaPartitionLog implements PartitionLog {
  private producer: Producer | null = null;
  /** A transaction of this producer failed or went unconfirmed, and may not be settled yet. */
  private unsettled = false;
  /** Where the next transaction's first record must land; null until the partition was read. */
  private expectedNext: bigint | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    readonly partition: number,
    private readonly transactionalId: string,
    private readonly transactionTimeoutMs = 30_000,
  ) {}

  async open(): Promise<void> {
    // Again after being fenced: the old producer is of no use any more.
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = null;
    this.expectedNext = null;
    const producer = this.kafka.producer({
      transactionalId: this.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.transactionTimeoutMs,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: WRITER_RETRY,
    });
    await producer.connect();
    // kafkajs initialises the transactional producer id, the step that fences every older
    // producer of this transactional id (and aborts its open transaction), only at the first
    // transaction. Do it now: the writer must fence before it reads its head back, or an old
    // writer could still commit after that read and the chain would fork.
    const fence = await producer.transaction();
    await fence.abort();
    this.producer = producer;
  }

  /**
   * Reads to the end that read_committed readers see: the last stable offset, which stops at
   * the first transaction not yet settled. A commit whose answer was lost may still be waiting
   * for its markers, and a read then would miss it: the writer would take a landed batch for
   * a lost one and fork its chain. So after a failed or unconfirmed transaction the producer is
   * initialised again first; Kafka answers that only once the earlier transaction is settled.
   */
  async *readAll(from = '0'): AsyncIterable<StoredEntry> {
    if (this.unsettled) {
      await this.producer?.disconnect();
      this.producer = null;
      await this.open();
      this.unsettled = false;
    }
    this.expectedNext = null;
    let end: bigint | null = null;
    let start = 0n;
    yield* readPartition(this.kafka, this.topic, this.partition, {
      fromOffset: from,
      onOffsets: (offsets) => {
        end = BigInt(offsets.end);
        start = BigInt(offsets.start);
      },
    });
    // Read from 0, a chain missing its start does not verify; read from a snapshot on, it would pass unseen.
    if (start > 0n) {
      throw new LedgerIntegrityError(
        `partition ${this.partition}: records were deleted from its start (it starts at offset ${start})`,
      );
    }
    this.expectedNext = end;
  }

  async end(): Promise<string> {
    return (await partitionOffsets(this.kafka, this.topic, this.partition)).end;
  }

  async appendTransaction(entries: readonly LogEntry[]): Promise<string[]> {
    const producer = this.producer;
    if (!producer) throw new LedgerUnavailableError('the partition log is not open');
    let transaction: Transaction | undefined;
    let offsets: string[];
    // Until the commit is sent, a failure means the transaction is aborted: nothing landed.
    try {
      transaction = await producer.transaction();
      const [metadata] = await transaction.send({
        topic: this.topic,
        acks: -1,
        messages: entries.map((entry) => ({
          partition: this.partition,
          key: entry.key,
          value: Buffer.from(entry.value.buffer, entry.value.byteOffset, entry.value.byteLength),
          headers: { ...entry.headers },
        })),
      });
      const base = BigInt(metadata?.baseOffset ?? '-1');
      if (!metadata || base < 0n) throw new LedgerUnavailableError('Kafka did not report the offsets of the transaction');
      this.checkUntouched(base, metadata.logStartOffset);
      offsets = entries.map((_, i) => (base + BigInt(i)).toString());
    } catch (error) {
      this.unsettled = true;
      this.expectedNext = null;
      if (transaction?.isActive()) await transaction.abort().catch(() => undefined);
      throw this.failure(error, (message) => new LedgerUnavailableError(`Kafka did not take the transaction: ${message}`));
    }
    // Once the commit is sent, a lost answer leaves the outcome unknown.
    try {
      await transaction.commit();
    } catch (error) {
      this.unsettled = true;
      this.expectedNext = null;
      if (isFencingError(error)) {
        throw new WriterFencedAfterCommitError(
          `another writer took over ${this.topic}/${this.partition} (transactional id ${this.transactionalId}) after this writer's commit was sent; it may have landed`,
        );
      }
      throw this.failure(
        error,
        (message) =>
          new AppendOutcomeUnknownError(`the commit to ${this.topic}/${this.partition} was sent but not confirmed: ${message}`),
      );
    }
    // The commit marker takes the offset after the last record.
    this.expectedNext = BigInt(offsets.at(-1) ?? '-1') + 2n;
    return offsets;
  }

  /**
   * The records of the transaction must follow what this writer read or wrote, and nothing may
   * have been deleted from the start of the partition; else the transaction must not commit.
   */
  private checkUntouched(base: bigint, logStartOffset: string | undefined): void {
    const where = `${this.topic}/${this.partition}`;
    if (logStartOffset !== undefined && logStartOffset !== '0') {
      throw new LedgerIntegrityError(
        `records were deleted from the start of ${where} (its log now starts at offset ${logStartOffset}): the chain no longer verifies from its genesis`,
      );
    }
    if (this.expectedNext !== null && base !== this.expectedNext) {
      throw new LedgerIntegrityError(
        `${where} holds records this writer did not write: its next records were to go at offset ${this.expectedNext}, Kafka placed them at ${base}`,
      );
    }
  }

  private failure(error: unknown, otherwise: (message: string) => LedgerError): LedgerError {
    if (isFencingError(error)) {
      return new WriterFencedError(
        `another writer took over ${this.topic}/${this.partition} (transactional id ${this.transactionalId}); this writer stops`,
      );
    }
    if (error instanceof LedgerError) return error;
    return otherwise(error instanceof Error ? error.message : String(error));
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
    this.producer = null;
  }
}

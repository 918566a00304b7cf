import type { Hash } from './hashing.js';

/** One Kafka record as the writer hands it over and the reader gets it back. */
export interface LogEntry {
  readonly key: string;
  readonly value: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
}

export interface StoredEntry {
  readonly offset: string;
  readonly value: Uint8Array;
}

/**
 * A ledger partition in the log (Kafka in production: src/ledger/adapters/). A writer opens
 * it, which fences every other writer of the partition, then reads and appends.
 */
export interface PartitionLog {
  readonly partition: number;
  /**
   * Fences every other writer: after this, only this one can commit to the partition. Called
   * again by a writer that was fenced, to take the partition back.
   */
  open(): Promise<void>;
  /** Every committed record from the start to the current end, in offset order. */
  readAll(): AsyncIterable<StoredEntry>;
  /**
   * One transaction: all entries become visible together or not at all. Their offsets.
   * Throws LedgerIntegrityError, committing nothing, when the partition changed behind the
   * writer's back since it last read or appended (a record appended by someone else, records
   * deleted from its start): the writer must not extend a chain that no longer verifies.
   */
  appendTransaction(entries: readonly LogEntry[]): Promise<string[]>;
  /** The offset after the partition's last record, now (whoever wrote it). */
  end(): Promise<string>;
  close(): Promise<void>;
}

/** Genesis hashes pinned outside the log (PostgreSQL in production). */
export interface GenesisPins {
  get(ledgerId: string, partition: number): Promise<Hash | null>;
  /** Pins the hash; a pin, once written, is never changed. */
  pin(ledgerId: string, partition: number, hash: Hash): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * The ledger topic followed: entries of each partition, in offset order, from an offset on (the
 * projector and the verifier's follower read it so; Kafka in production: adapters/).
 */
export interface LedgerFeed {
  /**
   * Calls `onBatch` for each run of entries, awaiting it before the next, and `onProgress` with
   * the offset after every fetched run (transaction markers included, which carry no entry).
   * Resolves once stopped; rejects when the feed fails for good.
   */
  run(
    from: ReadonlyMap<number, string>,
    onBatch: (partition: number, entries: readonly StoredEntry[]) => Promise<void>,
    onProgress?: (partition: number, fetchedTo: string) => void,
  ): Promise<void>;
  /** Goes back (or forward) to `offset` in the partition: the next run starts there. */
  seek(partition: number, offset: string): void;
  stop(): Promise<void>;
}

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

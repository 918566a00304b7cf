import type { Hash } from './hashing.js';
import type { Tile } from './merkle-tiles.js';
import type { StateTreeSource } from './state-tree.js';
import type { SignedSnapshot } from './writer-snapshot.js';

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
  /**
   * Every committed record from `from` (the start by default) to the current end, in offset
   * order. Throws LedgerIntegrityError when records were deleted from the partition's start.
   */
  readAll(from?: string): AsyncIterable<StoredEntry>;
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

/** A record a snapshot stores for the verifier: where it is, its bytes, the entities it names. */
export interface SnapshotRecord {
  readonly sequence: number;
  readonly offset: string;
  readonly bytes: Uint8Array;
  readonly entityIds: readonly string[];
}

/** What a snapshot writes besides itself: state tree nodes (by path) and values (by key), tiles, records. */
export interface SnapshotWrites {
  readonly nodes: ReadonlyMap<string, Uint8Array | null>;
  readonly values: ReadonlyMap<string, Uint8Array>;
  readonly tiles: readonly Tile[];
  readonly records: readonly SnapshotRecord[];
}

/**
 * One partition's writer snapshots where they are kept (PostgreSQL in production, adapters/):
 * the newest signed snapshot and what it commits to. Everything read from here is as stored,
 * unverified: the writer and the verifier hold it against the snapshot's signature and the topic.
 */
export interface PartitionSnapshots extends StateTreeSource {
  readonly partition: number;
  latest(): Promise<SignedSnapshot | null>;
  tiles(coordinates: readonly { level: number; index: number }[]): Promise<Map<string, Tile>>;
  records(sequences: readonly number[]): Promise<Map<number, { offset: string; bytes: Uint8Array }>>;
  /** The sequences of the records that name the entity, below `below`, in order. */
  entityRecords(entityId: string, below: number): Promise<number[]>;
  /**
   * Writes the snapshot and what it needs in one transaction; 'fresh' replaces whatever the
   * partition has (after a full read). Otherwise `writes` are what changed since the snapshot of
   * tree size `expected`, and they are written over any stored snapshot of the same chain from
   * `expected` up to this one's size: writing them over it gives this one's rows (every row a
   * record in between changed is among them). See SnapshotCommit for when nothing is written.
   */
  commit(expected: number | 'fresh', writes: SnapshotWrites, snapshot: SignedSnapshot): Promise<SnapshotCommit>;
}

/**
 * What a snapshot's commit did. Only 'written' wrote anything.
 * - 'busy': another session holds the partition's snapshot, as a writer that lost the
 *   partition does while paused in its own commit (frozen, or cut off from Kafka); waiting for
 *   it could take as long as the pause. The next snapshot takes these records.
 * - 'behind': the snapshot stored is of a larger tree (that other writer's, committed before it
 *   learnt it was fenced); the next snapshot, larger, is written over it.
 * - 'superseded': the snapshot stored is older than `expected` or gone (replaced after a full
 *   read): the rows these writes were computed on are not there any more.
 */
export type SnapshotCommit = 'written' | 'busy' | 'behind' | 'superseded';

/** The commit of a snapshot of the partition's tree of `size` records, given what is stored and the snapshot its writes were computed on. */
export function snapshotCommitOf(expected: number, stored: number | null, size: number): SnapshotCommit | null {
  if (stored === null || stored < expected) return 'superseded';
  if (stored > size) return 'behind';
  return null;
}

export interface SnapshotStore {
  partition(partition: number): PartitionSnapshots;
}

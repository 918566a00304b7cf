import { hexToBytes } from '@noble/hashes/utils.js';
import { BoundedCache } from '../ledger/bounded-cache.js';
import type { Checkpoint } from '../ledger/checkpoint-note.js';
import type { Hash } from '../ledger/hashing.js';
import type { StoredRecord } from '../ledger/ledger-record.js';
import { perfectNodesBelow, perfectNodesOfProofs, type Tile, TileSet } from '../ledger/merkle-tiles.js';
import { type EntityEntry, entityKey } from '../ledger/partition-state.js';
import type { PartitionSnapshots } from '../ledger/ports.js';
import { decodeRecord } from '../ledger/record-codec.js';
import { StateTreeIntegrityError, StateTreeLoader } from '../ledger/state-tree.js';
import { checkSnapshotNote, type SignedSnapshot, type SnapshotBody } from '../ledger/writer-snapshot.js';
import type { LedgerSource } from './partition-scan.js';

/** A stored snapshot whose note and body check out (checkSnapshotNote), with the checkpoint it signs. */
export interface CheckedSnapshot {
  readonly body: SnapshotBody;
  readonly checkpoint: Checkpoint;
  readonly snapshot: SignedSnapshot;
}

/** The store does not hold what a snapshot commits to, or no longer: the view cannot stand for a full read. */
export class SnapshotViewError extends Error {
  override name = 'SnapshotViewError';
}

/**
 * What the verifier reads of a partition's writer snapshots (docs/attestation-format.md §1.1):
 * the newest snapshot, an entity's entry in its state tree, the entity's records before it and
 * the tiles of its Merkle tree. Nothing is taken as stored: the snapshot's note must be signed
 * by the ledger key, an entry is read through the state tree against the signed root, records
 * are held against the entry's head and count and against each other's links, and proofs made
 * from tiles against the signed root (by the caller, ProofsCheck).
 */
export class SnapshotView {
  /** Nodes by path of the tree of one state root (the store keeps the newest tree only, by path). */
  private loader: { root: string; loader: StateTreeLoader } | null = null;

  constructor(
    readonly snapshots: PartitionSnapshots,
    private readonly source: LedgerSource,
    private readonly cacheNodes = 20_000,
  ) {}

  private loaderOf(root: string): StateTreeLoader {
    if (this.loader?.root !== root) {
      this.loader = { root, loader: new StateTreeLoader(this.snapshots, new BoundedCache(this.cacheNodes)) };
    }
    return this.loader.loader;
  }

  get partition(): number {
    return this.snapshots.partition;
  }

  /** The newest snapshot stored when it checks out by itself; null when there is none; SnapshotViewError when it does not. */
  async latest(): Promise<CheckedSnapshot | null> {
    const snapshot = await this.snapshots.latest();
    if (!snapshot) return null;
    const checked = checkSnapshotNote(snapshot, {
      ledgerId: this.source.ledgerId,
      partition: this.partition,
      verifier: this.source.ledgerKey,
    });
    if ('problem' in checked) throw new SnapshotViewError(`partition ${this.partition}: ${checked.problem}`);
    return { body: snapshot.body, checkpoint: checked.checkpoint, snapshot };
  }

  /** The entities' entries in the snapshot's state tree, verified against its root (null: no record of it). */
  async entries(snapshot: CheckedSnapshot, entityIds: readonly string[]): Promise<Map<string, EntityEntry | null>> {
    const keys = entityIds.map((id) => hexToBytes(entityKey(id)));
    let tree;
    try {
      tree = await this.loaderOf(snapshot.body.stateRoot).load(hexToBytes(snapshot.body.stateRoot), keys, true);
    } catch (error) {
      throw asViewError(error);
    }
    const entries = new Map<string, EntityEntry | null>();
    entityIds.forEach((id, i) => {
      let value;
      try {
        value = tree.get(keys[i] as Uint8Array);
      } catch (error) {
        throw asViewError(error);
      }
      entries.set(id, value === undefined ? null : (JSON.parse(new TextDecoder().decode(value)) as EntityEntry));
    });
    return entries;
  }

  /**
   * Each entity's head just before `position` (the hash of its last record with a lower
   * sequence; null: none), from the snapshot's entry: where the entity has records from
   * `position` to the snapshot, they are walked back by their own links.
   */
  async headsBefore(
    snapshot: CheckedSnapshot,
    entityIds: readonly string[],
    position: number,
  ): Promise<Map<string, Hash | null>> {
    const heads = new Map<string, Hash | null>();
    for (const [id, entry] of await this.entries(snapshot, entityIds)) {
      if (!entry || entry.last < position) {
        heads.set(id, entry?.head ?? null);
        continue;
      }
      const history = await this.history(snapshot, id, entry);
      const before = history.filter((stored) => stored.record.sequence < position).at(-1);
      heads.set(id, before?.hash ?? null);
    }
    return heads;
  }

  /**
   * The entity's records up to the snapshot, in order: as many as its entry counts, the last
   * its head, each linked to the one before it and the first to none.
   */
  async history(snapshot: CheckedSnapshot, entityId: string, entry?: EntityEntry | null): Promise<StoredRecord[]> {
    // The entry and the record index at once: two round trips in one.
    const [found, sequences] = await Promise.all([
      entry === undefined ? this.entries(snapshot, [entityId]).then((entries) => entries.get(entityId)) : entry,
      this.snapshots.entityRecords(entityId, snapshot.body.treeSize + 1),
    ]);
    if (!found) {
      if (sequences.length > 0)
        throw new SnapshotViewError(
          `partition ${this.partition}, entity ${entityId}: the snapshot holds no entry, the store lists ${sequences.length} records`,
        );
      return [];
    }
    const where = `partition ${this.partition}, entity ${entityId}`;
    if (sequences.length !== found.count || sequences.at(-1) !== found.last) {
      throw new SnapshotViewError(
        `${where}: the snapshot counts ${found.count} records up to ${found.last}; the store lists ${sequences.length}`,
      );
    }
    const stored = await this.records(sequences);
    let previous: StoredRecord | null = null;
    for (const record of stored) {
      const link = record.record.entities.find((entity) => entity.id === entityId);
      if (link?.previousHash !== (previous?.hash ?? null)) {
        const before = previous ? `record ${previous.record.sequence}, the one before it` : 'no record before it';
        throw new SnapshotViewError(`${where}: record ${record.record.sequence} does not link to ${before}`);
      }
      previous = record;
    }
    if ((previous?.hash ?? null) !== found.head)
      throw new SnapshotViewError(`${where}: its records do not end at the head the snapshot holds`);
    return stored;
  }

  /** Records by sequence, decoded (their hashes are recomputed); SnapshotViewError for one missing or not well-formed. */
  async records(sequences: readonly number[]): Promise<StoredRecord[]> {
    const rows = await this.snapshots.records(sequences);
    return sequences.map((sequence) => {
      const row = rows.get(sequence);
      if (!row) throw new SnapshotViewError(`partition ${this.partition}: the store lost record ${sequence}`);
      let decoded;
      try {
        decoded = decodeRecord(row.bytes);
      } catch (error) {
        throw new SnapshotViewError(
          `partition ${this.partition}: record ${sequence} is not well-formed: ${(error as Error).message}`,
        );
      }
      if (decoded.record.sequence !== sequence || decoded.record.partition !== this.partition) {
        throw new SnapshotViewError(`partition ${this.partition}: the store holds another record as ${sequence}`);
      }
      return { partition: this.partition, offset: row.offset, record: decoded.record, hash: decoded.hash };
    });
  }

  /** The tiles that proofs of these leaves (and consistency from these sizes) read, in a tree of `size`. */
  async tiles(
    snapshot: CheckedSnapshot,
    leaves: readonly number[],
    size: number,
    fromSizes: readonly number[],
  ): Promise<TileSet> {
    const stored = snapshot.body.treeSize + 1;
    const proved = [
      perfectNodesOfProofs(leaves, size, null),
      ...fromSizes.map((from) => perfectNodesOfProofs([], size, from)),
    ].flat();
    // A node across the snapshot's size is hashed from its part below (tiles) and above (the tail).
    const nodes = perfectNodesBelow(proved, stored);
    const tiles: Map<string, Tile> = await this.snapshots.tiles(TileSet.needed(stored, nodes));
    return new TileSet(stored, tiles);
  }
}

function asViewError(error: unknown): unknown {
  return error instanceof StateTreeIntegrityError ? new SnapshotViewError(error.message) : error;
}

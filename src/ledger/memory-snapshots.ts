import { type Tile, tileKey } from './merkle-tiles.js';
import {
  type PartitionSnapshots,
  type SnapshotCommit,
  snapshotCommitOf,
  type SnapshotStore,
  type SnapshotWrites,
} from './ports.js';
import type { SignedSnapshot } from './writer-snapshot.js';

/**
 * Writer snapshots kept in this process's memory: for a writer given no store (specs, the test
 * vectors' generator, tools), where nothing outlives the process anyway. Production keeps them
 * in PostgreSQL (adapters/postgres-snapshots.ts).
 */
export class MemorySnapshotStore implements SnapshotStore {
  private readonly partitions = new Map<number, MemoryPartitionSnapshots>();

  partition(partition: number): MemoryPartitionSnapshots {
    let found = this.partitions.get(partition);
    if (!found) {
      found = new MemoryPartitionSnapshots(partition);
      this.partitions.set(partition, found);
    }
    return found;
  }
}

export class MemoryPartitionSnapshots implements PartitionSnapshots {
  snapshot: SignedSnapshot | null = null;
  readonly nodeRows = new Map<string, Uint8Array>();
  readonly valueRows = new Map<string, Uint8Array>();
  readonly tileRows = new Map<string, Tile>();
  readonly recordRows = new Map<number, { offset: string; bytes: Uint8Array }>();
  readonly entityRows = new Map<string, number[]>();
  commits = 0;

  constructor(readonly partition: number) {}

  latest(): Promise<SignedSnapshot | null> {
    return Promise.resolve(this.snapshot);
  }

  nodes(paths: readonly string[]): Promise<Map<string, Uint8Array>> {
    return Promise.resolve(pick(this.nodeRows, paths));
  }

  values(keys: readonly string[]): Promise<Map<string, Uint8Array>> {
    return Promise.resolve(pick(this.valueRows, keys));
  }

  tiles(coordinates: readonly { level: number; index: number }[]): Promise<Map<string, Tile>> {
    return Promise.resolve(
      pick(
        this.tileRows,
        coordinates.map(({ level, index }) => tileKey(level, index)),
      ),
    );
  }

  records(sequences: readonly number[]): Promise<Map<number, { offset: string; bytes: Uint8Array }>> {
    return Promise.resolve(pick(this.recordRows, sequences));
  }

  entityRecords(entityId: string, below: number): Promise<number[]> {
    return Promise.resolve((this.entityRows.get(entityId) ?? []).filter((sequence) => sequence < below));
  }

  commit(expected: number | 'fresh', writes: SnapshotWrites, snapshot: SignedSnapshot): Promise<SnapshotCommit> {
    if (expected === 'fresh') {
      for (const rows of [this.nodeRows, this.valueRows, this.tileRows, this.recordRows, this.entityRows]) rows.clear();
    } else {
      const refused = snapshotCommitOf(expected, this.snapshot?.body.treeSize ?? null, snapshot.body.treeSize);
      if (refused) return Promise.resolve(refused);
    }
    for (const [path, node] of writes.nodes) if (node) this.nodeRows.set(path, node);
    for (const [key, value] of writes.values) this.valueRows.set(key, value);
    for (const tile of writes.tiles) this.tileRows.set(tileKey(tile.level, tile.index), tile);
    for (const { sequence, offset, bytes, entityIds } of writes.records) {
      this.recordRows.set(sequence, { offset, bytes });
      for (const id of entityIds) {
        const list = this.entityRows.get(id) ?? [];
        if (!list.includes(sequence)) list.push(sequence);
        this.entityRows.set(id, list);
      }
    }
    this.snapshot = snapshot;
    this.commits += 1;
    return Promise.resolve('written');
  }
}

function pick<K, V>(rows: ReadonlyMap<K, V>, keys: readonly K[]): Map<K, V> {
  const found = new Map<K, V>();
  for (const key of keys) {
    const value = rows.get(key);
    if (value !== undefined) found.set(key, value);
  }
  return found;
}

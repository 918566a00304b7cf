import { describe, expect, it } from '@jest/globals';
import { canonicalBytes } from './canonical-json.js';
import { CheckpointSigner, CheckpointVerifier } from './checkpoint-note.js';
import { MemoryPartitionSnapshots } from './memory-snapshots.js';
import { TileWriter } from './merkle-tiles.js';
import { entityKey, type EntityEntry, PartitionState } from './partition-state.js';
import { EMPTY_ROOT, StateTree } from './state-tree.js';
import type { SnapshotBody } from './writer-snapshot.js';

const signer = new CheckpointSigner('custodian/unit', new Uint8Array(32).fill(7));
const verifier = new CheckpointVerifier(signer.keyName, signer.publicKey);

/** Snapshot rows in memory whose next node read answers only when the test lets it. */
class HeldSnapshots extends MemoryPartitionSnapshots {
  holdNext = false;
  private held: (() => void) | null = null;

  override nodes(paths: readonly string[]): Promise<Map<string, Uint8Array>> {
    const answer = super.nodes(paths);
    if (!this.holdNext) return answer;
    this.holdNext = false;
    return new Promise((resolve) => {
      this.held = () => {
        void answer.then(resolve);
      };
    });
  }

  letGo(): void {
    this.held?.();
    this.held = null;
  }
}

const entry = (n: number): EntityEntry => ({ head: n.toString(16).padStart(64, '0'), last: n, count: 1 });

describe('PartitionState.load', () => {
  it('reads again from the store an entry that was cached when the load began and evicted while it read the others', async () => {
    const snapshots = new HeldSnapshots(0);
    // A signed snapshot's state tree in the store, with five entities.
    const ids = ['A', 'X', 'Y', 'Z', 'W'];
    const { tree, writes } = new StateTree({ node: () => undefined, value: () => undefined }, EMPTY_ROOT).update(
      new Map(ids.map((id, n) => [entityKey(id), canonicalBytes(entry(n + 1))])),
    );
    for (const [path, node] of writes.nodes) if (node) snapshots.nodeRows.set(path, node);
    for (const [key, value] of writes.values) snapshots.valueRows.set(key, value);
    const body = { treeSize: 10, stateRoot: Buffer.from(tree.root).toString('hex') } as SnapshotBody;
    const state = new PartitionState(
      { ledgerId: 'unit', partition: 0, snapshots, verifier, cacheEntries: 2 },
      { body, tiles: TileWriter.empty() },
    );

    // A is in the cache; a batch loads A and X: only X is read, and its read is held.
    (await state.load(['A'])).release();
    snapshots.holdNext = true;
    const loading = state.load(['A', 'X']);
    // Meanwhile two other batches load and release Y and Z: the cache of two evicts A.
    (await state.load(['Y'])).release();
    (await state.load(['Z'])).release();
    snapshots.letGo();
    const lease = await loading;
    // A is what the store holds, not "no record yet".
    expect(state.entity('A')).toEqual(entry(1));
    expect(state.entity('X')).toEqual(entry(2));
    lease.release();
  });
});

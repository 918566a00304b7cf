import { describe, expect, it } from '@jest/globals';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { readFileSync } from 'node:fs';
import { buildSnapshotVectors, type SnapshotVectors } from '../../test/vectors/snapshot-vectors.js';
import { canonicalize } from './canonical-json.js';
import { CheckpointVerifier, noteText, type SignedCheckpoint } from './checkpoint-note.js';
import { compactRangeOf, TILE_WIDTH } from './merkle-tiles.js';
import { leafHash } from './merkle-tree.js';
import { entityKey, eventKey } from './partition-state.js';
import { decodeRecord } from './record-codec.js';
import { StateTree, StateTreeIntegrityError } from './state-tree.js';
import { checkSnapshot, checkSnapshotNote, type SignedSnapshot, type SnapshotBody, snapshotHash } from './writer-snapshot.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../test/vectors/snapshot-v1.json', import.meta.url), 'utf8'),
) as SnapshotVectors;
const verifier = CheckpointVerifier.fromVerifierKey(vectors.key.verifierKey);
const context = { ledgerId: vectors.ledgerId, partition: vectors.partition, verifier };

/** The bytes of the record the vectors' topic holds at an offset, or undefined (none, or truncated there). */
function recordAt(offset: string, truncatedAt: string | null = null): Uint8Array | undefined {
  if (truncatedAt !== null && BigInt(offset) >= BigInt(truncatedAt)) return undefined;
  const found = vectors.records.find((record) => record.offset === offset);
  return found ? utf8ToBytes(found.canonical) : undefined;
}

/** The state tree the vectors store, read through a store that may be changed. */
function storedTree(change?: { path?: string; key?: string }): StateTree {
  const nodes = new Map(vectors.stateTree.nodes.map(({ path, node }) => [path, hexToBytes(node)]));
  const values = new Map(vectors.stateTree.entries.map(({ key, value }) => [key, utf8ToBytes(value)]));
  if (change?.path !== undefined) {
    const node = nodes.get(change.path) as Uint8Array;
    node[node.length - 1] = (node[node.length - 1] ?? 0) ^ 1;
  }
  if (change?.key !== undefined) values.set(change.key, utf8ToBytes(`${vectors.stateTree.entries[0]?.value ?? ''} `));
  return new StateTree({ node: (path) => nodes.get(path), value: (key) => values.get(key) }, hexToBytes(vectors.stateTree.root));
}

describe('writer snapshot format v1 test vectors (test/vectors/snapshot-v1.json)', () => {
  it('are exactly what the implementation produces today (regenerate with npm run vectors only on purpose)', async () => {
    expect(JSON.parse(JSON.stringify(await buildSnapshotVectors()))).toEqual(vectors);
  });

  it('give the body its canonical text and its hash under the snapshot domain', () => {
    const { body, canonical, hash } = vectors.snapshot;
    expect(new TextDecoder().decode(hexToBytes(vectors.snapshotHash.domainHex))).toBe('custodian.ledger.snapshot.v1\0');
    expect(canonicalize(body)).toBe(canonical);
    expect(snapshotHash(body)).toBe(hash);
  });

  it('sign the checkpoint note text and the snapshot line with the ledger key, in one signature', () => {
    const { body, checkpointNoteText, noteText: text, note, hash } = vectors.snapshot;
    const checkpoint = decodeRecord(recordAt(body.checkpointOffset) as Uint8Array).record.payload as unknown as SignedCheckpoint;
    expect(noteText(checkpoint)).toBe(checkpointNoteText);
    expect(text).toBe(`${checkpointNoteText}snapshot ${hash}\n`);
    expect(note.startsWith(`${text}\n\u2014 custodian/vectors `)).toBe(true);
    expect(verifier.problemWithNote(note, text)).toBeUndefined();
  });

  it('hold a snapshot that a start takes: its checkpoint is the topic record at its offset, its frontier the signed root', () => {
    const { body, note } = vectors.snapshot;
    const checked = checkSnapshot(
      { body, note },
      { ...context, genesis: vectors.records[0]?.hash, recordAt: recordAt(body.checkpointOffset) },
    );
    if ('problem' in checked) throw new Error(checked.problem);
    expect(checked.nextOffset).toBe(String(BigInt(body.checkpointOffset) + 1n));
    expect(checked.tree.size).toBe(body.treeSize + 1);
    expect(body.frontier).toEqual(compactRangeOf(vectors.records.slice(0, body.treeSize).map((r) => r.hash)).nodes);
    expect('problem' in checkSnapshotNote({ body, note }, context)).toBe(false);
  });

  it('hold a state tree whose nodes and values verify against the signed root, and a change to any of them does not', () => {
    const tree = storedTree();
    for (const { kind, name, key, value } of vectors.stateTree.entries) {
      expect(kind === 'entity' ? entityKey(name) : eventKey(name)).toBe(key);
      expect(new TextDecoder().decode(tree.get(hexToBytes(key)))).toBe(value);
      expect(canonicalize(JSON.parse(value))).toBe(value);
    }
    for (const { path } of vectors.stateTree.nodes) {
      const key = vectors.stateTree.entries.find((entry) => entry.key.startsWith(path))?.key as string;
      expect(() => storedTree({ path }).get(hexToBytes(key))).toThrow(StateTreeIntegrityError);
    }
    const first = vectors.stateTree.entries[0]?.key as string;
    expect(() => storedTree({ key: first }).get(hexToBytes(first))).toThrow(StateTreeIntegrityError);
  });

  it('hold the tiles of the records up to the checkpoint record, its own leaf included', () => {
    const { body } = vectors.snapshot;
    const leaves = vectors.records.slice(0, body.treeSize + 1).map((record) => bytesToHex(leafHash(record.hash)));
    expect(leaves.length).toBeLessThan(TILE_WIDTH);
    expect(vectors.tiles).toEqual([{ level: 0, index: 0, hashes: leaves }]);
  });

  it.each(vectors.refused.map((refused) => [refused.name, refused] as const))('refuse %s', (_, refused) => {
    const snapshot = { body: refused.body as SnapshotBody, note: refused.note } satisfies SignedSnapshot;
    const checked = checkSnapshot(snapshot, {
      ...context,
      genesis: refused.genesisPin ?? undefined,
      recordAt: recordAt(snapshot.body.checkpointOffset, refused.truncatedAt),
    });
    expect('problem' in checked).toBe(true);
  });
});

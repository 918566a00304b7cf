import { beforeAll, describe, expect, it } from '@jest/globals';
import { sequentialIds, startMemoryWriter, writerIdle } from '../../test/support/memory-ledger.js';
import { canonicalBytes } from './canonical-json.js';
import { type ChainBreak, ChainVerifier } from './chain-verifier.js';
import { checkpointEventId, CheckpointSigner, CheckpointVerifier } from './checkpoint-note.js';
import type { LedgerRecord } from './ledger-record.js';
import { merkleRoot } from './merkle-tree.js';
import type { StoredEntry } from './ports.js';
import { decodeRecord, encodeRecord } from './record-codec.js';

const signer = new CheckpointSigner(
  'custodian/unit',
  Uint8Array.from({ length: 32 }, (_, i) => 200 - i),
);
const verifierKey = new CheckpointVerifier(signer.keyName, signer.publicKey);
let original: StoredEntry[];

/**
 * A real chain of 15 records. The first append of each group runs alone and the rest queue
 * behind it: genesis 0 + checkpoint 1 | a 2 + cp 3 | b 4, a 5 + cp 6 | c 7 + cp 8 |
 * a 9 + cp 10 | b 11, c 12, a 13 + cp 14.
 */
beforeAll(async () => {
  const ids = sequentialIds(3);
  const { writer, log } = await startMemoryWriter('unit', signer, { idPrefix: 4 });
  const append = (entity: string, n: number) =>
    writer.append({
      eventId: ids(),
      eventType: 'custody.receive',
      entityIds: [entity],
      occurredAt: '2026-11-26T07:00:00Z',
      actor: 'op',
      payload: { n },
    });
  for (const group of [['a', 'b', 'a'], ['c'], ['a', 'b', 'c', 'a']]) {
    await Promise.all(group.map((entity, i) => append(entity, i)));
    await writerIdle();
  }
  original = log.values();
});

function run(entries: readonly StoredEntry[], genesisHash?: string): ChainBreak | 'verified' {
  const verifier = new ChainVerifier({ ledgerId: 'unit', partition: 0, verifier: verifierKey, genesisHash });
  for (const entry of entries) {
    const result = verifier.push(entry.offset, entry.value);
    if ('break' in result) return result.break;
  }
  return verifier.end() ?? 'verified';
}

/** Lays the values out again at dense offsets, as a copy into a fresh topic would. */
function relaid(values: readonly Uint8Array[]): StoredEntry[] {
  return values.map((value, i) => ({ offset: String(i), value }));
}

function recordAt(i: number): LedgerRecord {
  return decodeRecord(original[i]!.value).record;
}

describe('ChainVerifier', () => {
  it('verifies a chain the writer wrote, releasing records only with their checkpoint', () => {
    const verifier = new ChainVerifier({ ledgerId: 'unit', partition: 0, verifier: verifierKey });
    const released: number[] = [];
    for (const entry of original) {
      const result = verifier.push(entry.offset, entry.value);
      if ('break' in result) throw new Error(result.break.message);
      released.push(result.verified.length);
    }
    expect(original).toHaveLength(15);
    expect(released.map((n, offset) => [offset, n]).filter(([, n]) => n! > 0)).toEqual([
      [1, 2],
      [3, 2],
      [6, 3],
      [8, 2],
      [10, 2],
      [14, 4],
    ]);
    expect(verifier.head().nextSequence).toBe(15);
  });

  it('resumes from a verified head and verifies only what follows it', () => {
    const first = new ChainVerifier({ ledgerId: 'unit', partition: 0, verifier: verifierKey });
    for (const entry of original.slice(0, 9)) expect('break' in first.push(entry.offset, entry.value)).toBe(false);
    const head = first.head();
    expect(head).toMatchObject({ nextSequence: 9, nextOffset: '9' });

    const resumed = new ChainVerifier({ ledgerId: 'unit', partition: 0, verifier: verifierKey, resumeFrom: head });
    const released = original.slice(9).flatMap((entry) => {
      const result = resumed.push(entry.offset, entry.value);
      if ('break' in result) throw new Error(result.break.message);
      return result.verified.map((r) => r.record.sequence);
    });
    expect(released).toEqual([9, 10, 11, 12, 13, 14]);
    expect(resumed.end()).toBeNull();
    // Entity links reach back across the resume point: record 9 links to entity a's record 5.
    expect(resumed.head().entityHeads.get('a')).toBe(decodeRecord(original[13]!.value).hash);
  });

  it('names a modified payload at its own offset, with the linked and the found hash', () => {
    const values = original.map((e) => e.value);
    const record = recordAt(5);
    const changed = encodeRecord({ ...record, payload: { n: 999 } });
    values[5] = changed.bytes;
    expect(run(relaid(values))).toMatchObject({
      kind: 'modified',
      offset: '5',
      sequence: 5,
      expected: decodeRecord(original[5]!.value).hash,
      found: changed.hash,
    });
  });

  it('names a record missing from the middle where the chain links to it', () => {
    const values = original.map((e) => e.value);
    values.splice(5, 1);
    expect(run(relaid(values))).toMatchObject({
      kind: 'missing',
      offset: '5',
      sequence: 6,
      expected: decodeRecord(original[5]!.value).hash,
    });
  });

  it('names a duplicated record at the copy', () => {
    const values = original.map((e) => e.value);
    values.splice(6, 0, values[5]!);
    expect(run(relaid(values))).toMatchObject({ kind: 'duplicate', offset: '6', sequence: 5 });
  });

  it('names a replay of an already verified record', () => {
    const values = [...original.map((e) => e.value), original[3]!.value];
    expect(run(relaid(values))).toMatchObject({ kind: 'duplicate', offset: '15', sequence: 3 });
  });

  it('names records out of order at the one that stands too early', () => {
    const values = original.map((e) => e.value);
    [values[4], values[5]] = [values[5]!, values[4]!];
    expect(run(relaid(values))).toMatchObject({ kind: 'out-of-order', offset: '4', sequence: 5 });
  });

  it('names a record injected with a correct-looking previous hash', () => {
    const values = original.map((e) => e.value);
    const head = recordAt(4);
    const forged = encodeRecord({
      ...recordAt(5),
      eventId: '00000000-0000-4000-8000-0000000000ff',
      previousHash: decodeRecord(original[4]!.value).hash,
      sequence: head.sequence + 1,
      payload: { injected: true },
    });
    values.splice(5, 0, forged.bytes);
    expect(run(relaid(values))).toMatchObject({ kind: 'injected', offset: '5', sequence: 5, found: forged.hash });
  });

  it('names a record swapped with the checkpoint after it as out of order at the checkpoint', () => {
    const values = original.map((e) => e.value);
    [values[5], values[6]] = [values[6]!, values[5]!];
    expect(run(relaid(values))).toMatchObject({ kind: 'out-of-order', offset: '5', sequence: 6 });
  });

  it('names a checkpoint swapped with the first record of the next batch as out of order at that record', () => {
    const values = original.map((e) => e.value);
    [values[6], values[7]] = [values[7]!, values[6]!];
    expect(run(relaid(values))).toMatchObject({ kind: 'out-of-order', offset: '6', sequence: 7 });
  });

  it('names a record whose sequence member was changed as modified, at its offset', () => {
    const values = original.map((e) => e.value);
    values[5] = encodeRecord({ ...recordAt(5), sequence: 6 }).bytes;
    expect(run(relaid(values))).toMatchObject({ kind: 'modified', offset: '5', expected: decodeRecord(original[5]!.value).hash });
  });

  it('names the last record missing before a checkpoint', () => {
    const values = original.map((e) => e.value);
    values.splice(13, 1);
    expect(run(relaid(values))).toMatchObject({ kind: 'missing', offset: '13', sequence: 14 });
  });

  it('names a checkpoint with a bad signature', () => {
    const values = original.map((e) => e.value);
    const checkpoint = recordAt(8);
    const payload = { ...checkpoint.payload, signature: Buffer.alloc(64, 1).toString('base64') };
    values[8] = canonicalBytes({ ...checkpoint, payload });
    expect(run(relaid(values))).toMatchObject({ kind: 'checkpoint', offset: '8', sequence: 8 });
  });

  it('names records at the end that no checkpoint covers', () => {
    const values = original.map((e) => e.value).slice(0, 14);
    expect(run(relaid(values))).toMatchObject({ kind: 'uncovered', offset: '11', sequence: 11 });
  });

  it('names a broken entity link even in a chain re-signed with the writer key', () => {
    // Someone holding the key rewrites record 9 so that entity "a" skips its previous record.
    const rebuilt: Uint8Array[] = [];
    let previousHash: string | null = null;
    for (let i = 0; i < original.length; i++) {
      let record = { ...recordAt(i), previousHash } as LedgerRecord;
      if (i === 9) record = { ...record, entities: [{ id: 'a', previousHash: null }] };
      if (record.eventType === 'ledger.checkpoint') {
        const hashes = rebuilt.map((bytes) => decodeRecord(bytes).hash);
        const { treeSize, origin, time } = record.payload as { treeSize: number; origin: string; time: string };
        const tree = hashes.slice(0, treeSize);
        const signed = signer.sign({ origin, time, treeSize, rootHash: merkleRoot(tree), headHash: tree.at(-1)! });
        record = { ...record, eventId: checkpointEventId(signed), payload: { ...signed } };
      }
      const encoded = encodeRecord(record);
      rebuilt.push(encoded.bytes);
      previousHash = encoded.hash;
    }
    expect(run(relaid(rebuilt))).toMatchObject({ kind: 'entity-link', offset: '9', sequence: 9, entityId: 'a', found: 'null' });
  });

  it('names the last checkpoint when a member its signature does not cover was changed', () => {
    const last = recordAt(14);
    for (const change of [
      { actor: 'someone-else' },
      { eventId: '00000000-0000-4000-8000-00000000dead' },
      { entities: [{ id: 'a', previousHash: null }] },
    ]) {
      const values = original.map((e) => e.value);
      values[14] = canonicalBytes({ ...last, ...change });
      expect(run(relaid(values))).toMatchObject({ kind: 'checkpoint', offset: '14', sequence: 14 });
    }
    const values = original.map((e) => e.value);
    const payload = { ...last.payload, note: `${(last.payload as { note: string }).note}unsigned extra line\n` };
    values[14] = canonicalBytes({ ...last, payload });
    expect(run(relaid(values))).toMatchObject({
      kind: 'checkpoint',
      offset: '14',
      message: expect.stringMatching(/exactly one signature line/),
    });
  });

  it('names an emptied partition whose genesis is pinned', () => {
    expect(run([], decodeRecord(original[0]!.value).hash)).toMatchObject({ kind: 'genesis', found: 'an empty partition' });
  });

  it('names a genesis that is not the pinned one', () => {
    expect(run(original, 'f'.repeat(64))).toMatchObject({ kind: 'genesis', offset: '0', expected: 'f'.repeat(64) });
  });

  it('names a record that is not canonical JSON as malformed', () => {
    const values = original.map((e) => e.value);
    values[3] = new TextEncoder().encode(JSON.stringify(recordAt(3), null, 1));
    expect(run(relaid(values))).toMatchObject({ kind: 'malformed', offset: '3', message: expect.stringMatching(/canonical/) });
  });
});

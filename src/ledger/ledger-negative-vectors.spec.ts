import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  buildNegativeLedgerVectors,
  type ExpectedFinding,
  type NegativeLedgerVectors,
  type VectorEntry,
} from '../../test/vectors/ledger-negative-vectors.js';
import { ChainVerifier } from './chain-verifier.js';
import { CheckpointVerifier } from './checkpoint-note.js';
import { MerkleProofs, verifyConsistency } from './merkle-tree.js';
import { decodeRecord } from './record-codec.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../test/vectors/ledger-v1-negative.json', import.meta.url), 'utf8'),
) as NegativeLedgerVectors;
const key = CheckpointVerifier.fromVerifierKey(vectors.key.verifierKey);

const bytesOf = (entry: VectorEntry): Uint8Array =>
  'value' in entry ? new TextEncoder().encode(entry.value) : new Uint8Array(Buffer.from(entry.valueBase64, 'base64'));

/** What ChainVerifier reports first for the partition, in the vectors' terms; null when it verifies. */
function firstFinding(entries: readonly VectorEntry[], genesisPin: string | null): ExpectedFinding | null {
  const verifier = new ChainVerifier({
    ledgerId: vectors.ledgerId,
    partition: vectors.partition,
    verifier: key,
    genesisHash: genesisPin ?? undefined,
  });
  for (const entry of entries) {
    const result = verifier.push(entry.offset, bytesOf(entry));
    if ('break' in result) break;
  }
  const problem = verifier.end();
  if (!problem) return null;
  const { kind, offset, sequence, entityId } = problem;
  return { kind, offset, sequence, ...(entityId === undefined ? {} : { entityId }) };
}

describe('ledger format v1 negative vectors (test/vectors/ledger-v1-negative.json)', () => {
  it('are exactly what the generator builds today (regenerate with npm run vectors only on purpose)', async () => {
    expect(JSON.parse(JSON.stringify(await buildNegativeLedgerVectors()))).toEqual(vectors);
  });

  it('hold an honest partition that verifies against its genesis pin', () => {
    expect(firstFinding(vectors.honest.entries, vectors.honest.genesisPin)).toBeNull();
    expect(vectors.honest.entries).toHaveLength(10);
  });

  it('cover every failure kind of §7 with a tampered partition', () => {
    const kinds = new Set(vectors.cases.map((item) => item.firstFinding?.kind));
    expect([...kinds].filter((kind) => kind !== undefined).sort()).toEqual(
      [
        'checkpoint',
        'duplicate',
        'entity-link',
        'foreign',
        'genesis',
        'injected',
        'malformed',
        'missing',
        'modified',
        'out-of-order',
        'sequence',
        'uncovered',
      ].sort(),
    );
  });

  it.each(vectors.cases.map((item) => [item.name, item] as const))(
    'gets ChainVerifier to report the first finding given for %s',
    (_, item) => {
      expect(firstFinding(item.entries, item.genesisPin)).toEqual(item.firstFinding);
    },
  );

  it('read the verifier keys they read, and refuse the others', () => {
    for (const { verifierKey, reads } of vectors.verifierKeys) {
      if (reads === null) {
        expect(() => CheckpointVerifier.fromVerifierKey(verifierKey)).toThrow();
        continue;
      }
      const read = CheckpointVerifier.fromVerifierKey(verifierKey);
      expect({ keyName: read.keyName, keyId: read.keyId, publicKeyHex: Buffer.from(read.publicKey).toString('hex') }).toEqual(
        reads,
      );
    }
  });
});

describe('consistency proofs of the negative vectors', () => {
  const honestHashes = vectors.honest.entries.map((entry) => decodeRecord(bytesOf(entry)).hash);
  const proofs = MerkleProofs.of(honestHashes);

  it.each(vectors.witness.consistency.map((item) => [item.why, item] as const))(
    'checks the proof %s as the vector says',
    (_, { fromTreeSize, toTreeSize, fromRootHash, toRootHash, proof, valid }) => {
      expect(verifyConsistency(fromTreeSize, toTreeSize, fromRootHash, toRootHash, proof)).toBe(valid);
    },
  );

  it('give, where they are valid, the proofs the honest tree gives between those sizes', () => {
    for (const { fromTreeSize, toTreeSize, fromRootHash, toRootHash, proof, valid } of vectors.witness.consistency) {
      if (!valid) continue;
      expect(proofs.root(fromTreeSize)).toBe(fromRootHash);
      expect(proofs.root(toTreeSize)).toBe(toRootHash);
      expect(proofs.consistencyProof(fromTreeSize, toTreeSize)).toEqual(proof);
    }
  });
});

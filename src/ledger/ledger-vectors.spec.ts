import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { buildLedgerVectors, type LedgerVectors } from '../../test/vectors/ledger-vectors.js';
import { canonicalize } from './canonical-json.js';
import { ChainVerifier } from './chain-verifier.js';
import { CheckpointVerifier, type SignedCheckpoint } from './checkpoint-note.js';
import { recordHash } from './hashing.js';
import { inclusionProof, merkleRoot, verifyInclusion } from './merkle-tree.js';
import { decodeRecord } from './record-codec.js';

const vectors = JSON.parse(readFileSync(new URL('../../test/vectors/ledger-v1.json', import.meta.url), 'utf8')) as LedgerVectors;
const encoder = new TextEncoder();

describe('ledger format v1 test vectors (test/vectors/ledger-v1.json)', () => {
  it('are exactly what the implementation produces today (regenerate with npm run vectors only on purpose)', async () => {
    expect(JSON.parse(JSON.stringify(await buildLedgerVectors()))).toEqual(vectors);
  });

  it('canonicalize every input to the canonical text given', () => {
    for (const { input, canonical } of vectors.canonicalization) expect(canonicalize(JSON.parse(input))).toBe(canonical);
  });

  it('give each record its canonical bytes and hash', () => {
    for (const { record, canonical, hash } of vectors.records) {
      expect(canonicalize(record)).toBe(canonical);
      expect(recordHash(encoder.encode(canonical))).toBe(hash);
      expect(decodeRecord(encoder.encode(canonical)).hash).toBe(hash);
    }
  });

  it('give the Merkle root of every tree size and a verifiable inclusion proof', () => {
    const { leaves, rootsBySize, inclusion } = vectors.merkle;
    expect(leaves.map((_, i) => merkleRoot(leaves.slice(0, i + 1)))).toEqual(rootsBySize);
    expect(inclusionProof(leaves.slice(0, inclusion.treeSize), inclusion.index)).toEqual(inclusion.proof);
    expect(verifyInclusion(leaves[inclusion.index]!, inclusion.index, inclusion.treeSize, inclusion.proof, inclusion.root)).toBe(
      true,
    );
  });

  it('hold a checkpoint signed by the published key, and a chain that verifies', () => {
    const verifier = CheckpointVerifier.fromVerifierKey(vectors.key.verifierKey);
    const checkpoint = vectors.records.at(-1)!.record as { payload: SignedCheckpoint };
    expect(checkpoint.payload.note).toBe(vectors.checkpoint.note);
    expect(verifier.problemWith(checkpoint.payload)).toBeUndefined();
    const chain = new ChainVerifier({ ledgerId: 'vectors', partition: 0, verifier });
    for (const { offset, canonical } of vectors.records)
      expect('break' in chain.push(offset, encoder.encode(canonical))).toBe(false);
    expect(chain.end()).toBeNull();
  });
});

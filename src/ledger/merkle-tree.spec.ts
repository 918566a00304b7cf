import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import {
  consistencyProof,
  inclusionProof,
  MerkleProofs,
  MerkleTree,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from './merkle-tree.js';

const hashes = Array.from({ length: 20 }, (_, i) => createHash('sha256').update(`record ${i}`).digest('hex'));

describe('MerkleTree (RFC 9162)', () => {
  it('gives the root of the empty tree as SHA-256 of nothing', () => {
    expect(MerkleTree.empty().root()).toBe(createHash('sha256').digest('hex'));
  });

  it('hashes a single leaf with the 0x00 prefix', () => {
    const tree = MerkleTree.empty();
    tree.append(hashes[0]!);
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.of(0), Buffer.from(hashes[0]!, 'hex')]))
      .digest('hex');
    expect(tree.root()).toBe(expected);
  });

  it('keeps the same root incrementally as computed from scratch, for every size', () => {
    const tree = MerkleTree.empty();
    hashes.forEach((hash, i) => {
      tree.append(hash);
      expect(tree.root()).toBe(merkleRoot(hashes.slice(0, i + 1)));
      expect(tree.size).toBe(i + 1);
    });
  });

  it('proves every leaf of every tree size, and refuses a wrong index, root or proof', () => {
    for (let size = 1; size <= hashes.length; size++) {
      const leaves = hashes.slice(0, size);
      const root = merkleRoot(leaves);
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(leaves, index);
        expect(verifyInclusion(leaves[index]!, index, size, proof, root)).toBe(true);
        if (size > 1) {
          expect(verifyInclusion(leaves[index]!, (index + 1) % size, size, proof, root)).toBe(false);
          expect(verifyInclusion(leaves[index]!, index, size, proof.slice(1), root)).toBe(false);
        }
        expect(verifyInclusion(leaves[index]!, index, size, proof, hashes[19]!)).toBe(false);
      }
    }
  });

  it('does not change a clone when the original grows', () => {
    const tree = MerkleTree.empty();
    tree.append(hashes[0]!);
    const copy = tree.clone();
    tree.append(hashes[1]!);
    expect(copy.size).toBe(1);
    expect(copy.root()).toBe(merkleRoot(hashes.slice(0, 1)));
  });

  it('goes on growing from its compact range as the tree it came from does', () => {
    const more = [...hashes, ...['a', 'b', 'c'].map((x) => createHash('sha256').update(x).digest('hex'))];
    for (const cut of [0, 1, 2, 7, 8, 13, 22]) {
      const tree = MerkleTree.empty();
      for (const hash of more.slice(0, cut)) tree.append(hash);
      const { size, nodes } = tree.toCompactRange();
      const restored = MerkleTree.fromCompactRange(size, nodes);
      for (const hash of more.slice(cut)) restored.append(hash);
      expect(restored.root()).toBe(merkleRoot(more));
    }
    expect(() => MerkleTree.fromCompactRange(3, [hashes[0]!])).toThrow(/2 nodes, not 1/);
  });

  it('proves every older tree consistent with every newer one, and no proof survives a change (RFC 9162 2.1.4)', () => {
    for (let n = 1; n <= hashes.length; n++) {
      const newRoot = merkleRoot(hashes.slice(0, n));
      for (let m = 1; m <= n; m++) {
        const oldRoot = merkleRoot(hashes.slice(0, m));
        const proof = consistencyProof(hashes.slice(0, n), m);
        expect({ m, n, ok: verifyConsistency(m, n, oldRoot, newRoot, proof) }).toEqual({ m, n, ok: true });
        if (m < n) {
          expect(verifyConsistency(m, n, merkleRoot(hashes.slice(1, m + 1)), newRoot, proof)).toBe(false);
          expect(verifyConsistency(m, n, oldRoot, merkleRoot(hashes.slice(1, n + 1)), proof)).toBe(false);
          for (let i = 0; i < proof.length; i++) {
            const bent = proof.map((node, j) => (j === i ? createHash('sha256').update(node).digest('hex') : node));
            expect(verifyConsistency(m, n, oldRoot, newRoot, bent)).toBe(false);
          }
        }
      }
    }
  });

  it('gives the consistency proofs of RFC 9162 shape: none for a tree with itself, one node for a full left subtree', () => {
    expect(consistencyProof(hashes.slice(0, 8), 8)).toEqual([]);
    expect(consistencyProof(hashes.slice(0, 8), 4)).toEqual([merkleRoot(hashes.slice(4, 8))]);
    expect(() => consistencyProof(hashes.slice(0, 8), 0)).toThrow(RangeError);
    expect(verifyConsistency(3, 2, merkleRoot(hashes.slice(0, 3)), merkleRoot(hashes.slice(0, 2)), [])).toBe(false);
  });

  it('answers roots and proofs for every smaller tree from one memoising instance, the same as from scratch', () => {
    // Perfect subtrees are shared between sizes; a right-edge subtree of one size must not leak into another.
    const proofs = MerkleProofs.of(hashes);
    for (const size of [20, 3, 16, 7, 1, 13, 20, 8]) {
      const prefix = hashes.slice(0, size);
      const tree = MerkleTree.empty(); // the incremental tree: another way to the same root
      for (const hash of prefix) tree.append(hash);
      const root = tree.root();
      expect(proofs.root(size)).toBe(root);
      for (let index = 0; index < size; index++) {
        expect(proofs.inclusionProof(index, size)).toEqual(inclusionProof(prefix, index));
        expect(verifyInclusion(hashes[index]!, index, size, proofs.inclusionProof(index, size), root)).toBe(true);
      }
      for (let old = 1; old <= size; old++) {
        expect(proofs.consistencyProof(old, size)).toEqual(consistencyProof(prefix, old));
        expect(verifyConsistency(old, size, proofs.root(old), root, proofs.consistencyProof(old, size))).toBe(true);
      }
    }
    expect(() => proofs.root(21)).toThrow(RangeError);
    expect(() => proofs.inclusionProof(5, 5)).toThrow(RangeError);
    expect(() => proofs.consistencyProof(0, 5)).toThrow(RangeError);
  });
});

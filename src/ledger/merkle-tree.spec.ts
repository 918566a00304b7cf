import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { inclusionProof, MerkleTree, merkleRoot, verifyInclusion } from './merkle-tree.js';

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
});

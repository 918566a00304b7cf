import { describe, expect, it } from '@jest/globals';
import { bytesToHex } from '@noble/hashes/utils.js';
import { sha256 } from './platform/sha256.js';
import { MerkleProofs, MerkleTree, verifyConsistency, verifyInclusion } from './merkle-tree.js';
import { perfectNodesOfProofs, type Tile, TileSet, tileKey, TileWriter } from './merkle-tiles.js';

const hashes = (n: number, from = 0): string[] =>
  Array.from({ length: n }, (_, i) => bytesToHex(sha256(new TextEncoder().encode(`record ${from + i}`))));

function written(recordHashes: readonly string[], flushEvery: number): Map<string, Tile> {
  const writer = TileWriter.empty();
  const store = new Map<string, Tile>();
  recordHashes.forEach((hash, i) => {
    writer.append(hash);
    if ((i + 1) % flushEvery === 0 || i === recordHashes.length - 1) {
      for (const tile of writer.take()) store.set(tileKey(tile.level, tile.index), tile);
    }
  });
  return store;
}

describe('Merkle tiles', () => {
  it("hold what the tree's proofs need: proofs made from tiles are the proofs made from every hash", () => {
    const all = hashes(70_000);
    const tiles = written(all, 777);
    // Level 0: 274 tiles (273 full, one of 112 hashes); level 1: 273 hashes, a full tile and one
    // of 17; level 2: the root of the first 65,536 records.
    expect(tiles.get(tileKey(0, 273))?.hashes.length).toBe(112 * 32);
    expect(tiles.get(tileKey(1, 0))?.hashes.length).toBe(256 * 32);
    expect(tiles.get(tileKey(1, 1))?.hashes.length).toBe(17 * 32);
    expect(tiles.get(tileKey(2, 0))?.hashes.length).toBe(32);
    expect(tiles.size).toBe(274 + 2 + 1);
    const direct = MerkleProofs.of(all);
    const size = 65_537;
    const set = new TileSet(all.length, tiles);
    let readHashes = 0;
    const fromTiles = new MerkleProofs(
      (i) => {
        readHashes += 1;
        return all[i];
      },
      all.length,
      (height, index) => set.perfectAt(height, index),
    );
    for (const leaf of [0, 1, 255, 256, 40_000, 65_535, 65_536]) {
      const proof = fromTiles.inclusionProof(leaf, size);
      expect(proof).toEqual(direct.inclusionProof(leaf, size));
      expect(verifyInclusion(all[leaf]!, leaf, size, proof, direct.root(size))).toBe(true);
    }
    for (const since of [1, 300, 65_536]) {
      const proof = fromTiles.consistencyProof(since, all.length);
      expect(proof).toEqual(direct.consistencyProof(since, all.length));
      expect(verifyConsistency(since, all.length, direct.root(since), direct.root(), proof)).toBe(true);
    }
    expect(fromTiles.root()).toBe(direct.root());
    // The tiles answered: no record hash was read one by one.
    expect(readHashes).toBe(0);
  });

  it('name the tiles a set of proofs reads', () => {
    const all = hashes(5_000);
    const tiles = written(all, 5_000);
    const nodes = perfectNodesOfProofs([17, 4_321], 5_000, 1_000);
    const needed = TileSet.needed(5_000, nodes);
    const only = new Map(needed.map(({ level, index }) => [tileKey(level, index), tiles.get(tileKey(level, index))!]));
    expect(only.size).toBeLessThan(tiles.size);
    const direct = MerkleProofs.of(all);
    const set = new TileSet(5_000, only);
    const proofs = new MerkleProofs(
      () => undefined,
      5_000,
      (h, i) => set.perfectAt(h, i),
    );
    expect(proofs.inclusionProof(17)).toEqual(direct.inclusionProof(17));
    expect(proofs.inclusionProof(4_321)).toEqual(direct.inclusionProof(4_321));
    expect(proofs.consistencyProof(1_000)).toEqual(direct.consistencyProof(1_000));
  });

  it('resume from stored partial tiles only when they give the compact range held, and go on as one writer would', () => {
    const all = hashes(1_000);
    const one = TileWriter.empty();
    for (const hash of all) one.append(hash);
    const tiles = written(all.slice(0, 600), 600);
    const tree = MerkleTree.empty();
    for (const hash of all.slice(0, 600)) tree.append(hash);
    const resumed = TileWriter.resume(600, tiles, tree.toCompactRange().nodes);
    for (const hash of all.slice(600)) resumed.append(hash);
    expect(resumed.compactRange()).toEqual(one.compactRange());
    for (const hash of all.slice(600)) tree.append(hash);
    expect(one.compactRange()).toEqual(tree.toCompactRange());

    // A changed hash in the partial tile: refused.
    const changed = new Map(tiles);
    const partial = tiles.get(tileKey(0, 2))!;
    const bytes = Uint8Array.from(partial.hashes);
    bytes[40] = (bytes[40] ?? 0) ^ 1;
    changed.set(tileKey(0, 2), { ...partial, hashes: bytes });
    const range = MerkleTree.empty();
    for (const hash of all.slice(0, 600)) range.append(hash);
    expect(() => TileWriter.resume(600, changed, range.toCompactRange().nodes)).toThrow(/compact range/);
    // A partial tile cut short: refused.
    changed.set(tileKey(0, 2), { ...partial, hashes: partial.hashes.slice(0, 32 * 80) });
    expect(() => TileWriter.resume(600, changed, range.toCompactRange().nodes)).toThrow(/does not hold 88 hashes/);
  });
});

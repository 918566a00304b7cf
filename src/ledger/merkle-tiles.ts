import { bytesToHex } from '@noble/hashes/utils.js';
import type { Hash } from './hashing.js';
import { leafHash, MerkleTree, nodeHash } from './merkle-tree.js';

/**
 * A partition's Merkle tree stored as tiles, as C2SP tlog-tiles lays a transparency log out
 * (docs/ledger-format.md §11.3): a tile of level L holds up to 256 consecutive hashes of the
 * tree at height 8L (level 0: the leaves' hashes; level 1: the roots of the perfect subtrees of
 * 256 leaves; and so on), tile N of a level the hashes N·256 to N·256 + 255. Any perfect subtree
 * root of height 8L + r is hashed from 2^r hashes of one tile of level L, so an inclusion or
 * consistency proof in a tree of n records reads about 2·log256(n) tiles, whatever n is.
 * The last tile of each level is partial; it is stored again each time it grows.
 */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;

export interface Tile {
  readonly level: number;
  readonly index: number;
  /** The tile's hashes, 32 bytes each, 1 to 256 of them. */
  readonly hashes: Uint8Array;
}

export const tileKey = (level: number, index: number): string => `${level}/${index}`;

/** The root of the perfect subtree of 2^r hashes that starts at hash `first` of a tile. */
export function hashUp(hashes: Uint8Array, first: number, r: number): Uint8Array {
  if (r === 0) return hashes.slice(first * 32, first * 32 + 32);
  const half = 2 ** (r - 1);
  return nodeHash(hashUp(hashes, first, r - 1), hashUp(hashes, first + half, r - 1));
}

/** Where the perfect subtree root of `height` with `index` (its leaves: index·2^height on) is found: tile, first hash, hashes up. */
export function tileOf(height: number, index: number): { level: number; tile: number; first: number; r: number } {
  const level = Math.floor(height / TILE_HEIGHT);
  const r = height - level * TILE_HEIGHT;
  const entry = index * 2 ** r;
  return { level, tile: Math.floor(entry / TILE_WIDTH), first: entry % TILE_WIDTH, r };
}

/** How many hashes of `level` a tree of `size` records has: the perfect subtrees of 256^level leaves. */
function entriesAt(level: number, size: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/**
 * The last, partial tile of each level grown as records are appended; `take` hands over every
 * tile that changed since it was last called (full ones once, the partial ones as they stand).
 */
export class TileWriter {
  /** The hashes of each level's last tile that is not full yet. */
  private readonly partial: Uint8Array[][] = [];
  /** Tiles changed since `take`: a full one with its hashes, the partial one of a level as null (read at `take`). */
  private readonly changed = new Map<string, { level: number; index: number; hashes: Uint8Array | null }>();

  private constructor(private size: number) {}

  static empty(): TileWriter {
    return new TileWriter(0);
  }

  /**
   * Goes on from the partial tiles of a tree of `size` records, which must give the compact
   * range the writer holds (so tiles read back from a store are held against a signed root).
   */
  static resume(size: number, partials: ReadonlyMap<string, Tile>, compactRange: readonly Hash[]): TileWriter {
    const writer = new TileWriter(size);
    for (let level = 0; entriesAt(level, size) > 0; level++) {
      const count = entriesAt(level, size) % TILE_WIDTH;
      const index = Math.floor(entriesAt(level, size) / TILE_WIDTH);
      const hashes: Uint8Array[] = [];
      if (count > 0) {
        const tile = partials.get(tileKey(level, index));
        if (tile?.hashes.length !== count * 32) throw new Error(`tile ${tileKey(level, index)} does not hold ${count} hashes`);
        for (let i = 0; i < count; i++) hashes.push(tile.hashes.slice(i * 32, i * 32 + 32));
      }
      writer.partial[level] = hashes;
    }
    const range = writer.compactRange().nodes;
    if (range.length !== compactRange.length || range.some((node, i) => node !== compactRange[i])) {
      throw new Error(`the partial tiles of a tree of ${size} records do not give its compact range`);
    }
    return writer;
  }

  /** Appends a record: its hash becomes a leaf, and every tile it completes a hash of the level above. */
  append(recordHash: Hash): void {
    let hash = leafHash(recordHash);
    this.size += 1;
    for (let level = 0; ; level++) {
      const tile = (this.partial[level] ??= []);
      tile.push(hash);
      const index = Math.floor((entriesAt(level, this.size) - 1) / TILE_WIDTH);
      if (tile.length < TILE_WIDTH) {
        this.changed.set(tileKey(level, index), { level, index, hashes: null });
        return;
      }
      const hashes = concat(tile);
      this.changed.set(tileKey(level, index), { level, index, hashes });
      hash = hashUp(hashes, 0, TILE_HEIGHT);
      this.partial[level] = [];
    }
  }

  /** A copy that goes on on its own (a snapshot being written), without the changes not taken yet. */
  clone(): TileWriter {
    const copy = new TileWriter(this.size);
    this.partial.forEach((tile, level) => {
      copy.partial[level] = [...tile];
    });
    return copy;
  }

  /** Goes on from where a copy got to (its snapshot was written). */
  adopt(copy: TileWriter): void {
    this.size = copy.size;
    this.partial.length = 0;
    copy.partial.forEach((tile, level) => {
      this.partial[level] = [...tile];
    });
    this.changed.clear();
  }

  /** The tiles that changed since the last call. */
  take(): Tile[] {
    const tiles = [...this.changed.values()].map(({ level, index, hashes }) => ({
      level,
      index,
      hashes: hashes ?? concat(this.partial[level] ?? []),
    }));
    this.changed.clear();
    return tiles;
  }

  /** The compact range (MerkleTree's) the partial tiles give: each perfect subtree of the size's binary expansion. */
  compactRange(): { size: number; nodes: Hash[] } {
    const nodes: Hash[] = [];
    let covered = 0;
    for (let height = Math.floor(Math.log2(Math.max(this.size, 1))); height >= 0; height--) {
      if (Math.floor(this.size / 2 ** height) % 2 === 0) continue;
      const { level, first, r } = tileOf(height, covered / 2 ** height);
      nodes.push(bytesToHex(hashUp(concat(this.partial[level] ?? []), first, r)));
      covered += 2 ** height;
    }
    return { size: this.size, nodes };
  }
}

function concat(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32);
  hashes.forEach((hash, i) => {
    out.set(hash, i * 32);
  });
  return out;
}

/** The tree a writer holds, given as tiles: for specs and tools that check TileWriter against MerkleTree. */
export function compactRangeOf(recordHashes: readonly Hash[]): { size: number; nodes: Hash[] } {
  const tree = MerkleTree.empty();
  for (const hash of recordHashes) tree.append(hash);
  return tree.toCompactRange();
}

/**
 * The perfect subtree roots that inclusion proofs of `leaves` and a consistency proof from
 * `since` (when given) in a tree of `size` read, with the roots of both sizes, as (height,
 * index): the tiles to fetch before proving.
 */
export function perfectNodesOfProofs(leaves: readonly number[], size: number, since: number | null): [number, number][] {
  const nodes = new Map<string, [number, number]>();
  const perfect = (from: number, to: number): void => {
    const n = to - from;
    if (n <= 0) return;
    if ((n & (n - 1)) === 0 && from % n === 0) {
      const height = Math.log2(n);
      nodes.set(`${height}/${from / n}`, [height, from / n]);
      return;
    }
    const k = largestPowerOfTwoBelow(n);
    perfect(from, from + k);
    perfect(from + k, to);
  };
  for (const leaf of leaves) {
    let from = 0;
    let to = size;
    let m = leaf;
    while (to - from > 1) {
      const k = largestPowerOfTwoBelow(to - from);
      if (m < k) {
        perfect(from + k, to);
        to = from + k;
      } else {
        perfect(from, from + k);
        from += k;
        m -= k;
      }
    }
    perfect(from, to);
  }
  if (since !== null && since >= 1 && since <= size) {
    const subproof = (m: number, from: number, to: number): void => {
      if (m === to - from) {
        perfect(from, to);
        return;
      }
      const k = largestPowerOfTwoBelow(to - from);
      if (m <= k) {
        subproof(m, from, from + k);
        perfect(from + k, to);
      } else {
        subproof(m - k, from + k, to);
        perfect(from, from + k);
      }
    };
    subproof(since, 0, size);
    // And the old root itself, which the proof is checked against.
    perfect(0, since);
  }
  // The root, which proofs are checked against.
  perfect(0, size);
  return [...nodes.values()];
}

/**
 * The nodes as far as they lie in the first `size` leaves, as (height, index): a node below
 * `size` as it is, one across it as the perfect subtrees of its part below, one above it not at
 * all (its leaves are not stored: the caller has them).
 */
export function perfectNodesBelow(nodes: readonly [number, number][], size: number): [number, number][] {
  const below = new Map<string, [number, number]>();
  for (const [height, index] of nodes) {
    let from = index * 2 ** height;
    const to = Math.min(from + 2 ** height, size);
    // An aligned start splits into aligned perfect subtrees, largest first.
    while (from < to) {
      let n = 1;
      while (from % (n * 2) === 0 && from + n * 2 <= to) n *= 2;
      const at: [number, number] = [Math.log2(n), from / n];
      below.set(`${at[0]}/${at[1]}`, at);
      from += n;
    }
  }
  return [...below.values()];
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * Tiles read back from a store, for proofs in the tree of the first `size` records (the size
 * the tiles were written up to): the perfect subtree roots they hold, for MerkleProofs. Tiles
 * are not trusted: a proof made with a changed tile does not verify against the signed root.
 */
export class TileSet {
  constructor(
    readonly size: number,
    private readonly tiles: ReadonlyMap<string, Tile>,
  ) {}

  /** The tiles holding the given perfect subtree roots of the first `size` records. */
  static needed(size: number, nodes: readonly [number, number][]): { level: number; index: number }[] {
    const wanted = new Map<string, { level: number; index: number }>();
    for (const [height, index] of nodes) {
      if ((index + 1) * 2 ** height > size) continue;
      const { level, tile } = tileOf(height, index);
      wanted.set(tileKey(level, tile), { level, index: tile });
    }
    return [...wanted.values()];
  }

  /** The root of the perfect subtree of `height` and `index`, when the tiles hold it. */
  perfectAt(height: number, index: number): Uint8Array | undefined {
    if ((index + 1) * 2 ** height > this.size) return undefined;
    const { level, tile, first, r } = tileOf(height, index);
    const found = this.tiles.get(tileKey(level, tile));
    if (!found || found.hashes.length < (first + 2 ** r) * 32) return undefined;
    return hashUp(found.hashes, first, r);
  }
}

/** The partial tiles (level and index) a tree of `size` records has: what TileWriter.resume reads. */
export function partialTiles(size: number): { level: number; index: number }[] {
  const tiles: { level: number; index: number }[] = [];
  for (let level = 0; entriesAt(level, size) > 0; level++) {
    const entries = entriesAt(level, size);
    if (entries % TILE_WIDTH > 0) tiles.push({ level, index: Math.floor(entries / TILE_WIDTH) });
  }
  return tiles;
}

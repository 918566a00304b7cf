import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { sha256 } from './platform/sha256.js';
import type { Hash } from './hashing.js';

/**
 * RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, section 2.1:
 * leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right). A leaf's data is the
 * 32 bytes of a record hash.
 */
const LEAF = Uint8Array.of(0x00);
const NODE = Uint8Array.of(0x01);
const EMPTY_ROOT = bytesToHex(sha256(new Uint8Array(0)));

export function leafHash(recordHash: Hash): Uint8Array {
  return sha256(LEAF, hexToBytes(recordHash));
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE, left, right);
}

/**
 * The tree kept incrementally: the roots of the perfect subtrees that the binary expansion of
 * the size decomposes it into, largest first (a "compact range" from 0). An append costs
 * O(log n) hashes at worst and O(1) amortised; the state is O(log n) hashes.
 */
export class MerkleTree {
  private constructor(
    private readonly subtrees: { size: number; hash: Uint8Array }[],
    private count: number,
  ) {}

  static empty(): MerkleTree {
    return new MerkleTree([], 0);
  }

  get size(): number {
    return this.count;
  }

  append(recordHash: Hash): void {
    this.subtrees.push({ size: 1, hash: leafHash(recordHash) });
    this.count += 1;
    for (;;) {
      const right = this.subtrees.at(-1);
      const left = this.subtrees.at(-2);
      if (!left || !right || left.size !== right.size) break;
      this.subtrees.splice(-2, 2, { size: left.size * 2, hash: nodeHash(left.hash, right.hash) });
    }
  }

  /** MTH(D[n]) of RFC 9162: the empty tree's root is SHA-256 of nothing. */
  root(): Hash {
    const last = this.subtrees.at(-1);
    if (!last) return EMPTY_ROOT;
    let hash = last.hash;
    for (let i = this.subtrees.length - 2; i >= 0; i--) {
      hash = nodeHash((this.subtrees[i] as { hash: Uint8Array }).hash, hash);
    }
    return bytesToHex(hash);
  }

  clone(): MerkleTree {
    return new MerkleTree([...this.subtrees], this.count);
  }

  /** The compact range (subtree roots, largest first): with the size, all the tree needs to grow on. */
  toCompactRange(): { size: number; nodes: Hash[] } {
    return { size: this.count, nodes: this.subtrees.map((subtree) => bytesToHex(subtree.hash)) };
  }

  /** A tree from its compact range; the subtree sizes are the binary expansion of the size. */
  static fromCompactRange(size: number, nodes: readonly Hash[]): MerkleTree {
    const sizes: number[] = [];
    for (let bit = 2 ** Math.floor(Math.log2(Math.max(size, 1))); bit >= 1; bit /= 2)
      if (Math.floor(size / bit) % 2 === 1) sizes.push(bit);
    if (!Number.isSafeInteger(size) || size < 0 || sizes.length !== nodes.length) {
      throw new Error(`a compact range of a tree of size ${size} has ${sizes.length} nodes, not ${nodes.length}`);
    }
    return new MerkleTree(
      sizes.map((subtreeSize, i) => ({ size: subtreeSize, hash: hexToBytes(nodes[i] as string) })),
      size,
    );
  }
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The perfect subtree roots of one level of the tree, 32 bytes each, kept as they are hashed. */
class NodeRow {
  private bytes = new Uint8Array(32 * 64);
  private present = new Uint8Array(64);

  get(index: number): Uint8Array | undefined {
    if (index >= this.present.length || this.present[index] === 0) return undefined;
    return this.bytes.subarray(index * 32, index * 32 + 32);
  }

  set(index: number, node: Uint8Array): void {
    if (index >= this.present.length) {
      let capacity = this.present.length * 2;
      while (capacity <= index) capacity *= 2;
      const bytes = new Uint8Array(capacity * 32);
      bytes.set(this.bytes);
      const present = new Uint8Array(capacity);
      present.set(this.present);
      // Views handed out earlier keep the old buffer, whose bytes never change.
      this.bytes = bytes;
      this.present = present;
    }
    this.bytes.set(node, index * 32);
    this.present[index] = 1;
  }
}

/**
 * Roots and proofs (RFC 9162 sections 2.1.1, 2.1.3.1 and 2.1.4.1) over the record hashes of a
 * partition, for any tree size up to theirs. Every perfect subtree is hashed at most once and
 * kept (32 bytes a node, about 64 MB for a million records), whatever the number of proofs and
 * sizes asked for: a verifier that proves all the records of a product pays O(n) hashes once,
 * then O(log n) per proof. A partition followed as it grows `grow`s it: the subtrees already
 * hashed stay valid, because the records of a smaller tree never change.
 */
export class MerkleProofs {
  /** levels[l][i]: the root of the perfect subtree of 2^l leaves starting at leaf i * 2^l. */
  private readonly levels: NodeRow[] = [];

  constructor(
    private readonly recordHashAt: (index: number) => Hash | undefined,
    private size: number,
    /** Perfect subtree roots stored already (tiles: merkle-tiles.ts), by height and index; undefined where not. */
    private readonly stored?: (height: number, index: number) => Uint8Array | undefined,
  ) {}

  static of(recordHashes: readonly Hash[]): MerkleProofs {
    return new MerkleProofs((index) => recordHashes[index], recordHashes.length);
  }

  /** How many record hashes the proofs reach. */
  get length(): number {
    return this.size;
  }

  /** More record hashes are there to prove: `recordHashAt` answers for the first `length`. */
  grow(length: number): void {
    if (length < this.size) throw new RangeError(`a tree of ${this.size} records does not shrink to ${length}`);
    this.size = length;
  }

  /**
   * The root of the perfect subtree of `level` and `index` when all its leaves are from `from`
   * on and within the tree (hashed once, then kept); undefined otherwise.
   */
  perfectFrom(from: number, level: number, index: number): Uint8Array | undefined {
    const start = index * 2 ** level;
    if (start < from || start + 2 ** level > this.size) return undefined;
    return this.perfect(level, index);
  }

  private perfect(level: number, index: number): Uint8Array {
    const row = (this.levels[level] ??= new NodeRow());
    let node = row.get(index);
    if (node === undefined && this.stored) {
      node = this.stored(level, index);
      if (node !== undefined) row.set(index, node);
    }
    if (node === undefined) {
      if (level === 0) {
        const hash = this.recordHashAt(index);
        if (hash === undefined) throw new RangeError(`no record hash at leaf ${index}`);
        node = leafHash(hash);
      } else {
        node = nodeHash(this.perfect(level - 1, 2 * index), this.perfect(level - 1, 2 * index + 1));
      }
      row.set(index, node);
    }
    return node;
  }

  /** MTH(D[from:to]). */
  private subtree(from: number, to: number): Uint8Array {
    const n = to - from;
    if ((n & (n - 1)) === 0 && from % n === 0) return this.perfect(Math.log2(n), from / n);
    const k = largestPowerOfTwoBelow(n);
    return nodeHash(this.subtree(from, from + k), this.subtree(from + k, to));
  }

  private checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.length) {
      throw new RangeError(`a tree of size ${size} is not within the ${this.length} record hashes held`);
    }
  }

  /** The root of the tree of the first `size` records. */
  root(size: number = this.length): Hash {
    this.checkSize(size);
    return size === 0 ? EMPTY_ROOT : bytesToHex(this.subtree(0, size));
  }

  /** PATH(m, D[size]): the audit path of leaf `index` in the tree of the first `size` records. */
  inclusionProof(index: number, size: number = this.length): Hash[] {
    this.checkSize(size);
    if (!Number.isInteger(index) || index < 0 || index >= size) {
      throw new RangeError(`leaf ${index} is outside a tree of size ${size}`);
    }
    // Walk down from the root, keeping the sibling subtree of the side the leaf is on.
    const siblings: Uint8Array[] = [];
    let from = 0;
    let to = size;
    let m = index;
    while (to - from > 1) {
      const k = largestPowerOfTwoBelow(to - from);
      if (m < k) {
        siblings.push(this.subtree(from + k, to));
        to = from + k;
      } else {
        siblings.push(this.subtree(from, from + k));
        from += k;
        m -= k;
      }
    }
    // The path lists siblings from the leaf up.
    return siblings.reverse().map((node) => bytesToHex(node));
  }

  /**
   * PROOF(m, D[size]): the nodes that show the tree of the first `oldSize` records is a prefix
   * of the tree of the first `size` (an auditor holding an older checkpoint checks a newer one
   * with it: the log was only appended to).
   */
  consistencyProof(oldSize: number, size: number = this.length): Hash[] {
    this.checkSize(size);
    if (!Number.isInteger(oldSize) || oldSize < 1 || oldSize > size) {
      throw new RangeError(`a consistency proof runs from a size between 1 and ${size}, not ${oldSize}`);
    }
    const proof: Uint8Array[] = [];
    // SUBPROOF(m, D[from:to], complete); the nodes are collected from the bottom up.
    const subproof = (m: number, from: number, to: number, complete: boolean): void => {
      if (m === to - from) {
        if (!complete) proof.push(this.subtree(from, to));
        return;
      }
      const k = largestPowerOfTwoBelow(to - from);
      if (m <= k) {
        subproof(m, from, from + k, complete);
        proof.push(this.subtree(from + k, to));
      } else {
        subproof(m - k, from + k, to, false);
        proof.push(this.subtree(from, from + k));
      }
    };
    subproof(oldSize, 0, size, true);
    return proof.map((node) => bytesToHex(node));
  }
}

/** MTH over the given record hashes, computed from scratch (for checks and proofs). */
export function merkleRoot(recordHashes: readonly Hash[]): Hash {
  return MerkleProofs.of(recordHashes).root();
}

/** PATH(m, D[n]) of RFC 9162 section 2.1.3.1: the audit path of leaf `index`. */
export function inclusionProof(recordHashes: readonly Hash[], index: number): Hash[] {
  return MerkleProofs.of(recordHashes).inclusionProof(index);
}

/** RFC 9162 section 2.1.3.2: does the proof put this record at `index` under `root`? */
export function verifyInclusion(recordHash: Hash, index: number, treeSize: number, proof: readonly Hash[], root: Hash): boolean {
  if (!Number.isInteger(index) || index < 0 || index >= treeSize) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHash(recordHash);
  for (const p of proof) {
    if (sn === 0) return false;
    const sibling = hexToBytes(p);
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(sibling, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesToHex(r) === root;
}

/** PROOF(m, D[n]) of RFC 9162 section 2.1.4.1 over all the given record hashes. */
export function consistencyProof(recordHashes: readonly Hash[], oldSize: number): Hash[] {
  return MerkleProofs.of(recordHashes).consistencyProof(oldSize);
}

/** RFC 9162 section 2.1.4.2: does the proof show the tree of `oldSize` is a prefix of that of `newSize`? */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Hash,
  newRoot: Hash,
  proof: readonly Hash[],
): boolean {
  if (!Number.isInteger(oldSize) || !Number.isInteger(newSize) || oldSize < 1 || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && oldRoot === newRoot;
  const path = proof.map((node) => hexToBytes(node));
  // An old tree that is a complete subtree is the first node of the path itself.
  if (Number.isInteger(Math.log2(oldSize))) path.unshift(hexToBytes(oldRoot));
  if (path.length === 0) return false;
  // Division, not bit operators: those work on 32 bits, and tree sizes may be larger.
  const half = (n: number) => Math.floor(n / 2);
  const odd = (n: number) => n % 2 === 1;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0] as Uint8Array;
  let sr = path[0] as Uint8Array;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return bytesToHex(fr) === oldRoot && bytesToHex(sr) === newRoot && sn === 0;
}

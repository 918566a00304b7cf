import { sha256 as sha256Of } from './platform/sha256.js';

/**
 * An authenticated map from 32-byte keys to values: a 16-ary Merkle radix tree over the keys'
 * nibbles (docs/ledger-format.md, "Writer snapshots"). Its root hash commits to every entry, so
 * a store that holds the tree's nodes need not be trusted: every node read is held against the
 * hash its parent holds, down from a root hash that was signed, and a value against the hash its
 * leaf holds. Lookups and updates cost one node per level, about log16 of the entries.
 *
 *   leaf   = 0x00 || key (32 bytes) || SHA-256(value)          its hash: SHA-256(leaf)
 *   branch = 0x01 || bitmap (2 bytes, big-endian: bit i set when child i is present)
 *                 || the present children's hashes, in order     its hash: SHA-256(branch)
 *   empty tree: the hash of no node is 32 zero bytes
 *
 * A leaf sits at the shallowest depth where no other key shares its path; its hash does not
 * depend on where it sits. Entries are only added or replaced, never removed.
 */

export const EMPTY_ROOT = new Uint8Array(32);

/** Where the tree's nodes and values live (an embedded store on disk; a map in specs). Paths are nibble strings. */
export interface StateTreeStore {
  /** The node stored at a path ('' is the root), as encoded above. */
  node(path: string): Uint8Array | undefined;
  /** The value stored for a key (hex). */
  value(key: string): Uint8Array | undefined;
}

/** The nodes and values an update writes: the store applies them together (one transaction). */
export interface StateTreeWrites {
  readonly nodes: Map<string, Uint8Array | null>;
  readonly values: Map<string, Uint8Array>;
}

/** The store does not hold what the root hash commits to: a node or value was changed, lost or replaced. */
export class StateTreeIntegrityError extends Error {
  override name = 'StateTreeIntegrityError';
}

interface Leaf {
  readonly kind: 'leaf';
  readonly key: Uint8Array;
  readonly valueHash: Uint8Array;
}

interface Branch {
  readonly kind: 'branch';
  /** The 16 children's hashes; null where there is none. */
  readonly children: readonly (Uint8Array | null)[];
}

type TreeNode = Leaf | Branch;

const sha256 = sha256Of;

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.compare(a, b) === 0;
const nibble = (key: Uint8Array, depth: number): number => ((key[depth >> 1] ?? 0) >> (depth % 2 === 0 ? 4 : 0)) & 0x0f;

export function encodeNode(node: TreeNode): Uint8Array {
  if (node.kind === 'leaf') {
    const out = new Uint8Array(65);
    out.set(node.key, 1);
    out.set(node.valueHash, 33);
    return out;
  }
  let bitmap = 0;
  const present: Uint8Array[] = [];
  node.children.forEach((child, i) => {
    if (child) {
      bitmap |= 1 << (15 - i);
      present.push(child);
    }
  });
  const out = new Uint8Array(3 + 32 * present.length);
  out[0] = 0x01;
  out[1] = bitmap >> 8;
  out[2] = bitmap & 0xff;
  present.forEach((child, i) => {
    out.set(child, 3 + 32 * i);
  });
  return out;
}

/** A node read from its bytes; its members are views of them (bytes are never written after they are read or made). */
export function decodeNode(bytes: Uint8Array): TreeNode {
  if (bytes[0] === 0x00 && bytes.length === 65)
    return { kind: 'leaf', key: bytes.subarray(1, 33), valueHash: bytes.subarray(33, 65) };
  if (bytes[0] === 0x01 && bytes.length >= 3) {
    const bitmap = ((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0);
    const children: (Uint8Array | null)[] = [];
    let at = 3;
    for (let i = 0; i < 16; i++) {
      if (bitmap & (1 << (15 - i))) {
        children.push(bytes.subarray(at, at + 32));
        at += 32;
      } else children.push(null);
    }
    if (at === bytes.length && at > 3) return { kind: 'branch', children };
  }
  throw new StateTreeIntegrityError('a stored node is not a leaf or a branch');
}

export function nodeHash(node: TreeNode): Uint8Array {
  return sha256(encodeNode(node));
}

/**
 * Nodes already decoded and hashed, by the bytes they were read from or written as: the same
 * bytes object (held by a cache) is decoded and hashed once, not at every lookup through it. A
 * node is still held against the hash its parent expects at every read; only the hashing is saved.
 */
const readNodes = new WeakMap<Uint8Array, { readonly node: TreeNode; readonly hash: Uint8Array }>();

function readNode(bytes: Uint8Array): { readonly node: TreeNode; readonly hash: Uint8Array } {
  let read = readNodes.get(bytes);
  if (!read) {
    read = { node: decodeNode(bytes), hash: sha256(bytes) };
    readNodes.set(bytes, read);
  }
  return read;
}

/** A key's 32 bytes from the domain-separated name of what it stands for ("entity", "/01/…"). */
export function stateKey(kind: string, name: string): Uint8Array {
  return sha256(Buffer.from(`custodian.state.${kind}\0${name}`, 'utf8'));
}

/**
 * The tree as of one root hash, read through a store it need not trust. Reads verify as they go;
 * `update` computes the root after a batch of entries, and the nodes and values to write for it.
 */
export class StateTree {
  constructor(
    private readonly store: StateTreeStore,
    readonly root: Uint8Array,
  ) {}

  /** The node at `path`, which must hash to `expected`. */
  private nodeAt(path: string, expected: Uint8Array): TreeNode {
    const bytes = this.store.node(path);
    if (!bytes) throw new StateTreeIntegrityError(`the node at path "${path}" is missing`);
    const { node, hash } = readNode(bytes);
    if (!equal(hash, expected)) throw new StateTreeIntegrityError(`the node at path "${path}" is not the one committed to`);
    return node;
  }

  /** The value of a key, verified against the root; undefined when the tree holds no such key. */
  get(key: Uint8Array): Uint8Array | undefined {
    if (equal(this.root, EMPTY_ROOT)) return undefined;
    let path = '';
    let expected = this.root;
    for (let depth = 0; ; depth++) {
      const node = this.nodeAt(path, expected);
      if (node.kind === 'leaf') {
        if (!equal(node.key, key)) return undefined;
        const value = this.store.value(hex(key));
        if (!value || !equal(sha256(value), node.valueHash)) {
          throw new StateTreeIntegrityError(`the value of key ${hex(key)} is not the one committed to`);
        }
        return value;
      }
      const next = nibble(key, depth);
      const child = node.children[next];
      if (!child) return undefined;
      path += next.toString(16);
      expected = child;
    }
  }

  /**
   * The tree after setting these entries (new keys added, existing ones replaced), and what to
   * write for it. Only the nodes on the paths of the entries are read and written.
   */
  update(entries: ReadonlyMap<string, Uint8Array>): { tree: StateTree; writes: StateTreeWrites } {
    const writes: StateTreeWrites = { nodes: new Map(), values: new Map() };
    const changes = [...entries].map(([key, value]) => {
      writes.values.set(key, value);
      return { key: Uint8Array.from(Buffer.from(key, 'hex')), valueHash: sha256(value) };
    });
    if (changes.length === 0) return { tree: this, writes };
    const current = equal(this.root, EMPTY_ROOT) ? null : this.nodeAt('', this.root);
    const root = this.rebuild('', 0, current, changes, writes);
    return { tree: new StateTree(this.store, root), writes };
  }

  /**
   * The same tree and writes as `update`, made in slices: `pause` is awaited between the
   * subtrees under the first SLICED_DEPTH levels and every SLICE entries hashed. A snapshot's
   * update of tens of thousands of entries takes hundreds of milliseconds; in one piece it held
   * the writer's event loop, and every request waiting on it, that long.
   */
  async updateInSlices(
    entries: ReadonlyMap<string, Uint8Array>,
    pause: () => Promise<void>,
  ): Promise<{ tree: StateTree; writes: StateTreeWrites }> {
    const writes: StateTreeWrites = { nodes: new Map(), values: new Map() };
    const changes: Change[] = [];
    for (const [key, value] of entries) {
      writes.values.set(key, value);
      changes.push({ key: Uint8Array.from(Buffer.from(key, 'hex')), valueHash: sha256(value) });
      if (changes.length % SLICE === 0) await pause();
    }
    if (changes.length === 0) return { tree: this, writes };
    const current = equal(this.root, EMPTY_ROOT) ? null : this.nodeAt('', this.root);
    const root = await this.rebuildInSlices('', 0, current, changes, writes, pause);
    return { tree: new StateTree(this.store, root), writes };
  }

  /** `rebuild`, pausing between the children of the first SLICED_DEPTH levels. */
  private async rebuildInSlices(
    path: string,
    depth: number,
    current: TreeNode | null,
    changes: readonly Change[],
    writes: StateTreeWrites,
    pause: () => Promise<void>,
  ): Promise<Uint8Array> {
    // Few changes, or deep enough: one slice. Otherwise (two changes or more) this is a branch.
    if (depth >= SLICED_DEPTH || changes.length < SLICE_MIN) return this.rebuild(path, depth, current, changes, writes);
    const children: (Uint8Array | null)[] =
      current?.kind === 'branch' ? [...current.children] : Array.from({ length: 16 }, () => null);
    let under: readonly Change[] = changes;
    if (current?.kind === 'leaf' && !changes.some((change) => equal(change.key, current.key))) under = [current, ...changes];
    for (const [slot, group] of groupByNibble(under, depth)) {
      const childPath = path + slot.toString(16);
      const child = current?.kind === 'branch' ? children[slot] : null;
      children[slot] = await this.rebuildInSlices(
        childPath,
        depth + 1,
        child ? this.nodeAt(childPath, child) : null,
        group,
        writes,
        pause,
      );
      await pause();
    }
    return this.put(path, { kind: 'branch', children }, writes);
  }

  /** The subtree at `path` with the changes applied; its hash. Writes the nodes it makes. */
  private rebuild(
    path: string,
    depth: number,
    current: TreeNode | null,
    changes: readonly Change[],
    writes: StateTreeWrites,
  ): Uint8Array {
    if (current?.kind === 'leaf') {
      // The leaf here stays an entry unless a change replaces it.
      const kept = changes.some((change) => equal(change.key, current.key)) ? [] : [current];
      if (kept.length + changes.length === 1) {
        const leaf: Leaf = changes[0] ? { kind: 'leaf', ...changes[0] } : current;
        return this.put(path, leaf, writes);
      }
      return this.split(path, depth, [...kept, ...changes], writes);
    }
    if (current === null) {
      const [only] = changes;
      if (changes.length === 1 && only) return this.put(path, { kind: 'leaf', key: only.key, valueHash: only.valueHash }, writes);
      return this.split(path, depth, changes, writes);
    }
    const children = [...current.children];
    for (const [slot, group] of groupByNibble(changes, depth)) {
      const childPath = path + slot.toString(16);
      const child = children[slot];
      children[slot] = this.rebuild(childPath, depth + 1, child ? this.nodeAt(childPath, child) : null, group, writes);
    }
    return this.put(path, { kind: 'branch', children }, writes);
  }

  /** A branch at `path` over entries that share the path so far (two or more): each child its own subtree. */
  private split(path: string, depth: number, entries: readonly Change[], writes: StateTreeWrites): Uint8Array {
    if (depth >= 64) throw new StateTreeIntegrityError('two entries with the same key');
    const children: (Uint8Array | null)[] = Array.from({ length: 16 }, () => null);
    for (const [slot, group] of groupByNibble(entries, depth)) {
      children[slot] = this.rebuild(path + slot.toString(16), depth + 1, null, group, writes);
    }
    return this.put(path, { kind: 'branch', children }, writes);
  }

  private put(path: string, node: TreeNode, writes: StateTreeWrites): Uint8Array {
    const bytes = encodeNode(node);
    const hash = sha256(bytes);
    readNodes.set(bytes, { node, hash });
    writes.nodes.set(path, bytes);
    return hash;
  }
}

/** An entry to set: its key and the hash of its value. */
interface Change {
  readonly key: Uint8Array;
  readonly valueHash: Uint8Array;
}

/** updateInSlices: levels whose children are slices, entries hashed per slice, and the fewest changes worth slicing. */
const SLICED_DEPTH = 2;
const SLICE = 2_000;
const SLICE_MIN = 64;

function groupByNibble<T extends { key: Uint8Array }>(entries: readonly T[], depth: number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const entry of entries) {
    const slot = nibble(entry.key, depth);
    const group = groups.get(slot);
    if (group) group.push(entry);
    else groups.set(slot, [entry]);
  }
  return groups;
}

/** Where the nodes and values live when reading them takes a round trip (PostgreSQL): as stored, unverified. */
export interface StateTreeSource {
  nodes(paths: readonly string[]): Promise<Map<string, Uint8Array>>;
  values(keys: readonly string[]): Promise<Map<string, Uint8Array>>;
}

/** Prefixes of a key's nibble path asked for at once, beyond the one needed: a lookup takes one or two round trips. */
const LOOKAHEAD = 6;

/**
 * Reads what a lookup or an update of some keys needs from a source that takes round trips:
 * the nodes on the keys' paths (a few levels a round trip, the upper ones from a bounded cache)
 * and the values of the keys found. It verifies nothing itself: it hands a StateTree a store
 * holding exactly what was read, and the tree verifies every node and value as it reads it.
 */
export class StateTreeLoader {
  constructor(
    private readonly source: StateTreeSource,
    /** Nodes by path, of the tree the source holds now (kept in step by `written`). */
    private readonly cache: {
      get(path: string): Uint8Array | undefined;
      set(path: string, node: Uint8Array): void;
      clear(): void;
    },
  ) {}

  /** A tree of `root` over what the keys' paths need, read from the source; values too when `withValues`. */
  async load(root: Uint8Array, keys: readonly Uint8Array[], withValues: boolean): Promise<StateTree> {
    const nodes = new Map<string, Uint8Array>();
    const values = new Map<string, Uint8Array>();
    const asked = new Set<string>();
    const found: string[] = [];
    if (!equal(root, EMPTY_ROOT)) {
      let walking = keys.map((key) => ({ key, path: '' }));
      while (walking.length > 0) {
        await this.fetch(walking, nodes, asked);
        const next: { key: Uint8Array; path: string }[] = [];
        for (const walk of walking) {
          const end = walkDown(walk, nodes, asked);
          if (end === 'found') found.push(hex(walk.key));
          else if (end !== 'done') next.push(end);
        }
        walking = next;
      }
    }
    if (withValues && found.length > 0) for (const [key, value] of await this.source.values(found)) values.set(key, value);
    return new StateTree({ node: (path) => nodes.get(path), value: (key) => values.get(key) }, root);
  }

  /** Writes applied to the source so far: a read that one overtook does not fill the cache. */
  private writes = 0;

  /** The source holds another tree than the cache followed (written by someone else): the cache is emptied, and reads under way do not fill it. */
  reset(): void {
    this.writes += 1;
    this.cache.clear();
  }

  /** The tree's writes were applied to the source: the cache follows them. */
  written(writes: StateTreeWrites): void {
    this.writes += 1;
    for (const [path, node] of writes.nodes) if (node) this.cache.set(path, node);
  }

  /** Reads the nodes at each walk's path and a few levels below it, from the cache or the source. */
  private async fetch(
    walks: readonly { key: Uint8Array; path: string }[],
    into: Map<string, Uint8Array>,
    asked: Set<string>,
  ): Promise<void> {
    const wanted: string[] = [];
    for (const { key, path } of walks) {
      const keyPath = hex(key);
      for (let length = path.length; length <= Math.min(64, path.length + LOOKAHEAD); length++) {
        const prefix = keyPath.slice(0, length);
        if (asked.has(prefix)) continue;
        asked.add(prefix);
        const cached = this.cache.get(prefix);
        if (cached) into.set(prefix, cached);
        else wanted.push(prefix);
      }
    }
    if (wanted.length === 0) return;
    const writes = this.writes;
    const read = await this.source.nodes(wanted);
    // Nodes read before a write was applied may be of the tree before it: they serve this read
    // (whose caller finds out, PartitionState.load), and are not kept for the next ones.
    const current = writes === this.writes;
    for (const [path, node] of read) {
      into.set(path, node);
      if (current) this.cache.set(path, node);
    }
  }
}

/**
 * Follows a key down through the nodes read so far: where it ends, or the path still to read.
 * A path read and not found ends the walk: the tree, reading it, finds the node missing.
 */
function walkDown(
  walk: { key: Uint8Array; path: string },
  nodes: Map<string, Uint8Array>,
  asked: Set<string>,
): 'found' | 'done' | { key: Uint8Array; path: string } {
  let { path } = walk;
  for (;;) {
    const bytes = nodes.get(path);
    if (!bytes) return asked.has(path) ? 'done' : { key: walk.key, path };
    const { node } = readNode(bytes);
    if (node.kind === 'leaf') return equal(node.key, walk.key) ? 'found' : 'done';
    const next = nibble(walk.key, path.length);
    if (!node.children[next] || path.length >= 64) return 'done';
    path += next.toString(16);
  }
}

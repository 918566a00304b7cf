import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { BoundedCache } from './bounded-cache.js';
import {
  decodeNode,
  EMPTY_ROOT,
  StateTree,
  StateTreeIntegrityError,
  StateTreeLoader,
  type StateTreeSource,
  type StateTreeStore,
  type StateTreeWrites,
  stateKey,
} from './state-tree.js';

/** The tree's store in memory, applying each update's writes as a store on disk would. */
class MemoryStore implements StateTreeStore {
  readonly nodes = new Map<string, Uint8Array>();
  readonly values = new Map<string, Uint8Array>();
  node(path: string) {
    return this.nodes.get(path);
  }
  value(key: string) {
    return this.values.get(key);
  }
  apply(writes: StateTreeWrites): void {
    for (const [path, node] of writes.nodes) {
      if (node) this.nodes.set(path, node);
      else this.nodes.delete(path);
    }
    for (const [key, value] of writes.values) this.values.set(key, value);
  }
}

const keyHex = (name: string) => Buffer.from(stateKey('entity', name)).toString('hex');
const bytes = (text: string) => new TextEncoder().encode(text);

/** The store as a source that takes round trips: what it holds at the paths and keys asked, answered through `answer`. */
function sourceOf(store: MemoryStore, answer: <T>(value: T) => Promise<T>): StateTreeSource {
  return {
    nodes: (paths) => answer(new Map(paths.flatMap((p) => (store.nodes.has(p) ? [[p, store.nodes.get(p)!]] : [])))),
    values: (keys) => answer(new Map(keys.flatMap((k) => (store.values.has(k) ? [[k, store.values.get(k)!]] : [])))),
  };
}

/** A store holding the tree of `count` products, each 'at the maker'. */
function atTheMaker(count: number): { store: MemoryStore; before: StateTree } {
  const store = new MemoryStore();
  const names = Array.from({ length: count }, (_, i) => `product-${i}`);
  return {
    store,
    before: grow(
      store,
      new StateTree(store, EMPTY_ROOT),
      names.map((name) => [name, 'at the maker']),
    ),
  };
}

function grow(store: MemoryStore, tree: StateTree, entries: [string, string][]): StateTree {
  const { tree: next, writes } = tree.update(new Map(entries.map(([name, value]) => [keyHex(name), bytes(value)])));
  store.apply(writes);
  return next;
}

describe('the state tree', () => {
  it('gives back every value it holds, and nothing for a key it does not', () => {
    const store = new MemoryStore();
    const names = Array.from({ length: 500 }, (_, i) => `/01/09506000134352/21/SN-${i}`);
    const tree = grow(
      store,
      new StateTree(store, EMPTY_ROOT),
      names.map((name, i) => [name, `state ${i}`]),
    );
    for (const [i, name] of names.entries())
      expect(new TextDecoder().decode(tree.get(stateKey('entity', name)))).toBe(`state ${i}`);
    expect(tree.get(stateKey('entity', '/01/09506000134352/21/absent'))).toBeUndefined();
    // Leaves sit where no other key shares their path: about log16(500) levels deep.
    expect(Math.max(...[...store.nodes.keys()].map((path) => path.length))).toBeLessThanOrEqual(5);
  });

  it('has one root for one set of entries, however they were added, and another for any other set', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 7 }),
        (names, step) => {
          const entries: [string, string][] = names.map((name) => [name, `v:${name}`]);
          const once = new MemoryStore();
          const all = grow(once, new StateTree(once, EMPTY_ROOT), entries);
          const bit = new MemoryStore();
          let tree = new StateTree(bit, EMPTY_ROOT);
          for (let i = 0; i < entries.length; i += step) tree = grow(bit, tree, entries.slice(i, i + step));
          expect(Buffer.from(tree.root).equals(Buffer.from(all.root))).toBe(true);
          // Replacing a value changes the root; setting it back restores it.
          const [name] = entries[0]!;
          const changed = grow(bit, tree, [[name, 'another value']]);
          expect(Buffer.from(changed.root).equals(Buffer.from(all.root))).toBe(false);
          expect(Buffer.from(grow(bit, changed, [[name, `v:${name}`]]).root).equals(Buffer.from(all.root))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('makes in slices the very tree and writes it makes at once, pausing between them', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Before: an empty tree, a single leaf, a couple of entries, or a tree of branches.
        fc.oneof(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 3, max: 400 })),
        // Enough changes to be sliced (64 or more), up to a snapshot's thousands.
        fc.integer({ min: 64, max: 2000 }),
        fc.integer({ min: 0, max: 1000 }),
        async (size, added, seed) => {
          const before = Array.from({ length: size }, (_, i) => `before-${seed}-${i}`);
          const store = new MemoryStore();
          const base = grow(
            store,
            new StateTree(store, EMPTY_ROOT),
            before.map((name) => [name, `old:${name}`]),
          );
          // Every other entry the tree holds is replaced, the others stay; the rest are new.
          const replaced = before.filter((_, i) => i % 2 === 1);
          const fresh = Array.from({ length: added }, (_, i) => `after-${seed}-${i}`);
          const changes = new Map([...fresh, ...replaced].map((name) => [keyHex(name), bytes(`new:${name}`)]));
          const whole = base.update(changes);
          let pauses = 0;
          const sliced = await base.updateInSlices(changes, () => {
            pauses += 1;
            return Promise.resolve();
          });
          expect(Buffer.from(sliced.tree.root).toString('hex')).toBe(Buffer.from(whole.tree.root).toString('hex'));
          const listed = (writes: ReadonlyMap<string, Uint8Array | null>) =>
            [...writes].map(([at, value]) => `${at}=${value ? Buffer.from(value).toString('hex') : '-'}`).sort();
          expect(listed(sliced.writes.nodes)).toEqual(listed(whole.writes.nodes));
          expect(listed(sliced.writes.values)).toEqual(listed(whole.writes.values));
          expect(pauses).toBeGreaterThan(0);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('refuses a store whose node or value is not the one the root commits to', () => {
    const store = new MemoryStore();
    const tree = grow(
      store,
      new StateTree(store, EMPTY_ROOT),
      Array.from({ length: 50 }, (_, i) => [`product-${i}`, `holder ${i}`] as [string, string]),
    );
    const key = stateKey('entity', 'product-7');
    const leafPath = [...store.nodes.keys()].find((path) => {
      const node = decodeNode(store.nodes.get(path)!);
      return node.kind === 'leaf' && Buffer.from(node.key).equals(Buffer.from(key));
    })!;

    // A changed value.
    const value = store.values.get(Buffer.from(key).toString('hex'))!;
    store.values.set(Buffer.from(key).toString('hex'), bytes('holder 99'));
    expect(() => tree.get(key)).toThrow(StateTreeIntegrityError);
    store.values.set(Buffer.from(key).toString('hex'), value);
    expect(tree.get(key)).toEqual(value);

    // A leaf replaced by an older one (the value it had before), with its value.
    const older = new MemoryStore();
    grow(older, new StateTree(older, EMPTY_ROOT), [['product-7', 'holder 0']]);
    const olderLeaf = [...older.nodes.values()][0]!;
    const leaf = store.nodes.get(leafPath)!;
    store.nodes.set(leafPath, olderLeaf);
    expect(() => tree.get(key)).toThrow(/is not the one committed to/);
    store.nodes.set(leafPath, leaf);

    // A node lost.
    store.nodes.delete('');
    expect(() => tree.get(key)).toThrow(/missing/);
  });

  it('reads through a source that takes round trips exactly what the tree in memory reads, in a few of them', async () => {
    const store = new MemoryStore();
    const names = Array.from({ length: 3000 }, (_, i) => `/01/09506000134352/21/SN-${i}`);
    const tree = grow(
      store,
      new StateTree(store, EMPTY_ROOT),
      names.map((name, i) => [name, `state ${i}`]),
    );
    let roundTrips = 0;
    const source: StateTreeSource = {
      nodes: (paths) => {
        roundTrips += 1;
        return Promise.resolve(new Map(paths.flatMap((path) => (store.nodes.has(path) ? [[path, store.nodes.get(path)!]] : []))));
      },
      values: (keys) => {
        roundTrips += 1;
        return Promise.resolve(new Map(keys.flatMap((key) => (store.values.has(key) ? [[key, store.values.get(key)!]] : []))));
      },
    };
    const cache = new BoundedCache<string, Uint8Array>(100);
    const loader = new StateTreeLoader(source, cache);
    const asked = [...names.slice(0, 40), '/01/09506000134352/21/absent', '/01/09506000134352/21/also-absent'];
    const keys = asked.map((name) => stateKey('entity', name));
    const loaded = await loader.load(tree.root, keys, true);
    for (const key of keys) expect(loaded.get(key)).toEqual(tree.get(key));
    // About three levels deep for 3,000 keys: the nodes in one round trip (a look-ahead of six levels), the values in another.
    expect(roundTrips).toBe(2);
    expect(cache.size).toBe(100);

    // An update through the loader writes what one in memory writes.
    const changes = new Map([...asked.slice(38)].map((name) => [keyHex(name), bytes(`changed ${name}`)]));
    const inMemory = tree.update(changes);
    const through = (
      await loader.load(
        tree.root,
        [...changes.keys()].map((key) => Buffer.from(key, 'hex')),
        false,
      )
    ).update(changes);
    expect(Buffer.from(through.tree.root).equals(Buffer.from(inMemory.tree.root))).toBe(true);
    expect([...through.writes.nodes.keys()].sort()).toEqual([...inMemory.writes.nodes.keys()].sort());
    store.apply(through.writes);
    loader.written(through.writes);
    const after = await loader.load(through.tree.root, [stateKey('entity', asked[40]!)], true);
    expect(after.get(stateKey('entity', asked[40]!))).toEqual(bytes(`changed ${asked[40]}`));
  });

  it('refuses, read through a source, a node that source changed or lost', async () => {
    const store = new MemoryStore();
    const tree = grow(
      store,
      new StateTree(store, EMPTY_ROOT),
      Array.from({ length: 300 }, (_, i) => [`product-${i}`, `holder ${i}`] as [string, string]),
    );
    const source = sourceOf(store, (answer) => Promise.resolve(answer));
    const key = stateKey('entity', 'product-12');
    const path = [...store.nodes.keys()].find((p) => {
      const node = decodeNode(store.nodes.get(p)!);
      return node.kind === 'leaf' && Buffer.from(node.key).equals(Buffer.from(key));
    })!;
    const leaf = store.nodes.get(path)!;
    const other = [...store.nodes.entries()].find(([p, node]) => p !== path && decodeNode(node).kind === 'leaf')![1];
    store.nodes.set(path, other);
    const fresh = () => new StateTreeLoader(source, new BoundedCache<string, Uint8Array>(10));
    await expect(
      fresh()
        .load(tree.root, [key], true)
        .then((t) => t.get(key)),
    ).rejects.toThrow(StateTreeIntegrityError);
    store.nodes.delete(path);
    await expect(
      fresh()
        .load(tree.root, [key], true)
        .then((t) => t.get(key)),
    ).rejects.toThrow(/missing/);
    store.nodes.set(path, leaf);
    expect(new TextDecoder().decode((await fresh().load(tree.root, [key], true)).get(key))).toBe('holder 12');
  });

  it('keeps out of its cache the nodes of a read that a write overtook (they are of the tree before it)', async () => {
    const { store, before } = atTheMaker(300);
    // A source whose answers are read from the store when asked, and delivered when the test says.
    const held: (() => void)[] = [];
    let holding = false;
    const answer = <T>(value: T): Promise<T> =>
      holding
        ? new Promise<T>((resolve) =>
            held.push(() => {
              resolve(value);
            }),
          )
        : Promise.resolve(value);
    const source = sourceOf(store, answer);
    const loader = new StateTreeLoader(source, new BoundedCache<string, Uint8Array>(1_000));
    const key = stateKey('entity', 'product-7');
    // A read of the tree as it is, whose answer (the nodes before the write) comes late...
    holding = true;
    const overtaken = loader.load(before.root, [key], true);
    await Promise.resolve();
    holding = false;
    // ...after a write of a new value for the same key was applied, and the loader told.
    const changes = new Map([[keyHex('product-7'), bytes('with the carrier')]]);
    const { tree: after, writes } = (await loader.load(before.root, [key], false)).update(changes);
    store.apply(writes);
    loader.written(writes);
    for (const deliver of held.splice(0)) deliver();
    // The late read met the store between two trees (its caller reads again, PartitionState.load)...
    await expect(overtaken.then((tree) => tree.get(key))).rejects.toThrow(StateTreeIntegrityError);
    // ...and the tree after the write reads through the cache without a node of the one before.
    expect(new TextDecoder().decode((await loader.load(after.root, [key], true)).get(key))).toBe('with the carrier');
  });

  it('reads the tree another writer put in the source under its root once reset, not the cached nodes of the tree before', async () => {
    const { store, before } = atTheMaker(300);
    const source = sourceOf(store, (answer) => Promise.resolve(answer));
    const loader = new StateTreeLoader(source, new BoundedCache<string, Uint8Array>(1_000));
    const key = stateKey('entity', 'product-7');
    expect(new TextDecoder().decode((await loader.load(before.root, [key], true)).get(key))).toBe('at the maker');
    // Another writer changes the tree in the source; this loader is not told of its writes.
    const after = grow(store, before, [['product-7', 'with the carrier']]);
    // The cached nodes are of the tree before: read under the new root, they do not verify...
    await expect(loader.load(after.root, [key], true).then((tree) => tree.get(key))).rejects.toThrow(StateTreeIntegrityError);
    // ...and once reset, the tree under the new root is read from the source.
    loader.reset();
    expect(new TextDecoder().decode((await loader.load(after.root, [key], true)).get(key))).toBe('with the carrier');
  });
});

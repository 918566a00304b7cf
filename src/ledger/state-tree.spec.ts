import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  decodeNode,
  EMPTY_ROOT,
  StateTree,
  StateTreeIntegrityError,
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
});

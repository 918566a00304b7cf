/**
 * A map that keeps at most `capacity` entries, dropping the least recently used: the writer's
 * and the verifier's caches of what lives on disk, so that memory does not grow with the ledger.
 *
 * A Map keeps its entries in insertion order, and `get` moves an entry to the end: the oldest
 * live entry is the first. It is found with one iterator kept across evictions, not a new one
 * each time: V8 leaves a deleted entry as a hole until the table is rehashed, and a new
 * iterator walks every hole at the front again. With a cache evicting one entry per insertion
 * that made each eviction cost as many steps as there were evictions since the last rehash:
 * 26 s instead of 0.5 s for a million insertions into a cache of 50,000 (docs/PERFORMANCE.md).
 * Every entry the kept iterator passes is evicted at once, so every entry behind it is deleted
 * and the next one it gives is the oldest one alive.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();
  private oldest: Iterator<K> = this.entries.keys();

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`a cache holds at least one entry, not ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** The value, which becomes the most recently used. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      let next = this.oldest.next();
      // Spent only if the map was emptied behind it: start again from the first entry.
      if (next.done) {
        this.oldest = this.entries.keys();
        next = this.oldest.next();
      }
      if (!next.done) this.entries.delete(next.value);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.oldest = this.entries.keys();
  }
}

import { describe, expect, it } from '@jest/globals';
import { CollectionLog, collections, watchCollections } from './collections.js';

describe('CollectionLog', () => {
  it('adds up the parts of collections within a span, and none outside it', () => {
    const log = new CollectionLog();
    expect(log.within(0, 1000)).toBe(0);
    log.add(100, 10); // 100-110: within
    log.add(195, 10); // 195-205: 5 within
    log.add(300, 5); // after
    log.add(50, 20); // 50-70: before
    expect(log.within(90, 200)).toBe(15);
    expect(log.within(0, 1000)).toBe(45);
    expect(log.within(106, 108)).toBe(2);
    expect(log.within(400, 500)).toBe(0);
  });

  it('keeps the newest 256 collections: the oldest go first', () => {
    const log = new CollectionLog();
    for (let i = 0; i < 300; i++) log.add(i * 10, 1);
    expect(log.within(0, 440)).toBe(0); // collections 0-43 were dropped
    expect(log.within(440, 450)).toBe(1);
    expect(log.within(0, 3000)).toBe(256);
  });
});

describe('watchCollections', () => {
  it("logs this process's collections as V8 reports them", async () => {
    watchCollections();
    watchCollections(); // a second call adds no second observer: each collection is logged once
    const from = performance.now();
    // Garbage enough for several collections of the young generation.
    let kept: unknown[] = [];
    for (let round = 0; round < 50; round++) {
      kept = Array.from({ length: 50_000 }, (_, i) => ({ i, text: `object ${i}` }));
    }
    expect(kept).toHaveLength(50_000);
    // V8 reports collections in a callback shortly after they end.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const to = performance.now();
    const spent = collections.within(from, to);
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThan(to - from);
  });
});

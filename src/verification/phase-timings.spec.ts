import { describe, expect, it } from '@jest/globals';
import { CollectionLog } from './collections.js';
import { parseServerTiming, PhaseTimings } from './phase-timings.js';

describe('PhaseTimings', () => {
  it('adds up each phase over its rounds, keeps the order they first ran in, and ends with the total and gc', async () => {
    const phases = new PhaseTimings(new CollectionLog());
    await phases.time('view', () => new Promise((resolve) => setTimeout(resolve, 20)));
    phases.timeSync('check', () => 1 + 1);
    await phases.time('view', () => new Promise((resolve) => setTimeout(resolve, 20)));
    const entries = phases.entries();
    expect(entries.map(([phase]) => phase)).toEqual(['view', 'check', 'total', 'gc']);
    const view = entries[0]![1];
    expect(view).toBeGreaterThanOrEqual(38);
    expect(entries[2]![1]).toBeGreaterThanOrEqual(view);
    expect(entries[3]![1]).toBe(0);
  });

  it('says how much of its time collections of garbage took: those within it, and the parts of those across its ends', async () => {
    const log = new CollectionLog();
    const before = performance.now();
    log.add(before - 50, 10); // ended before it began
    log.add(before - 5, 7); // 2 ms of it within
    const phases = new PhaseTimings(log);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const middle = performance.now() - 20;
    log.add(middle, 4);
    log.add(performance.now() + 1000, 9); // after it ended
    const gc = phases.entries().find(([phase]) => phase === 'gc')![1];
    expect(gc).toBeGreaterThan(4);
    expect(gc).toBeLessThanOrEqual(6 + 0.001);
  });

  it('times a phase that throws, and lets the error through', async () => {
    const phases = new PhaseTimings();
    await expect(phases.time('rows', () => Promise.reject(new Error('no database')))).rejects.toThrow('no database');
    expect(() =>
      phases.timeSync('sign', () => {
        throw new Error('no key');
      }),
    ).toThrow('no key');
    expect(phases.entries().map(([phase]) => phase)).toEqual(['rows', 'sign', 'total', 'gc']);
  });

  it('writes a Server-Timing value that parses back to the same phases, to 0.1 ms', () => {
    const phases = new PhaseTimings(new CollectionLog());
    phases.add('offsets', 3.14159);
    phases.add('catch-up', 0.04);
    const header = phases.header();
    expect(header).toMatch(/^offsets;dur=3\.1, catch-up;dur=0\.0, total;dur=\d+\.\d, gc;dur=0\.0$/);
    const parsed = parseServerTiming(header);
    expect([...parsed.keys()]).toEqual(['offsets', 'catch-up', 'total', 'gc']);
    expect(parsed.get('offsets')).toBe(3.1);
    expect(parseServerTiming(null).size).toBe(0);
    expect(parseServerTiming('garbage, x;dur=abc').size).toBe(0);
  });
});

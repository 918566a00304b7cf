import { describe, expect, it } from '@jest/globals';
import { parseServerTiming, PhaseTimings } from './phase-timings.js';

describe('PhaseTimings', () => {
  it('adds up each phase over its rounds, keeps the order they first ran in, and ends with the total', async () => {
    const phases = new PhaseTimings();
    await phases.time('view', () => new Promise((resolve) => setTimeout(resolve, 20)));
    phases.timeSync('check', () => 1 + 1);
    await phases.time('view', () => new Promise((resolve) => setTimeout(resolve, 20)));
    const entries = phases.entries();
    expect(entries.map(([phase]) => phase)).toEqual(['view', 'check', 'total']);
    const view = entries[0]![1];
    expect(view).toBeGreaterThanOrEqual(38);
    expect(entries[2]![1]).toBeGreaterThanOrEqual(view);
  });

  it('times a phase that throws, and lets the error through', async () => {
    const phases = new PhaseTimings();
    await expect(phases.time('rows', () => Promise.reject(new Error('no database')))).rejects.toThrow('no database');
    expect(() =>
      phases.timeSync('sign', () => {
        throw new Error('no key');
      }),
    ).toThrow('no key');
    expect(phases.entries().map(([phase]) => phase)).toEqual(['rows', 'sign', 'total']);
  });

  it('writes a Server-Timing value that parses back to the same phases, to 0.1 ms', () => {
    const phases = new PhaseTimings();
    phases.add('offsets', 3.14159);
    phases.add('catch-up', 0.04);
    const header = phases.header();
    expect(header).toMatch(/^offsets;dur=3\.1, catch-up;dur=0\.0, total;dur=\d+\.\d$/);
    const parsed = parseServerTiming(header);
    expect([...parsed.keys()]).toEqual(['offsets', 'catch-up', 'total']);
    expect(parsed.get('offsets')).toBe(3.1);
    expect(parseServerTiming(null).size).toBe(0);
    expect(parseServerTiming('garbage, x;dur=abc').size).toBe(0);
  });
});

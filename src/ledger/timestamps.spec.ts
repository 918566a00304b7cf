import { describe, expect, it } from '@jest/globals';
import { toMicrosecondText } from './timestamps.js';

describe('a time as the read models keep it', () => {
  it('cuts the fraction to microseconds, which PostgreSQL would round (into the next second at .9999996)', () => {
    expect(toMicrosecondText('2026-01-01T00:00:00.9999996Z')).toBe('2026-01-01T00:00:00.999999Z');
    expect(toMicrosecondText('2026-01-01T00:00:00.123456789+01:00')).toBe('2026-01-01T00:00:00.123456+01:00');
    for (const kept of ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00.5Z', '2026-01-01T00:00:00.123456-05:00']) {
      expect(toMicrosecondText(kept)).toBe(kept);
    }
  });
});

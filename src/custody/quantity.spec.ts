import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fromMicros, MAX_QUANTITY, QuantityError, toMicros } from './quantity.js';

describe('quantities in millionths', () => {
  it('keeps decimal amounts exact where binary fractions would not', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(fromMicros(toMicros(0.1) + toMicros(0.2))).toBe(0.3);
    expect(fromMicros(toMicros(20_000) - toMicros(59.95) - toMicros(0.05))).toBe(19_940);
  });

  it('gives back every amount of up to six decimals exactly, through subtraction too', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_QUANTITY * 1e6 }), fc.integer({ min: 1, max: MAX_QUANTITY * 1e6 }), (a, b) => {
        const amount = Number((a / 1e6).toFixed(6));
        expect(toMicros(amount)).toBe(a);
        const [big, small] = a >= b ? [a, b] : [b, a];
        expect(toMicros(fromMicros(big)) - toMicros(fromMicros(small))).toBe(big - small);
      }),
    );
  });

  it('refuses amounts that are not positive, too large, or finer than a millionth', () => {
    for (const amount of [0, -1, Number.NaN, Infinity, MAX_QUANTITY + 1, 0.0000001, 1.2345678]) {
      expect(() => toMicros(amount)).toThrow(QuantityError);
    }
  });
});

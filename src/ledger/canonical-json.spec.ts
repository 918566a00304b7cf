import { describe, expect, it } from '@jest/globals';
import { canonicalize, CanonicalJsonError } from './canonical-json.js';

describe('canonicalize (RFC 8785)', () => {
  it('reproduces the example of RFC 8785 section 3.2.2', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        '"literals": [null, true, false]}',
    ) as unknown;
    expect(canonicalize(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts members by UTF-16 code units as in RFC 8785 section 3.2.3', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'] as const;
    const expected = `{${order.map((key) => `${JSON.stringify(key)}:${JSON.stringify(input[key])}`).join(',')}}`;
    expect(canonicalize(input)).toBe(expected);
  });

  it('writes numbers in ECMAScript form', () => {
    expect(canonicalize([-0, 1e21, 1e-7, -17, 9007199254740991, 0.1 + 0.2])).toBe(
      '[0,1e+21,1e-7,-17,9007199254740991,0.30000000000000004]',
    );
  });

  it('refuses what JSON cannot carry, naming where', () => {
    expect(() => canonicalize({ a: [1, Number.NaN] })).toThrow(new CanonicalJsonError('/a/1', 'NaN is not a JSON number'));
    expect(() => canonicalize({ a: undefined })).toThrow(/\/a: undefined is not a JSON value/);
    expect(() => canonicalize({ s: 'x\ud800y' })).toThrow(/lone UTF-16 surrogate/);
    expect(() => canonicalize({ d: new Date(0) })).toThrow(/only plain objects/);
    expect(() => canonicalize({ n: 10n })).toThrow(/a bigint is not a JSON value/);
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point
    expect(() => canonicalize([1, , 3])).toThrow(new CanonicalJsonError('/1', 'undefined is not a JSON value'));
  });

  it('refuses nesting deeper than 64 levels', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = [deep];
    expect(() => canonicalize(deep)).toThrow(/nested deeper than 64 levels/);
  });
});

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { gs1KeyIdentities } from '../../test/fixtures/epcis/gs1-key-arbitraries.js';
import type { Gs1KeyIdentity } from './gs1-key-identity.js';
import { epcUrn, escapeEpcComponent, parseEpcUrn, unescapeEpcComponent } from './epc-urn.js';

/** Known pairs: TDS's own worked examples and those of the EPCIS hash reference's outputs. */
const KNOWN: [string, Gs1KeyIdentity, number][] = [
  ['urn:epc:id:sgtin:0614141.812345.6789AB', { kind: 'sgtin', gtin: '80614141123458', serial: '6789AB' }, 7],
  ['urn:epc:id:sgtin:0614141.107346.2017', { kind: 'sgtin', gtin: '10614141073464', serial: '2017' }, 7],
  ['urn:epc:id:sgtin:415056789012.0.987654', { kind: 'sgtin', gtin: '04150567890128', serial: '987654' }, 12],
  ['urn:epc:class:lgtin:4012345.012345.998877', { kind: 'lgtin', gtin: '04012345123456', lot: '998877' }, 7],
  ['urn:epc:id:sscc:0614141.1234567890', { kind: 'sscc', sscc: '106141412345678908' }, 7],
  ['urn:epc:id:sscc:4012345.0000000333', { kind: 'sscc', sscc: '040123450000003338' }, 7],
  ['urn:epc:id:sgln:0614141.12345.400', { kind: 'location', gln: '0614141123452', extension: '400' }, 7],
  ['urn:epc:id:sgln:0012345.11111.0', { kind: 'location', gln: '0012345111112' }, 7],
  ['urn:epc:id:sgln:999999999999..0', { kind: 'location', gln: '9999999999994' }, 12],
  ['urn:epc:id:pgln:4012345.00000', { kind: 'party', gln: '4012345000009' }, 7],
  ['urn:epc:id:sgtin:4012345.011111.A.B.C', { kind: 'sgtin', gtin: '04012345111118', serial: 'A.B.C' }, 7],
];

describe('EPC URNs (GS1 EPC Tag Data Standard)', () => {
  it.each(KNOWN)('reads %s and writes it back', (urn, identity, companyPrefixLength) => {
    expect(parseEpcUrn(urn)).toEqual({ ok: true, value: { identity, companyPrefixLength } });
    expect(epcUrn(identity, companyPrefixLength)).toBe(urn);
  });

  it('escapes exactly the seven characters TDS Table A-1 escapes, and no other', () => {
    expect(escapeEpcComponent('"%&/<>?')).toBe('%22%25%26%2F%3C%3E%3F');
    expect(escapeEpcComponent("!'()*+,-.:;=_AZaz09")).toBe("!'()*+,-.:;=_AZaz09");
    expect(parseEpcUrn('urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()')).toMatchObject({
      ok: true,
      value: { identity: { serial: '6789/&%"!?()' } },
    });
  });

  it('reads escapes of any character of set 82, in either case, and writes the canonical form', () => {
    const read = parseEpcUrn('urn:epc:id:sgtin:0614141.812345.%41b%2fc');
    expect(read).toMatchObject({ ok: true, value: { identity: { serial: 'Ab/c' } } });
    expect(epcUrn({ kind: 'sgtin', gtin: '80614141123458', serial: 'Ab/c' }, 7)).toBe('urn:epc:id:sgtin:0614141.812345.Ab%2Fc');
  });

  it.each([
    ['a raw slash', 'urn:epc:id:sgtin:0614141.812345.A/B'],
    ['an escape of # (outside set 82)', 'urn:epc:id:sgtin:0614141.812345.A%23'],
    ['an escape of a control character', 'urn:epc:id:sgtin:0614141.812345.A%00'],
    ['a broken escape', 'urn:epc:id:sgtin:0614141.812345.A%G1'],
    ['a non-ASCII letter', 'urn:epc:id:sgtin:0614141.812345.é'],
    ['a serial of 21 characters', 'urn:epc:id:sgtin:0614141.812345.123456789012345678901'],
    ['an empty serial', 'urn:epc:id:sgtin:0614141.812345.'],
    ['a company prefix of 5 digits', 'urn:epc:id:sgtin:06141.81234567.1'],
    ['digits that do not add up to a GTIN', 'urn:epc:id:sgtin:0614141.81234.1'],
    ['a missing part', 'urn:epc:id:sgtin:0614141.812345'],
    ['an SSCC of 18 digits without check digit', 'urn:epc:id:sscc:0614141.12345678901'],
    ['an SGLN extension of 21 characters', 'urn:epc:id:sgln:0614141.12345.123456789012345678901'],
    ['a PGLN with an extension', 'urn:epc:id:pgln:4012345.00000.0'],
    ['another scheme', 'urn:epc:id:grai:4012345.00022.334455'],
  ])('refuses %s', (_, urn) => {
    expect(parseEpcUrn(urn)).toMatchObject({ ok: false, problem: expect.any(String) });
  });

  it('reads back its unescaping of every set 82 character', () => {
    expect(unescapeEpcComponent(escapeEpcComponent(`!"%&'()*+,-./:;<=>?_`))).toBe(`!"%&'()*+,-./:;<=>?_`);
  });

  it('needs the company prefix length to write a URN', () => {
    expect(() => epcUrn({ kind: 'party', gln: '4012345000009' }, 5)).toThrow(RangeError);
  });
});

describe('EPC URN round trips', () => {
  it('reads back every key it writes, with its company prefix length', () => {
    fc.assert(
      fc.property(gs1KeyIdentities, fc.integer({ min: 6, max: 12 }), (identity, companyPrefixLength) => {
        const urn = epcUrn(identity, companyPrefixLength);
        expect(urn).toMatch(/^urn:epc:(id|class):[a-z]+:[0-9]+\.[0-9]*(\.[A-Za-z0-9!'()*+,\-.:;=_%]+)?$/);
        expect(parseEpcUrn(urn)).toEqual({ ok: true, value: { identity, companyPrefixLength } });
      }),
    );
  });
});

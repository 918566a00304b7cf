import { describe, expect, it } from '@jest/globals';
import { canonicalValue, numberText, pythonFloatText, stripWhitespace, utcMillisecondsText } from './event-hash-values.js';

// Expected texts are Python's (repr, float, the reference's timestamp rule), written out here.
describe('values in the pre-hash string', () => {
  it.each([
    [0.1, '0.1'],
    [12.1, '12.1'],
    [0.30000000000000004, '0.30000000000000004'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [-2.5, '-2.5'],
    [123456.789, '123456.789'],
  ])('writes the double %d as Python does: %s', (value, text) => {
    expect(pythonFloatText(value)).toBe(text);
  });

  it.each([
    ['1.0', '1'],
    ['3.50', '3.5'],
    ['0614141', '614141'],
    ['+5', '5'],
    ['-0', '0'],
    ['1_000', '1000'],
    ['1e3', '1000'],
    ['.5', '0.5'],
    ['12345678901234567890', '12345678901234567168'],
    ['0x10', '0x10'],
    ['nan', 'nan'],
    ['1e400', '1e400'],
    ['1__0', '1__0'],
    ['0A1B', '0A1B'],
    ['', ''],
  ])('writes %j as the number %j (or leaves what is no number)', (value, text) => {
    expect(numberText(value)).toBe(text);
  });

  it.each([
    ['2020-03-04T11:00:30.000+01:00', '2020-03-04T10:00:30.000Z'],
    ['2022-02-16T20:33:31.116000-06:00', '2022-02-17T02:33:31.116Z'],
    ['2023-01-11T12:00:00+01:00', '2023-01-11T11:00:00.000Z'],
    ['2023-01-18T11:04:03.1415Z', '2023-01-18T11:04:03.142Z'],
    ['2023-01-18T11:04:03.1425Z', '2023-01-18T11:04:03.142Z'],
    ['2023-01-18T11:04:03.14250001Z', '2023-01-18T11:04:03.142Z'],
    ['2023-01-18T11:04:03.1426Z', '2023-01-18T11:04:03.143Z'],
    ['2026-03-01T12:00:00.0005-03:00', '2026-03-01T15:00:00.000Z'],
    ['2026-03-01T10:00:00', '2026-03-01T10:00:00.000Z'],
    ['0099-12-31T23:00:00-02:00', '0100-01-01T01:00:00.000Z'],
    ['yesterday', 'yesterday'],
  ])('writes the time %s in UTC with milliseconds: %s', (value, text) => {
    expect(utcMillisecondsText(value)).toBe(text);
  });

  it('rounds into the next second where the reference drops the event', () => {
    // round(999600 µs) is 1,000,000 µs; the reference's datetime refuses that and leaves the
    // whole event out of its answer. The natural reading is the next second.
    expect(utcMillisecondsText('2026-03-01T23:59:59.9996Z')).toBe('2026-03-02T00:00:00.000Z');
  });

  it('replaces CBV 1.2 vocabulary URNs by their web URIs, then normalises numbers and GS1 keys', () => {
    expect(canonicalValue('urn:epcglobal:cbv:bizstep:receiving')).toBe('https://ref.gs1.org/cbv/BizStep-receiving');
    expect(canonicalValue('urn:epcglobal:cbv:disp:in_transit')).toBe('https://ref.gs1.org/cbv/Disp-in_transit');
    expect(canonicalValue('urn:epcglobal:cbv:btt:po')).toBe('https://ref.gs1.org/cbv/BTT-po');
    expect(canonicalValue('urn:epcglobal:cbv:sdt:owning_party')).toBe('https://ref.gs1.org/cbv/SDT-owning_party');
    expect(canonicalValue('urn:epcglobal:cbv:er:incorrect_data')).toBe('https://ref.gs1.org/cbv/ER-incorrect_data');
    expect(canonicalValue('urn:epcglobal:cbv:bt:0614141073467:1152')).toBe('urn:epcglobal:cbv:bt:0614141073467:1152');
    expect(canonicalValue('26.00')).toBe('26');
    expect(canonicalValue('urn:epc:id:sscc:4012345.0000000333')).toBe('https://id.gs1.org/00/040123450000003338');
  });

  it('strips what Python strips', () => {
    expect(stripWhitespace(' \t\u00a0 spaced \u3000\n')).toBe('spaced');
    expect(stripWhitespace('\ufeffkept')).toBe('\ufeffkept');
  });
});

import { describe, expect, it } from '@jest/globals';
import { gs1CheckDigit, parseGln, parseGtin, parseLot, parseSerial, parseSscc } from './gs1-keys.js';

/** Check digits computed the long way, independently of gs1CheckDigit. */
function referenceCheckDigit(digits: string): number {
  const reversed = Array.from(digits, Number).reverse();
  const weighted = reversed.reduce((sum, d, i) => sum + (i % 2 === 0 ? 3 * d : d), 0);
  return Math.ceil(weighted / 10) * 10 - weighted;
}

describe('GS1 keys', () => {
  it('accepts the example keys GS1 publishes', () => {
    expect(parseGtin('09506000134352')).toEqual({ ok: true, value: '09506000134352' });
    expect(parseGln('9506000134376')).toEqual({ ok: true, value: '9506000134376' });
    expect(parseSscc('106141411234567897')).toEqual({ ok: true, value: '106141411234567897' });
  });

  it('normalises GTIN-8, -12 and -13 to 14 digits', () => {
    expect(parseGtin('4006381333931')).toEqual({ ok: true, value: '04006381333931' });
    expect(parseGtin('036000291452')).toEqual({ ok: true, value: '00036000291452' });
    expect(parseGtin('96385074')).toEqual({ ok: true, value: '00000096385074' });
  });

  it('computes the check digit as the reference does, for many numbers', () => {
    for (let n = 0; n < 2000; n++) {
      const digits = String((n * 7_919_993 + 12_345) % 10 ** 12).padStart(12, '0');
      expect(gs1CheckDigit(digits)).toBe(referenceCheckDigit(digits));
    }
  });

  it('says which check digit would be right', () => {
    expect(parseGtin('09506000134353')).toEqual({
      ok: false,
      problem: 'the check digit of GTIN 09506000134353 is 3, but 2 is correct',
    });
    expect(parseSscc('106141411234567890')).toMatchObject({ ok: false, problem: expect.stringMatching(/but 7 is correct/) });
  });

  it('refuses wrong lengths, non-digits and non-strings', () => {
    expect(parseGtin('123')).toEqual({ ok: false, problem: 'a GTIN has 8, 12, 13 or 14 digits, found "123"' });
    expect(parseGln('95060001343761')).toMatchObject({ ok: false, problem: expect.stringMatching(/^a GLN has 13 digits/) });
    expect(parseSscc('10614141123456789X')).toMatchObject({ ok: false });
    expect(parseGtin(9506000134352)).toEqual({ ok: false, problem: 'a GTIN is a string of digits' });
  });

  it('accepts serial and lot numbers of GS1 character set 82, up to 20 characters', () => {
    expect(parseSerial('SN-0001/A*(b)')).toEqual({ ok: true, value: 'SN-0001/A*(b)' });
    expect(parseLot('L2026-11')).toEqual({ ok: true, value: 'L2026-11' });
    expect(parseSerial('x'.repeat(21))).toEqual({ ok: false, problem: 'a serial number is 1 to 20 characters' });
    expect(parseLot('')).toMatchObject({ ok: false });
    expect(parseSerial('Größe')).toMatchObject({ ok: false, problem: expect.stringMatching(/character set 82/) });
    expect(parseSerial('a b')).toMatchObject({ ok: false });
    expect(parseSerial('a#b')).toMatchObject({ ok: false });
  });
});

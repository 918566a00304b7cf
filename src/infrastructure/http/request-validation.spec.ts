import { describe, expect, it } from '@jest/globals';
import { Type } from '@sinclair/typebox';
import { ProblemException } from './problem-details.js';
import { checkSchema, FORMATS, parseInstant } from './request-validation.js';

function problemOf(run: () => unknown): ProblemException {
  try {
    run();
  } catch (error) {
    if (error instanceof ProblemException) return error;
    throw error;
  }
  throw new Error('expected a problem');
}

describe('request validation', () => {
  it('takes RFC 3339 times with an offset that are on the calendar', () => {
    for (const ok of [
      '2026-11-26T09:30:00Z',
      '2026-11-26T09:30:00.123456+01:00',
      '2028-02-29T23:59:59-05:30',
      '2026-11-26T09:30:00+14:00',
      '0001-01-01T00:00:00Z',
    ]) {
      expect(parseInstant(ok)).toEqual({ ok: true, value: ok });
    }
    for (const bad of [
      '2026-02-30T10:00:00Z',
      '2027-02-29T10:00:00Z',
      '2026-11-26T24:00:00Z',
      '2026-11-26T09:30:00',
      '2026-11-26',
      // Offsets beyond the world's ±14:00, and year 0: PostgreSQL stores neither (a projector would stop on them).
      '2026-11-26T09:30:00+14:01',
      '2026-11-26T09:30:00-20:00',
      '0000-01-01T00:00:00Z',
      '0001-01-01T00:30:00+01:00',
      42,
    ]) {
      expect(parseInstant(bad).ok).toBe(false);
    }
  });

  it('says which check digit a GS1 key should have had', () => {
    const gln = FORMATS.gln!('4012345000010');
    expect(gln).toEqual({ ok: false, problem: 'the check digit of GLN 4012345000010 is 0, but 6 is correct' });
    expect(FORMATS['gs1-product']!('/00/106141411234567897')).toMatchObject({ ok: false });
    expect(FORMATS['gs1-shipment']!('/00/106141411234567897')).toMatchObject({ ok: true });
  });

  it('names every wrong field with a JSON pointer, escaping field names', () => {
    const schema = Type.Object(
      {
        location: Type.String({ format: 'gln' }),
        when: Type.String({ format: 'date-time' }),
        kind: Type.Union([Type.Literal('a'), Type.Literal('b')]),
      },
      { additionalProperties: false },
    );
    const problem = problemOf(() => checkSchema(schema, { location: '4012345000010', kind: 'c', 'a/b': 1 }, '/steps/2'));
    expect(problem.problem.status).toBe(400);
    expect(problem.problem.errors).toEqual(
      expect.arrayContaining([
        { pointer: '/steps/2/location', detail: 'the check digit of GLN 4012345000010 is 0, but 6 is correct' },
        { pointer: '/steps/2/when', detail: 'is required' },
        { pointer: '/steps/2/a~1b', detail: 'is not a field of this request' },
        { pointer: '/steps/2/kind', detail: 'must be one of "a", "b"' },
      ]),
    );
    expect(problem.problem.errors).toHaveLength(4);
    expect(checkSchema(schema, { location: '4012345000009', when: '2026-11-26T09:30:00Z', kind: 'a' })).toBeTruthy();
  });
});

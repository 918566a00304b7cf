import { describe, expect, it } from '@jest/globals';
import type { ReadModelTable } from '../projection/index.js';
import { rowDifference } from './read-model-check.js';

/** A table with a column of each kind, as the read models have them. */
const table: ReadModelTable = {
  name: 'custody_events',
  columns: [
    { name: 'event_id', sql: 'uuid', kind: 'text' },
    { name: 'sequence', sql: 'bigint', kind: 'number' },
    { name: 'occurred_at', sql: 'timestamptz', kind: 'time' },
    { name: 'entity_ids', sql: 'text[]', kind: 'texts' },
    { name: 'payload', sql: 'jsonb', kind: 'json' },
  ],
  key: ['sequence'],
  sequence: 'sequence',
};

const expected = {
  event_id: '00000000-0000-4000-8000-000000000001',
  sequence: 12,
  occurred_at: '2026-12-04T10:00:00Z',
  entity_ids: ['a', 'b'],
  payload: { party: 'x', location: { id: 'y', kind: 'site' }, counts: [1, 2], sealed: true, note: null },
};

describe('rowDifference: a row held against the row the ledger folds to', () => {
  it('finds none in the same row as PostgreSQL answers it (members in another order, a bigint as text, a time written another way)', () => {
    const found = {
      payload: { note: null, sealed: true, counts: [1, 2], location: { kind: 'site', id: 'y' }, party: 'x' },
      entity_ids: ['a', 'b'],
      occurred_at: '2026-12-04T10:00:00+00:00',
      sequence: '12',
      event_id: '00000000-0000-4000-8000-000000000001',
    };
    expect(rowDifference(table, expected, found)).toBeNull();
    expect(rowDifference(table, expected, JSON.parse(JSON.stringify(expected)) as typeof expected)).toBeNull();
  });

  it.each([
    ['a text', { event_id: '00000000-0000-4000-8000-000000000002' }, 'custody_events.event_id'],
    ['a number', { sequence: 13 }, 'custody_events.sequence'],
    ['a number as text', { sequence: '13' }, 'custody_events.sequence'],
    ['a time an hour off', { occurred_at: '2026-12-04T10:00:00+01:00' }, 'custody_events.occurred_at'],
    ['a time that is not one', { occurred_at: 'yesterday' }, 'custody_events.occurred_at'],
    ['the texts in another order', { entity_ids: ['b', 'a'] }, 'custody_events.entity_ids'],
    ['one text fewer', { entity_ids: ['a'] }, 'custody_events.entity_ids'],
    [
      'a nested member',
      { payload: { ...expected.payload, location: { id: 'z', kind: 'site' } } },
      'custody_events.payload.location',
    ],
    ['an array member reordered', { payload: { ...expected.payload, counts: [2, 1] } }, 'custody_events.payload.counts'],
    ['a member too many', { payload: { ...expected.payload, extra: 1 } }, 'custody_events.payload.extra'],
    [
      'a member missing',
      { payload: { location: { id: 'y', kind: 'site' }, counts: [1, 2], sealed: true, note: null } },
      'custody_events.payload.party',
    ],
    ['a boolean as text', { payload: { ...expected.payload, sealed: 'true' } }, 'custody_events.payload.sealed'],
    ['a number as text in JSON', { payload: { ...expected.payload, counts: [1, '2'] } }, 'custody_events.payload.counts'],
    ['a column missing', { payload: undefined }, 'custody_events.payload'],
  ])('names %s, and where', (_what, change, field) => {
    const found = { ...expected, ...change };
    expect(rowDifference(table, expected, found)).toMatchObject({ field });
  });

  it('takes a missing value and null as the same, as the comparable form does', () => {
    expect(rowDifference(table, { ...expected, payload: null }, { ...expected, payload: undefined })).toBeNull();
  });
});

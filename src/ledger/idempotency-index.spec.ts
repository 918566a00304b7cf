import { describe, expect, it } from '@jest/globals';
import { IdempotencyIndex, requestDigestOf } from './idempotency-index.js';
import { EventIdConflictError } from './ledger-errors.js';
import { CHECKPOINT_EVENT, type LedgerRecord, type StoredRecord } from './ledger-record.js';

function stored(
  sequence: number,
  eventId: string,
  payload: LedgerRecord['payload'],
  eventType = 'custody.handover',
): StoredRecord {
  const record = { ledgerId: 'unit', partition: 0, sequence, eventId, eventType, payload } as unknown as LedgerRecord;
  return { partition: 0, offset: String(sequence + 10), record, hash: String(sequence).padStart(64, '0') };
}

describe('IdempotencyIndex', () => {
  it('reads the request digest from the payload member the format names', () => {
    expect(requestDigestOf({ requestDigest: 'd-1', n: 1 })).toBe('d-1');
    expect(requestDigestOf({ requestDigest: 7 })).toBeUndefined();
    expect(requestDigestOf({})).toBeUndefined();
  });

  it('indexes a record read back once the checkpoint covering it arrives, with that checkpoint’s size', () => {
    const index = new IdempotencyIndex();
    index.readBack(stored(2, 'e-1', { requestDigest: 'd-1' }));
    index.readBack(stored(3, 'e-2', { n: 1 }));
    expect(index.recorded(['e-1'], 'd-1')).toBeUndefined();
    index.readBack(stored(4, 'cp', {}, CHECKPOINT_EVENT));
    expect(index.recorded(['e-1'], 'd-1')).toEqual([
      { ledgerId: 'unit', partition: 0, offset: '12', sequence: 2, hash: stored(2, 'e-1', {}).hash, checkpointSize: 4 },
    ]);
    expect(index.recorded(['e-2'], 'd-1')).toBeUndefined();
  });

  it('refuses a digest other than the recorded one, and a request only some of whose events are recorded', () => {
    const index = new IdempotencyIndex();
    const receipt = { ledgerId: 'unit', partition: 0, offset: '5', sequence: 5, hash: 'a'.repeat(64), checkpointSize: 7 };
    index.committed(stored(5, 'e-1', { requestDigest: 'd-1' }).record, receipt);
    expect(index.recorded(['e-1'], 'd-1')).toEqual([receipt]);
    expect(() => index.recorded(['e-1'], 'd-2')).toThrow(EventIdConflictError);
    expect(() => index.recorded(['e-1', 'e-9'], 'd-1')).toThrow(/event e-9 is not recorded, but others of its request are/);
  });

  it('replays a group only when all of it carries one digest; an event id of it recorded otherwise conflicts', () => {
    const index = new IdempotencyIndex();
    const receipt = { ledgerId: 'unit', partition: 0, offset: '5', sequence: 5, hash: 'a'.repeat(64), checkpointSize: 7 };
    index.committed(stored(5, 'e-1', { requestDigest: 'd-1' }).record, receipt);
    const request = (eventId: string, payload: LedgerRecord['payload']) =>
      ({ eventId, eventType: 'custody.handover', entityIds: ['p'], occurredAt: '', actor: 'a', payload }) as const;
    expect(index.replayOf([request('e-1', { requestDigest: 'd-1' })])).toEqual([receipt]);
    expect(index.replayOf([request('e-3', { requestDigest: 'd-3' })])).toBeUndefined();
    expect(() => index.replayOf([request('e-1', {})])).toThrow(/event e-1 was recorded for a different request/);
  });
});

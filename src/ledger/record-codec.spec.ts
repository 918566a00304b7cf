import { describe, expect, it } from '@jest/globals';
import { decodeRecord, encodeRecord, RecordFormatError } from './record-codec.js';
import type { LedgerRecord } from './ledger-record.js';

const record: LedgerRecord = {
  formatVersion: 1,
  ledgerId: 'unit',
  partition: 0,
  sequence: 2,
  previousHash: 'a'.repeat(64),
  eventId: '00000000-0000-4000-8000-000000000001',
  eventType: 'custody.handover',
  entities: [{ id: '/01/09506000134352/21/A', previousHash: null }],
  occurredAt: '2026-11-26T07:00:00Z',
  recordedAt: '2026-11-26T08:00:00.000Z',
  actor: 'op',
  payload: { note: 'Lieferschein ✓ 🥛', n: 1e21 },
};

describe('decoding a stored record', () => {
  const { bytes, hash } = encodeRecord(record);

  it('gives back the record and the hash of its exact bytes', () => {
    expect(decodeRecord(bytes)).toEqual({ record, hash });
  });

  it('refuses bytes that only decode to the canonical text: a byte-order mark, white space, escapes', () => {
    const text = new TextDecoder().decode(bytes);
    const variants = [
      Uint8Array.of(0xef, 0xbb, 0xbf, ...bytes),
      new TextEncoder().encode(` ${text}`),
      new TextEncoder().encode(text.replace('✓', '\\u2713')),
      new TextEncoder().encode(text.replace('"n":1e+21', '"n":1000000000000000000000')),
    ];
    for (const variant of variants) {
      expect(variant).not.toEqual(bytes);
      expect(() => decodeRecord(variant)).toThrow(RecordFormatError);
    }
  });

  it('refuses malformed UTF-8', () => {
    expect(() => decodeRecord(Uint8Array.of(...bytes.slice(0, 10), 0xc0, 0xaf, ...bytes.slice(10)))).toThrow(
      'the value is not UTF-8 JSON',
    );
  });
});

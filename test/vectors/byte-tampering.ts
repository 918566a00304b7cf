/**
 * Negative vectors made without the key: the honest partition's bytes changed, copied, moved or
 * deleted, as anyone who can write to the topic (or rewrite it) could.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import type { SignedCheckpoint } from '../../src/ledger/checkpoint-note.js';
import type { LedgerRecord } from '../../src/ledger/ledger-record.js';
import { encodeRecord } from '../../src/ledger/record-codec.js';
import type { HonestPartition } from './honest-partition.js';
import type { TamperedPartition } from './vector-partition.js';

const encoder = new TextEncoder();
const encode = (record: LedgerRecord) => encodeRecord(record).bytes;
const checkpointOf = (record: LedgerRecord) => record.payload as unknown as SignedCheckpoint;

/** The checkpoint record with this base64 on its signature line, and the signature it holds in its signature member. */
function withSignatureLine(record: LedgerRecord, encoded: string): LedgerRecord {
  const checkpoint = checkpointOf(record);
  const [text] = checkpoint.note.split('\n\n');
  const signature = Buffer.from(encoded, 'base64').subarray(4).toString('base64');
  return {
    ...record,
    payload: { ...checkpoint, signature, note: `${text ?? ''}\n\n\u2014 ${checkpoint.keyName} ${encoded}\n` },
  };
}

function signatureLineOf(record: LedgerRecord): string {
  const note = checkpointOf(record).note;
  return note.slice(note.lastIndexOf(' ') + 1, -1);
}

/** The same bytes in base64 with a pad bit of the last character before the padding set. */
function withPadBitSet(encoded: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const last = encoded.replace(/=+$/, '').length - 1;
  const digit = alphabet.indexOf(encoded.charAt(last));
  return `${encoded.slice(0, last)}${alphabet.charAt(digit + 1)}${encoded.slice(last + 1)}`;
}

/** A version 8 UUID from the first 16 bytes of SHA-256 over the bytes, as checkpoint event ids are made. */
function uuid8(data: Uint8Array): string {
  const digest = sha256(data).slice(0, 16);
  digest[6] = ((digest[6] ?? 0) & 0x0f) | 0x80;
  digest[8] = ((digest[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytesToHex(digest);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function byteTamperings(honest: HonestPartition): TamperedPartition[] {
  const { record, value, transactionsOf } = honest;
  const copy = (sequence: number) => value(sequence).slice();

  const notUtf8 = (() => {
    const text = new TextDecoder().decode(value(4));
    const at = text.indexOf('ü');
    return concatBytes(encoder.encode(text.slice(0, at)), Uint8Array.of(0xfc), encoder.encode(text.slice(at + 1)));
  })();
  const reordered = (() => {
    const { sequence, ...rest } = record(2);
    return encoder.encode(JSON.stringify({ sequence, ...rest }));
  })();
  const withBom = concatBytes(Uint8Array.of(0xef, 0xbb, 0xbf), value(3));
  const longActor = encode({ ...record(5), actor: `${'\u{1F95B}'.repeat(100)}x` });
  const spacedTime = encode({ ...record(7), recordedAt: record(7).recordedAt.replace('T', ' ') });
  const otherPartition = encode({ ...record(8), partition: 0 });
  const replayOfTwo = copy(2);
  const replayOfTwoWhileMissing = copy(2);
  const copyOfFour = copy(4);
  const otherFive = encode({ ...record(5), payload: { ...record(5).payload, location: '4012345000023' } });
  const forkOfFive = otherFive.slice();
  const besideSeven = encode({
    ...record(7),
    eventId: '00000000-0000-4000-8000-0000000000ff',
    payload: { ...record(7).payload, destination: '4012345000030' },
  });
  const besideFour = encode({
    ...record(4),
    eventId: '00000000-0000-4000-8000-0000000000fe',
    payload: { ...record(4).payload, serial: 'SN-4X' },
  });
  const offsetTime = (() => {
    const local = new Date(Date.parse(record(7).recordedAt) + 3_600_000).toISOString().replace('Z', '+01:00');
    return encode({ ...record(7), recordedAt: local });
  })();
  const renumbered = encode({ ...record(4), sequence: 5 });
  const badSignature = (() => {
    const blob = Buffer.from(signatureLineOf(record(6)), 'base64');
    blob[20] = (blob[20] ?? 0) ^ 0x01;
    return encode(withSignatureLine(record(6), blob.toString('base64')));
  })();
  const badSignatureBesideFour = badSignature.slice();
  const paddedSignature = encode(withSignatureLine(record(6), withPadBitSet(signatureLineOf(record(6)))));
  const cosigned = (() => {
    const checkpoint = checkpointOf(record(9));
    const line = `\u2014 witness/example ${Buffer.alloc(68, 7).toString('base64')}\n`;
    return encode({ ...record(9), payload: { ...checkpoint, note: `${checkpoint.note}${line}` } });
  })();
  const eventIdOfWholeNote = (() => {
    const note = checkpointOf(record(9)).note;
    return encode({
      ...record(9),
      eventId: uuid8(concatBytes(utf8ToBytes('custodian.ledger.checkpoint.v1\0'), utf8ToBytes(note))),
    });
  })();
  const otherActor = encode({ ...record(9), actor: 'custodian-writer-2' });

  return [
    {
      name: 'malformed-not-utf8',
      change: 'record 4 holds its "ü" as the single byte 0xFC (Latin-1), which is not UTF-8',
      transactions: transactionsOf([0, 1], [2, 3], [notUtf8, 5, 6], [7, 8, 9]),
      expected: { kind: 'malformed', at: notUtf8, sequence: null },
    },
    {
      name: 'malformed-not-canonical',
      change: 'record 2 with its members in another order: the same JSON value, not its canonical text',
      transactions: transactionsOf([0, 1], [reordered, 3], [4, 5, 6], [7, 8, 9]),
      expected: { kind: 'malformed', at: reordered, sequence: null },
    },
    {
      name: 'malformed-byte-order-mark',
      change: 'checkpoint 3 behind a UTF-8 byte-order mark (EF BB BF), which is part of the value',
      transactions: transactionsOf([0, 1], [2, withBom], [4, 5, 6], [7, 8, 9]),
      expected: { kind: 'malformed', at: withBom, sequence: null },
    },
    {
      name: 'malformed-actor-too-long',
      change: 'record 5 with an actor of 100 × U+1F95B and "x": 101 code points but 201 UTF-16 code units',
      transactions: transactionsOf([0, 1], [2, 3], [4, longActor, 6], [7, 8, 9]),
      expected: { kind: 'malformed', at: longActor, sequence: null },
    },
    {
      name: 'malformed-time-with-space',
      change: 'record 7 with a space for the "T" of its recordedAt (RFC 3339 allows it, ledger format v1 does not)',
      transactions: transactionsOf([0, 1], [2, 3], [4, 5, 6], [spacedTime, 8, 9]),
      expected: { kind: 'malformed', at: spacedTime, sequence: null },
    },
    {
      name: 'foreign-partition',
      change: 'record 8 states partition 0 of the same ledger',
      transactions: transactionsOf([0, 1], [2, 3], [4, 5, 6], [7, otherPartition, 9]),
      expected: { kind: 'foreign', at: otherPartition, sequence: 8 },
    },
    {
      name: 'duplicate-verified',
      change: 'a byte-for-byte copy of the verified record 2 in the last transaction',
      transactions: transactionsOf([0, 1], [2, 3], [4, 5, 6], [7, replayOfTwo, 8, 9]),
      expected: { kind: 'duplicate', at: replayOfTwo, sequence: 2 },
    },
    {
      name: 'duplicate-waiting',
      change: 'a copy of record 4 right after it, while both wait for their checkpoint',
      transactions: transactionsOf([0, 1], [2, 3], [4, copyOfFour, 5, 6], [7, 8, 9]),
      expected: { kind: 'duplicate', at: copyOfFour, sequence: 4 },
    },
    {
      name: 'injected-verified-sequence',
      change: 'a record for sequence 5, with another location, in the last transaction (sequence 5 is verified by then)',
      transactions: transactionsOf([0, 1], [2, 3], [4, 5, 6], [7, forkOfFive, 8, 9]),
      expected: { kind: 'injected', at: forkOfFive, sequence: 5 },
    },
    {
      name: 'injected-beside-the-chain',
      change: 'a second record 7 (another event id and destination, linked to checkpoint 6) before the real one',
      transactions: transactionsOf([0, 1], [2, 3], [4, 5, 6], [besideSeven, 7, 8, 9]),
      expected: { kind: 'injected', at: besideSeven, sequence: 7 },
    },
    {
      name: 'modified-payload',
      change: 'the location in the payload of record 5 changed',
      transactions: transactionsOf([0, 1], [2, 3], [4, otherFive, 6], [7, 8, 9]),
      expected: { kind: 'modified', at: otherFive, sequence: 5 },
    },
    {
      name: 'modified-recorded-at-offset',
      change: "record 7's recordedAt written as the same instant at +01:00: still well-formed, but other bytes",
      transactions: transactionsOf([0, 1], [2, 3], [4, 5, 6], [offsetTime, 8, 9]),
      expected: { kind: 'modified', at: offsetTime, sequence: 7 },
    },
    {
      name: 'modified-sequence-member',
      change: "record 4's sequence member changed to 5: reported at sequence 4, where the chain expects it",
      transactions: transactionsOf([0, 1], [2, 3], [renumbered, 5, 6], [7, 8, 9]),
      expected: { kind: 'modified', at: renumbered, sequence: 4 },
    },
    {
      name: 'missing-in-a-batch',
      change: 'record 4 deleted: reported at record 5, which links to it, once the next checkpoint (9) arrives',
      transactions: transactionsOf([0, 1], [2, 3], [5, 6], [7, 8, 9]),
      expected: { kind: 'missing', at: value(5), sequence: 5 },
    },
    {
      name: 'missing-before-the-last-checkpoint',
      change: 'record 8 deleted: reported at checkpoint 9, which links to it, at the end of the partition',
      transactions: transactionsOf([0, 1], [2, 3], [4, 5, 6], [7, 9]),
      expected: { kind: 'missing', at: value(9), sequence: 9 },
    },
    {
      name: 'out-of-order-swapped',
      change: 'records 7 and 8 swapped: reported at record 8, which stands before the record it follows',
      transactions: transactionsOf([0, 1], [2, 3], [4, 5, 6], [8, 7, 9]),
      expected: { kind: 'out-of-order', at: value(8), sequence: 8 },
    },
    {
      name: 'out-of-order-late',
      change: 'record 5 moved after its checkpoint 6: reported at the checkpoint, when record 5 turns up',
      transactions: transactionsOf([0, 1], [2, 3], [4, 6, 5], [7, 8, 9]),
      expected: { kind: 'out-of-order', at: value(6), sequence: 6 },
    },
    {
      name: 'out-of-order-early',
      change: 'record 7, of the next transaction, moved before checkpoint 6',
      transactions: transactionsOf([0, 1], [2, 3], [4, 5, 7, 6], [8, 9]),
      expected: { kind: 'out-of-order', at: value(7), sequence: 7 },
    },
    {
      name: 'checkpoint-signature',
      change: 'one bit of the Ed25519 signature of checkpoint 6 flipped, in the signature line and the signature member',
      transactions: transactionsOf([0, 1], [2, 3], [4, 5, badSignature], [7, 8, 9]),
      expected: { kind: 'checkpoint', at: badSignature, sequence: 6 },
    },
    {
      name: 'checkpoint-non-canonical-base64',
      change: 'the signature line of checkpoint 6 with a pad bit set: the same bytes, not canonical base64',
      transactions: transactionsOf([0, 1], [2, 3], [4, 5, paddedSignature], [7, 8, 9]),
      expected: { kind: 'checkpoint', at: paddedSignature, sequence: 6 },
    },
    {
      name: 'checkpoint-second-signature-line',
      change: 'a second signature line (a made-up cosigner) appended to the note of the last checkpoint',
      transactions: transactionsOf([0, 1], [2, 3], [4, 5, 6], [7, 8, cosigned]),
      expected: { kind: 'checkpoint', at: cosigned, sequence: 9 },
    },
    {
      name: 'checkpoint-event-id-over-whole-note',
      change: "the last checkpoint's eventId derived from the whole signed note, signature line included",
      transactions: transactionsOf([0, 1], [2, 3], [4, 5, 6], [7, 8, eventIdOfWholeNote]),
      expected: { kind: 'checkpoint', at: eventIdOfWholeNote, sequence: 9 },
    },
    {
      name: 'checkpoint-unsigned-actor',
      change: "the last checkpoint's actor changed, a member its signature does not cover",
      transactions: transactionsOf([0, 1], [2, 3], [4, 5, 6], [7, 8, otherActor]),
      expected: { kind: 'checkpoint', at: otherActor, sequence: 9 },
    },
    {
      name: 'genesis-pin',
      change: 'the honest partition, held against another pin (the hash of checkpoint 1)',
      transactions: honest.transactions,
      genesisPin: honest.hash(1),
      expected: { kind: 'genesis', at: value(0), sequence: 0 },
    },
    {
      name: 'genesis-empty-partition',
      change: 'every record deleted; the genesis is pinned',
      transactions: [],
      expected: { kind: 'genesis', at: '0', sequence: null },
    },
    {
      name: 'uncovered',
      change: 'the last checkpoint deleted: records 7 and 8 wait for a checkpoint to the end',
      transactions: transactionsOf([0, 1], [2, 3], [4, 5, 6], [7, 8]),
      expected: { kind: 'uncovered', at: value(7), sequence: 7 },
    },
    {
      name: 'first-finding-broken-link-before-stray',
      change:
        'a second record 4 (linked to checkpoint 3) first in its transaction, and record 5 modified: the broken link is reported, not the stray at a lower offset',
      transactions: transactionsOf([0, 1], [2, 3], [besideFour, 4, otherFive, 6], [7, 8, 9]),
      expected: { kind: 'modified', at: otherFive, sequence: 5 },
    },
    {
      name: 'first-finding-checkpoint-before-stray',
      change:
        'a second record 4 first in its transaction, and the signature of checkpoint 6 bad: the checkpoint is reported, not the stray at a lower offset',
      transactions: transactionsOf([0, 1], [2, 3], [besideFour, 4, 5, badSignatureBesideFour], [7, 8, 9]),
      expected: { kind: 'checkpoint', at: badSignatureBesideFour, sequence: 6 },
    },
    {
      name: 'first-finding-duplicate-while-missing-waits',
      change:
        'record 4 deleted, and a copy of record 2 in the last transaction: the duplicate is found before checkpoint 9 would report record 4 missing',
      transactions: transactionsOf([0, 1], [2, 3], [5, 6], [7, replayOfTwoWhileMissing, 8, 9]),
      expected: { kind: 'duplicate', at: replayOfTwoWhileMissing, sequence: 2 },
    },
  ];
}

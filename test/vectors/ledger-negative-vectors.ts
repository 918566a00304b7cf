/**
 * Builds test/vectors/ledger-v1-negative.json: a partition the writer wrote, that copy of it
 * tampered with one change per case, each with the first finding docs/ledger-format.md §7
 * names for it, and the witness cases of docs/attestation-format.md §5. The expected findings
 * are written here by hand, from the format; src/ledger/ledger-negative-vectors.spec.ts holds
 * the implementation to them and fails when `npm run vectors` would change the file.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import type { BreakKind } from '../../src/ledger/chain-verifier.js';
import { CheckpointSigner, type SignedCheckpoint } from '../../src/ledger/checkpoint-note.js';
import type { Hash } from '../../src/ledger/hashing.js';
import { type AppendRequest, GENESIS_EVENT, type LedgerRecord, WRITER_ACTOR } from '../../src/ledger/ledger-record.js';
import { MerkleProofs, merkleRoot } from '../../src/ledger/merkle-tree.js';
import { PartitionWriter } from '../../src/ledger/partition-writer.js';
import { decodeRecord, encodeRecord } from '../../src/ledger/record-codec.js';
import { MemoryGenesisPins, MemoryPartitionLog, sequentialIds, steppingClock } from '../support/memory-ledger.js';
import { type ChainRecord, laidOut, reseal, transactions } from './forged-chain.js';
import { buildVerifierKeyVectors, type VerifierKeyVector } from './verifier-key-vectors.js';
import { VECTOR_SECRET_KEY } from './ledger-vectors.js';

const LEDGER_ID = 'vectors';
const PARTITION = 1;
const PARTITIONS = 2;
// Entity ids of partition 1 of 2 (ledger format §1).
const PRODUCT_A = '/01/09506000134352/21/SN-2';
const PRODUCT_B = '/01/09506000134352/21/SN-4';
const PALLET = '/00/106141412345678902';

/** Transactions after the writer's own first one (genesis and checkpoint). */
const BATCHES: Omit<AppendRequest, 'eventId'>[][] = [
  [
    {
      eventType: 'product.commissioned',
      entityIds: [PRODUCT_A],
      occurredAt: '2026-11-26T09:00:00+01:00',
      // 100 × U+1F95B: 100 code points, 400 UTF-8 bytes, 200 UTF-16 code units, the most an actor holds.
      actor: '\u{1F95B}'.repeat(100),
      payload: { gtin: '09506000134352', serial: 'SN-2', name: 'Bergkäse 🧀', owner: '4012345000009', location: '4012345000016' },
    },
  ],
  [
    {
      eventType: 'product.commissioned',
      entityIds: [PRODUCT_B],
      occurredAt: '2026-11-26T09:05:00+01:00',
      actor: 'maker',
      payload: {
        gtin: '09506000134352',
        serial: 'SN-4',
        name: 'Müller Vollmilch',
        owner: '4012345000009',
        location: '4012345000016',
      },
    },
    {
      eventType: 'shipment.packed',
      entityIds: [PALLET, PRODUCT_A, PRODUCT_B],
      occurredAt: '2026-11-26T08:10:00Z',
      actor: 'warehouse-7',
      payload: { party: '4012345000009', location: '4012345000016' },
    },
  ],
  [
    {
      eventType: 'shipment.dispatched',
      entityIds: [PALLET, PRODUCT_A, PRODUCT_B],
      occurredAt: '2026-11-26T08:20:00Z',
      actor: 'warehouse-7',
      payload: { party: '4012345000009', location: '4012345000016', destination: '4098765000052' },
    },
    {
      eventType: 'custody.inspected',
      entityIds: [PRODUCT_A],
      occurredAt: '2026-11-26T15:45:30.123456789+05:30',
      actor: 'inspector',
      payload: { party: '4098765000045', location: '4098765000052', result: 'passed' },
    },
  ],
];

/** A Kafka record of a vector: its value as UTF-8 text, or in base64 where it is not valid UTF-8. */
export type VectorEntry =
  { readonly offset: string; readonly value: string } | { readonly offset: string; readonly valueBase64: string };

/** The first finding of ledger format §7: what an implementation must report, and where. */
export interface ExpectedFinding {
  readonly kind: BreakKind;
  readonly offset: string;
  readonly sequence: number | null;
  readonly entityId?: string;
}

export interface NegativeLedgerVectors {
  readonly description: string;
  readonly formatVersion: 1;
  readonly entryFormat: string;
  readonly ledgerId: string;
  readonly partition: number;
  readonly partitions: number;
  readonly key: { readonly secretKeyHex: string; readonly verifierKey: string };
  readonly verifierKeys: readonly VerifierKeyVector[];
  readonly honest: { readonly genesisPin: Hash; readonly entries: readonly VectorEntry[] };
  readonly cases: readonly {
    readonly name: string;
    readonly change: string;
    readonly genesisPin: Hash | null;
    readonly entries: readonly VectorEntry[];
    /** null: the partition verifies. */
    readonly firstFinding: ExpectedFinding | null;
  }[];
  readonly witness: {
    readonly description: string;
    readonly checkpoint: SignedCheckpoint;
    readonly ledgers: readonly {
      readonly name: string;
      readonly change: string;
      readonly genesisPin: Hash | null;
      readonly entries: readonly VectorEntry[];
      readonly firstFinding: ExpectedFinding | null;
      /** null: the ledger extends the witnessed tree. */
      readonly witnessFinding: { readonly kind: 'truncated' | 'fork'; readonly sequence: number } | null;
    }[];
    readonly consistency: readonly {
      readonly why: string;
      readonly fromTreeSize: number;
      readonly fromRootHash: Hash;
      readonly toTreeSize: number;
      readonly toRootHash: Hash;
      readonly proof: readonly Hash[];
      readonly valid: boolean;
    }[];
  };
}

type Groups = readonly (readonly Uint8Array[])[];

interface Case {
  readonly name: string;
  readonly change: string;
  readonly groups: Groups;
  /** The honest genesis hash unless said otherwise. */
  readonly genesisPin?: Hash | null;
  /** `at`: the value the finding is at, or an offset where there is no value to name. */
  readonly expected: {
    readonly kind: BreakKind;
    readonly at: Uint8Array | string;
    readonly sequence: number | null;
    readonly entityId?: string;
  } | null;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

function vectorEntries(groups: Groups): { entries: VectorEntry[]; offsetOf: (value: Uint8Array) => string } {
  const laid = laidOut(groups);
  const entries = laid.map(({ offset, value }): VectorEntry => {
    try {
      return { offset, value: strictUtf8.decode(value) };
    } catch {
      return { offset, valueBase64: Buffer.from(value).toString('base64') };
    }
  });
  const offsetOf = (value: Uint8Array) => {
    const entry = laid.find((item) => item.value === value);
    if (!entry) throw new Error('the expected finding names a value the partition does not hold');
    return entry.offset;
  };
  return { entries, offsetOf };
}

function firstFinding(expected: Case['expected'], offsetOf: (value: Uint8Array) => string): ExpectedFinding | null {
  if (!expected) return null;
  const { kind, at, sequence, entityId } = expected;
  return { kind, offset: typeof at === 'string' ? at : offsetOf(at), sequence, ...(entityId === undefined ? {} : { entityId }) };
}

async function writeHonestPartition(signer: CheckpointSigner): Promise<ChainRecord[]> {
  const log = new MemoryPartitionLog(PARTITION);
  const writer = new PartitionWriter({
    ledgerId: LEDGER_ID,
    partition: PARTITION,
    partitions: PARTITIONS,
    signer,
    log,
    pins: new MemoryGenesisPins(),
    clock: steppingClock('2026-11-26T08:00:00.000Z'),
    maxBatch: 100,
    newEventId: sequentialIds(1),
  });
  await writer.start();
  const ids = sequentialIds(6);
  for (const batch of BATCHES) await writer.appendAll(batch.map((request) => ({ ...request, eventId: ids() })));
  await writer.close();
  return log.values().map(({ value }) => ({ ...decodeRecord(value), value }));
}

/** The checkpoint record with this text in place of its signature line's base64, and the signature it holds. */
function withSignatureLine(record: LedgerRecord, encoded: string): LedgerRecord {
  const payload = record.payload as unknown as SignedCheckpoint;
  const [text] = payload.note.split('\n\n');
  const signature = Buffer.from(encoded, 'base64').subarray(4).toString('base64');
  return { ...record, payload: { ...payload, signature, note: `${text ?? ''}\n\n\u2014 ${payload.keyName} ${encoded}\n` } };
}

function signatureLineOf(record: LedgerRecord): string {
  const note = (record.payload as unknown as SignedCheckpoint).note;
  return note.slice(note.lastIndexOf(' ') + 1, -1);
}

/** The same bytes in base64 whose last character before the padding has a pad bit set. */
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

export async function buildNegativeLedgerVectors(): Promise<NegativeLedgerVectors> {
  const signer = new CheckpointSigner(`custodian/${LEDGER_ID}`, VECTOR_SECRET_KEY);
  const honest = await writeHonestPartition(signer);
  const records = honest.map((item) => item.record);
  const record = (sequence: number) => (honest[sequence] as ChainRecord).record;
  const value = (sequence: number) => (honest[sequence] as ChainRecord).value;
  const encode = (changed: LedgerRecord) => encodeRecord(changed).bytes;
  const copy = (sequence: number) => value(sequence).slice();
  const pin = (honest[0] as ChainRecord).hash;
  const forged = (options: Parameters<typeof reseal>[2]) => reseal(records, signer, options);
  const at = (chain: readonly ChainRecord[], sequence: number) => (chain[sequence] as ChainRecord).value;
  const genesisAt = (linked: LedgerRecord): LedgerRecord => ({
    ...linked,
    eventType: GENESIS_EVENT,
    entities: [],
    actor: WRITER_ACTOR,
    payload: record(0).payload,
  });
  // Transactions as the writer committed them: sequences 0-1, 2-3, 4-6 and 7-9.
  const groups = (...lists: (number | Uint8Array)[][]): Groups =>
    lists.map((list) => list.map((item) => (typeof item === 'number' ? value(item) : item)));
  const HONEST = transactions(honest);

  const notUtf8 = (() => {
    const text = strictUtf8.decode(value(4));
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
  const forkOfFive = encode({ ...record(5), payload: { ...record(5).payload, location: '4012345000023' } });
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
  const replayOfTwo = copy(2);
  const replayOfTwoWhileMissing = copy(2);
  const copyOfFour = copy(4);
  const changedPayload = encode({ ...record(5), payload: { ...record(5).payload, location: '4012345000023' } });
  const offsetTime = (() => {
    const utc = record(7).recordedAt;
    const local = new Date(Date.parse(utc) + 3_600_000).toISOString().replace('Z', '+01:00');
    return encode({ ...record(7), recordedAt: local });
  })();
  const renumbered = encode({ ...record(4), sequence: 5 });
  const badSignature = (() => {
    const blob = Buffer.from(signatureLineOf(record(6)), 'base64');
    blob[20] = (blob[20] ?? 0) ^ 0x01;
    return encode(withSignatureLine(record(6), blob.toString('base64')));
  })();
  const paddedSignature = encode(withSignatureLine(record(6), withPadBitSet(signatureLineOf(record(6)))));
  const cosigned = (() => {
    const payload = record(9).payload as unknown as SignedCheckpoint;
    const line = `\u2014 witness/example ${Buffer.alloc(68, 7).toString('base64')}\n`;
    return encode({ ...record(9), payload: { ...payload, note: `${payload.note}${line}` } });
  })();
  const eventIdOfWholeNote = (() => {
    const note = (record(9).payload as unknown as SignedCheckpoint).note;
    const eventId = uuid8(concatBytes(utf8ToBytes('custodian.ledger.checkpoint.v1\0'), utf8ToBytes(note)));
    return encode({ ...record(9), eventId });
  })();
  const otherActor = encode({ ...record(9), actor: 'custodian-writer-2' });

  const gap = forged({ edit: (linked, index) => (index >= 7 ? { ...linked, sequence: linked.sequence + 1 } : linked) });
  const olderLink = forged({
    edit: (linked, index, hashes) => (index === 7 ? { ...linked, previousHash: hashes[4] ?? null } : linked),
  });
  const unlinkedGenesis = forged({
    edit: (linked, index) => (index === 8 ? { ...genesisAt(linked), previousHash: null } : linked),
  });
  const entityUnlinked = forged({
    edit: (linked, index) =>
      index === 7
        ? { ...linked, entities: linked.entities.map((e) => (e.id === PRODUCT_B ? { ...e, previousHash: null } : e)) }
        : linked,
  });
  const entityLinkedBack = forged({
    edit: (linked, index, hashes) =>
      index === 8 ? { ...linked, entities: [{ id: PRODUCT_A, previousHash: hashes[2] ?? null }] } : linked,
  });
  const otherRoot = forged({
    sign: (checkpoint, index, hashes) => (index === 6 ? { ...checkpoint, rootHash: merkleRoot(hashes.slice(0, 5)) } : checkpoint),
  });
  const otherOrigin = forged({
    sign: (checkpoint, index) => (index === 6 ? { ...checkpoint, origin: `custodian/${LEDGER_ID}/0` } : checkpoint),
  });
  const genesisOfPartitionZero = forged({
    edit: (linked, index) => (index === 0 ? { ...linked, payload: { ...linked.payload, partition: 0 } } : linked),
  });
  const laterGenesis = forged({ edit: (linked, index) => (index === 8 ? genesisAt(linked) : linked) });
  const permitted = forged({
    edit: (linked, index) => {
      if (index === 7) return { ...linked, recordedAt: '2026-11-26T13:30:03.123456789+05:30' };
      if (index === 8)
        return {
          ...linked,
          eventType: 'ledger.annotation',
          entities: [],
          actor: WRITER_ACTOR,
          recordedAt: '2026-11-26T08:00:03-00:00',
        };
      return linked;
    },
  });

  const cases: Case[] = [
    {
      name: 'malformed-not-utf8',
      change: 'record 4 holds its "ü" as the single byte 0xFC (Latin-1), which is not UTF-8',
      groups: groups([0, 1], [2, 3], [notUtf8, 5, 6], [7, 8, 9]),
      expected: { kind: 'malformed', at: notUtf8, sequence: null },
    },
    {
      name: 'malformed-not-canonical',
      change: 'record 2 with its members in another order: the same JSON value, not its canonical text',
      groups: groups([0, 1], [reordered, 3], [4, 5, 6], [7, 8, 9]),
      expected: { kind: 'malformed', at: reordered, sequence: null },
    },
    {
      name: 'malformed-byte-order-mark',
      change: 'checkpoint 3 behind a UTF-8 byte-order mark (EF BB BF), which is part of the value',
      groups: groups([0, 1], [2, withBom], [4, 5, 6], [7, 8, 9]),
      expected: { kind: 'malformed', at: withBom, sequence: null },
    },
    {
      name: 'malformed-actor-too-long',
      change: 'record 5 with an actor of 100 × U+1F95B and "x": 101 code points but 201 UTF-16 code units',
      groups: groups([0, 1], [2, 3], [4, longActor, 6], [7, 8, 9]),
      expected: { kind: 'malformed', at: longActor, sequence: null },
    },
    {
      name: 'malformed-time-with-space',
      change: 'record 7 with a space for the "T" of its recordedAt (RFC 3339 allows it, ledger format v1 does not)',
      groups: groups([0, 1], [2, 3], [4, 5, 6], [spacedTime, 8, 9]),
      expected: { kind: 'malformed', at: spacedTime, sequence: null },
    },
    {
      name: 'foreign-partition',
      change: 'record 8 states partition 0 of the same ledger',
      groups: groups([0, 1], [2, 3], [4, 5, 6], [7, otherPartition, 9]),
      expected: { kind: 'foreign', at: otherPartition, sequence: 8 },
    },
    {
      name: 'duplicate-verified',
      change: 'a byte-for-byte copy of the verified record 2 in the last transaction',
      groups: groups([0, 1], [2, 3], [4, 5, 6], [7, replayOfTwo, 8, 9]),
      expected: { kind: 'duplicate', at: replayOfTwo, sequence: 2 },
    },
    {
      name: 'duplicate-waiting',
      change: 'a copy of record 4 right after it, while both wait for their checkpoint',
      groups: groups([0, 1], [2, 3], [4, copyOfFour, 5, 6], [7, 8, 9]),
      expected: { kind: 'duplicate', at: copyOfFour, sequence: 4 },
    },
    {
      name: 'injected-verified-sequence',
      change: 'a record for sequence 5, with another location, in the last transaction (sequence 5 is verified by then)',
      groups: groups([0, 1], [2, 3], [4, 5, 6], [7, forkOfFive, 8, 9]),
      expected: { kind: 'injected', at: forkOfFive, sequence: 5 },
    },
    {
      name: 'injected-beside-the-chain',
      change: 'a second record 7 (another event id and destination, linked to checkpoint 6) before the real one',
      groups: groups([0, 1], [2, 3], [4, 5, 6], [besideSeven, 7, 8, 9]),
      expected: { kind: 'injected', at: besideSeven, sequence: 7 },
    },
    {
      name: 'modified-payload',
      change: 'the location in the payload of record 5 changed',
      groups: groups([0, 1], [2, 3], [4, changedPayload, 6], [7, 8, 9]),
      expected: { kind: 'modified', at: changedPayload, sequence: 5 },
    },
    {
      name: 'modified-recorded-at-offset',
      change: "record 7's recordedAt written as the same instant at +01:00: still well-formed, but other bytes",
      groups: groups([0, 1], [2, 3], [4, 5, 6], [offsetTime, 8, 9]),
      expected: { kind: 'modified', at: offsetTime, sequence: 7 },
    },
    {
      name: 'modified-sequence-member',
      change: "record 4's sequence member changed to 5: reported at sequence 4, where the chain expects it",
      groups: groups([0, 1], [2, 3], [renumbered, 5, 6], [7, 8, 9]),
      expected: { kind: 'modified', at: renumbered, sequence: 4 },
    },
    {
      name: 'missing-in-a-batch',
      change: 'record 4 deleted: reported at record 5, which links to it, once the next checkpoint (9) arrives',
      groups: groups([0, 1], [2, 3], [5, 6], [7, 8, 9]),
      expected: { kind: 'missing', at: value(5), sequence: 5 },
    },
    {
      name: 'missing-before-the-last-checkpoint',
      change: 'record 8 deleted: reported at checkpoint 9, which links to it, at the end of the partition',
      groups: groups([0, 1], [2, 3], [4, 5, 6], [7, 9]),
      expected: { kind: 'missing', at: value(9), sequence: 9 },
    },
    {
      name: 'out-of-order-swapped',
      change: 'records 7 and 8 swapped: reported at record 8, which stands before the record it follows',
      groups: groups([0, 1], [2, 3], [4, 5, 6], [8, 7, 9]),
      expected: { kind: 'out-of-order', at: value(8), sequence: 8 },
    },
    {
      name: 'out-of-order-late',
      change: 'record 5 moved after its checkpoint 6: reported at the checkpoint, when record 5 turns up',
      groups: groups([0, 1], [2, 3], [4, 6, 5], [7, 8, 9]),
      expected: { kind: 'out-of-order', at: value(6), sequence: 6 },
    },
    {
      name: 'out-of-order-early',
      change: 'record 7, of the next transaction, moved before checkpoint 6',
      groups: groups([0, 1], [2, 3], [4, 5, 7, 6], [8, 9]),
      expected: { kind: 'out-of-order', at: value(7), sequence: 7 },
    },
    {
      name: 'sequence-gap',
      change: 're-signed with the key: sequence numbers from record 7 on are one higher (8, 9, 10)',
      groups: transactions(gap),
      expected: { kind: 'sequence', at: at(gap, 7), sequence: 8 },
    },
    {
      name: 'sequence-link-to-older-record',
      change: 're-signed with the key: record 7 links to record 4, a verified record that is not the tip',
      groups: transactions(olderLink),
      expected: { kind: 'sequence', at: at(olderLink, 7), sequence: 7 },
    },
    {
      name: 'sequence-unlinked-genesis',
      change: 're-signed with the key: record 8 is a genesis record with previousHash null',
      groups: transactions(unlinkedGenesis),
      expected: { kind: 'sequence', at: at(unlinkedGenesis, 8), sequence: 8 },
    },
    {
      name: 'entity-link-to-nothing',
      change: `re-signed with the key: record 7 links its third entity, ${PRODUCT_B}, to null`,
      groups: transactions(entityUnlinked),
      expected: { kind: 'entity-link', at: at(entityUnlinked, 7), sequence: 7, entityId: PRODUCT_B },
    },
    {
      name: 'entity-link-to-older-record',
      change: `re-signed with the key: record 8 links ${PRODUCT_A} to record 2, not to its latest record 7`,
      groups: transactions(entityLinkedBack),
      expected: { kind: 'entity-link', at: at(entityLinkedBack, 8), sequence: 8, entityId: PRODUCT_A },
    },
    {
      name: 'checkpoint-signature',
      change: 'one bit of the Ed25519 signature of checkpoint 6 flipped, in the signature line and the signature member',
      groups: groups([0, 1], [2, 3], [4, 5, badSignature], [7, 8, 9]),
      expected: { kind: 'checkpoint', at: badSignature, sequence: 6 },
    },
    {
      name: 'checkpoint-non-canonical-base64',
      change: 'the signature line of checkpoint 6 with a pad bit set: the same bytes, not canonical base64',
      groups: groups([0, 1], [2, 3], [4, 5, paddedSignature], [7, 8, 9]),
      expected: { kind: 'checkpoint', at: paddedSignature, sequence: 6 },
    },
    {
      name: 'checkpoint-second-signature-line',
      change: 'a second signature line (a made-up cosigner) appended to the note of the last checkpoint',
      groups: groups([0, 1], [2, 3], [4, 5, 6], [7, 8, cosigned]),
      expected: { kind: 'checkpoint', at: cosigned, sequence: 9 },
    },
    {
      name: 'checkpoint-event-id-over-whole-note',
      change: "the last checkpoint's eventId derived from the whole signed note, signature line included",
      groups: groups([0, 1], [2, 3], [4, 5, 6], [7, 8, eventIdOfWholeNote]),
      expected: { kind: 'checkpoint', at: eventIdOfWholeNote, sequence: 9 },
    },
    {
      name: 'checkpoint-unsigned-actor',
      change: "the last checkpoint's actor changed, a member its signature does not cover",
      groups: groups([0, 1], [2, 3], [4, 5, 6], [7, 8, otherActor]),
      expected: { kind: 'checkpoint', at: otherActor, sequence: 9 },
    },
    {
      name: 'checkpoint-root',
      change: 're-signed with the key: checkpoint 6 signs tree size 6 with the root of the first 5 records',
      groups: transactions(otherRoot),
      expected: { kind: 'checkpoint', at: at(otherRoot, 6), sequence: 6 },
    },
    {
      name: 'checkpoint-origin',
      change: `re-signed with the key: checkpoint 6 signs the origin custodian/${LEDGER_ID}/0`,
      groups: transactions(otherOrigin),
      expected: { kind: 'checkpoint', at: at(otherOrigin, 6), sequence: 6 },
    },
    {
      name: 'genesis-pin',
      change: 'the honest partition, held against another pin (the hash of checkpoint 1)',
      groups: HONEST,
      genesisPin: (honest[1] as ChainRecord).hash,
      expected: { kind: 'genesis', at: value(0), sequence: 0 },
    },
    {
      name: 'genesis-empty-partition',
      change: 'every record deleted; the genesis is pinned',
      groups: [],
      expected: { kind: 'genesis', at: '0', sequence: null },
    },
    {
      name: 'genesis-payload-partition',
      change: 're-signed with the key: the genesis payload names partition 0; no pin',
      groups: transactions(genesisOfPartitionZero),
      genesisPin: null,
      expected: { kind: 'genesis', at: at(genesisOfPartitionZero, 0), sequence: 0 },
    },
    {
      name: 'genesis-later-in-the-chain',
      change: 're-signed with the key: record 8 is a genesis record (linked to record 7) at sequence 8',
      groups: transactions(laterGenesis),
      expected: { kind: 'genesis', at: at(laterGenesis, 8), sequence: 8 },
    },
    {
      name: 'uncovered',
      change: 'the last checkpoint deleted: records 7 and 8 wait for a checkpoint to the end',
      groups: groups([0, 1], [2, 3], [4, 5, 6], [7, 8]),
      expected: { kind: 'uncovered', at: value(7), sequence: 7 },
    },
    {
      name: 'first-finding-broken-link-before-stray',
      change:
        'a second record 4 (linked to checkpoint 3) first in its transaction, and record 5 modified: the broken link is reported, not the stray at a lower offset',
      groups: groups([0, 1], [2, 3], [besideFour, 4, changedPayload, 6], [7, 8, 9]),
      expected: { kind: 'modified', at: changedPayload, sequence: 5 },
    },
    {
      name: 'first-finding-checkpoint-before-stray',
      change:
        'a second record 4 first in its transaction, and the signature of checkpoint 6 bad: the checkpoint is reported, not the stray at a lower offset',
      groups: groups([0, 1], [2, 3], [besideFour, 4, 5, badSignature], [7, 8, 9]),
      expected: { kind: 'checkpoint', at: badSignature, sequence: 6 },
    },
    {
      name: 'first-finding-duplicate-while-missing-waits',
      change:
        'record 4 deleted, and a copy of record 2 in the last transaction: the duplicate is found before checkpoint 9 would report record 4 missing',
      groups: groups([0, 1], [2, 3], [5, 6], [7, replayOfTwoWhileMissing, 8, 9]),
      expected: { kind: 'duplicate', at: replayOfTwoWhileMissing, sequence: 2 },
    },
    {
      name: 'verifies-other-writer-types-and-offsets',
      change:
        're-signed with the key: record 7 recorded at +05:30 with nine fraction digits, record 8 of type ledger.annotation with no entities and recorded at -00:00',
      groups: transactions(permitted),
      expected: null,
    },
  ];

  const resolved = cases.map((item) => {
    const { entries, offsetOf } = vectorEntries(item.groups);
    return {
      name: item.name,
      change: item.change,
      genesisPin: item.genesisPin === undefined ? pin : item.genesisPin,
      entries,
      firstFinding: firstFinding(item.expected, offsetOf),
    };
  });

  const fork = forged({
    edit: (linked, index) =>
      index === 4 ? { ...linked, payload: { ...linked.payload, name: 'Müller Vollmilch 1,5 %' } } : linked,
  });
  const witnessed = record(6).payload as unknown as SignedCheckpoint;
  const latest = record(9).payload as unknown as SignedCheckpoint;
  const proofs = MerkleProofs.of(honest.map((item) => item.hash));
  const forkProofs = MerkleProofs.of(fork.map((item) => item.hash));
  const proof = (from: number) => proofs.consistencyProof(from, latest.treeSize);
  const toLatest = (why: string, fromTreeSize: number, changes: { fromRootHash?: Hash; proof?: Hash[]; valid: boolean }) => ({
    why,
    fromTreeSize,
    fromRootHash: changes.fromRootHash ?? proofs.root(fromTreeSize),
    toTreeSize: latest.treeSize,
    toRootHash: latest.rootHash,
    proof: changes.proof ?? proof(fromTreeSize),
    valid: changes.valid,
  });
  const flipped = proof(witnessed.treeSize).map((node, index) =>
    index === 0 ? `${node.slice(0, -1)}${node.endsWith('0') ? '1' : '0'}` : node,
  );
  const witnessLedger = (
    name: string,
    change: string,
    groups: Groups,
    witnessFinding: { kind: 'truncated' | 'fork'; sequence: number } | null,
  ) => ({
    name,
    change,
    genesisPin: pin,
    entries: vectorEntries(groups).entries,
    firstFinding: null,
    witnessFinding,
  });

  return {
    description:
      'Custodian ledger format v1 negative test vectors (docs/ledger-format.md §9). The secret key is the published TEST key (bytes 0x01..0x20).',
    formatVersion: 1,
    entryFormat:
      'Each entry is a Kafka record of the partition as a read_committed reader gets it: offset (decimal string) and value, as UTF-8 text in "value", or in "valueBase64" (RFC 4648 base64) where the bytes are not valid UTF-8. Offsets skip one number after each transaction, where Kafka writes its commit marker.',
    ledgerId: LEDGER_ID,
    partition: PARTITION,
    partitions: PARTITIONS,
    key: { secretKeyHex: bytesToHex(VECTOR_SECRET_KEY), verifierKey: signer.verifierKey },
    verifierKeys: buildVerifierKeyVectors(signer),
    honest: { genesisPin: pin, entries: vectorEntries(HONEST).entries },
    cases: resolved,
    witness: {
      description:
        'The witness holds checkpoint 6 of the honest partition. Each ledger is verified (firstFinding) and then held against that checkpoint (witnessFinding); each consistency proof runs to the last checkpoint of the honest partition.',
      checkpoint: witnessed,
      ledgers: [
        witnessLedger('honest', 'the honest partition: it extends the witnessed tree', HONEST, null),
        witnessLedger(
          'truncated',
          'the last two transactions deleted: a valid, shorter ledger of 4 records',
          HONEST.slice(0, 2),
          {
            kind: 'truncated',
            sequence: 4,
          },
        ),
        witnessLedger(
          'forked',
          're-signed with the key from record 4 on, whose payload differs: a valid ledger of another history',
          transactions(fork),
          {
            kind: 'fork',
            sequence: witnessed.treeSize - 1,
          },
        ),
      ],
      consistency: [
        toLatest('from the witnessed tree', witnessed.treeSize, { valid: true }),
        toLatest('from checkpoint 3', 3, { valid: true }),
        toLatest('from a tree of 1 record, a power of two: its root is the first node of the path', 1, { valid: true }),
        toLatest('from a tree of 4 records, a power of two', 4, { valid: true }),
        toLatest('equal sizes and roots: the empty proof', latest.treeSize, { valid: true }),
        toLatest('equal sizes, another root', latest.treeSize, { fromRootHash: forkProofs.root(latest.treeSize), valid: false }),
        toLatest('equal sizes with a node in the proof', latest.treeSize, { proof: [latest.headHash], valid: false }),
        toLatest('from the empty tree (size 0): no proof runs from it', 0, {
          fromRootHash: merkleRoot([]),
          proof: [],
          valid: false,
        }),
        toLatest("from the forked ledger's tree of the witnessed size", witnessed.treeSize, {
          fromRootHash: forkProofs.root(witnessed.treeSize),
          valid: false,
        }),
        toLatest('one hex digit of the first node changed', witnessed.treeSize, { proof: flipped, valid: false }),
        toLatest('one node too many', witnessed.treeSize, {
          proof: [...proof(witnessed.treeSize), latest.headHash],
          valid: false,
        }),
        {
          why: 'an older tree larger than the newer one',
          fromTreeSize: latest.treeSize,
          fromRootHash: latest.rootHash,
          toTreeSize: witnessed.treeSize,
          toRootHash: witnessed.rootHash,
          proof: proof(witnessed.treeSize),
          valid: false,
        },
      ],
    },
  };
}

import { canonicalBytes, CanonicalJsonError, canonicalize } from './canonical-json.js';
import { HASH_PATTERN, type Hash, recordHash } from './hashing.js';
import { FORMAT_VERSION, type LedgerRecord } from './ledger-record.js';

/** A Kafka record value that is not a well-formed ledger record (docs/ledger-format.md). */
export class RecordFormatError extends Error {
  override name = 'RecordFormatError';
}

const KEYS = [
  'actor',
  'entities',
  'eventId',
  'eventType',
  'formatVersion',
  'ledgerId',
  'occurredAt',
  'partition',
  'payload',
  'previousHash',
  'recordedAt',
  'sequence',
].join(',');

export const LEDGER_ID = /^[A-Za-z0-9._-]{1,100}$/;
export const EVENT_TYPE = /^[a-z][a-z0-9]*(\.[a-z][a-z0-9_-]*)+$/;
export const ENTITY_ID = /^[\x21-\x7e]{1,200}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** RFC 3339 date-time with an explicit offset (Z or ±hh:mm), as EPCIS requires. */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function check(condition: boolean, problem: string): asserts condition {
  if (!condition) throw new RecordFormatError(problem);
}

function isHashOrNull(value: unknown): value is Hash | null {
  return value === null || (typeof value === 'string' && HASH_PATTERN.test(value));
}

function isTimestamp(value: unknown): value is string {
  return typeof value === 'string' && TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value));
}

/** Checks every field of a parsed record; throws RecordFormatError naming the first bad one. */
export function assertLedgerRecord(value: unknown): asserts value is LedgerRecord {
  check(isObject(value), 'the record is not a JSON object');
  check(Object.keys(value).sort().join(',') === KEYS, `the record must have exactly the members ${KEYS}`);
  check(value.formatVersion === FORMAT_VERSION, `formatVersion must be ${FORMAT_VERSION}`);
  check(typeof value.ledgerId === 'string' && LEDGER_ID.test(value.ledgerId), 'ledgerId is malformed');
  check(Number.isSafeInteger(value.partition) && (value.partition as number) >= 0, 'partition must be a whole number >= 0');
  check(Number.isSafeInteger(value.sequence) && (value.sequence as number) >= 0, 'sequence must be a whole number >= 0');
  check(isHashOrNull(value.previousHash), 'previousHash must be 64 lowercase hex digits or null');
  check(typeof value.eventId === 'string' && UUID.test(value.eventId), 'eventId must be a lowercase UUID');
  check(typeof value.eventType === 'string' && EVENT_TYPE.test(value.eventType), 'eventType is malformed');
  check(Array.isArray(value.entities), 'entities must be an array');
  const seen = new Set<string>();
  for (const [index, entity] of (value.entities as unknown[]).entries()) {
    check(
      isObject(entity) && Object.keys(entity).sort().join(',') === 'id,previousHash',
      `entities/${index} must be {id, previousHash}`,
    );
    check(typeof entity.id === 'string' && ENTITY_ID.test(entity.id), `entities/${index}/id is malformed`);
    check(!seen.has(entity.id), `entities/${index}/id appears twice`);
    seen.add(entity.id);
    check(isHashOrNull(entity.previousHash), `entities/${index}/previousHash must be a hash or null`);
  }
  check(isTimestamp(value.occurredAt), 'occurredAt must be an RFC 3339 time with offset');
  check(isTimestamp(value.recordedAt), 'recordedAt must be an RFC 3339 time with offset');
  check(
    typeof value.actor === 'string' && value.actor.length > 0 && value.actor.length <= 200,
    'actor must be 1 to 200 characters',
  );
  check(isObject(value.payload), 'payload must be a JSON object');
}

/** The bytes a record is stored and hashed as, and its hash. */
export function encodeRecord(record: LedgerRecord): { bytes: Uint8Array; hash: Hash } {
  const bytes = canonicalBytes(record);
  return { bytes, hash: recordHash(bytes) };
}

// fatal: malformed UTF-8 is refused; ignoreBOM: a byte-order mark stays in the text (and so
// fails the canonical comparison) instead of being dropped silently.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses a stored record and recomputes its hash. Refuses bytes that are not exactly the
 * canonical form of what they hold: an equivalent but differently encoded record would hash
 * differently, so accepting it would let two byte strings stand for one record.
 */
export function decodeRecord(bytes: Uint8Array): { record: LedgerRecord; hash: Hash } {
  let text: string;
  let parsed: unknown;
  try {
    text = decoder.decode(bytes);
    parsed = JSON.parse(text);
  } catch {
    throw new RecordFormatError('the value is not UTF-8 JSON');
  }
  assertLedgerRecord(parsed);
  let canonical: string;
  try {
    canonical = canonicalize(parsed);
  } catch (error) {
    throw new RecordFormatError(error instanceof CanonicalJsonError ? error.message : 'not canonicalizable');
  }
  // The text is the bytes decoded strictly (UTF-8 is one-to-one on valid text), so comparing
  // texts compares the bytes, without encoding the canonical form again.
  check(canonical === text, 'the value is not in canonical JSON form (RFC 8785)');
  return { record: parsed, hash: recordHash(bytes) };
}

/**
 * The record of bytes that decodeRecord accepted elsewhere (a worker thread of a record decoding
 * pool, which sends back only the hash), parsed again on this thread without its checks.
 */
export function parseDecodedRecord(bytes: Uint8Array): LedgerRecord {
  return JSON.parse(decoder.decode(bytes)) as LedgerRecord;
}

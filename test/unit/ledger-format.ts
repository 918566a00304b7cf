/**
 * docs/ledger-format.md §2 to §6 written again from the document alone, with node:crypto
 * (OpenSSL) and no code from src/: records, hashes, Merkle trees, verifier keys, checkpoints.
 * With ledger-verification.ts, the proof that the document says enough to verify a ledger.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, verify } from 'node:crypto';

export const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();

/** RFC 8785 for values JSON.parse gives: members sorted by UTF-16 code units, ECMAScript JSON text. */
export function jcs(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jcs).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object)
      .sort()
      .map((name) => `${JSON.stringify(name)}:${jcs(object[name])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

// §2.1, items 4 to 9.
const LEDGER_ID = /^[A-Za-z0-9._-]{1,100}$/;
const HASH = /^[0-9a-f]{64}$/;
const EVENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const EVENT_TYPE = /^[a-z][a-z0-9]*(\.[a-z][a-z0-9_-]*)+$/;
const ENTITY_ID = /^[\x21-\x7e]{1,200}$/;
const TIME = /^\d{4}-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|[+-](\d{2}):(\d{2}))$/;
const MEMBERS = [
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
];

export interface LedgerRecord {
  readonly formatVersion: 1;
  readonly ledgerId: string;
  readonly partition: number;
  readonly sequence: number;
  readonly previousHash: string | null;
  readonly eventId: string;
  readonly eventType: string;
  readonly entities: readonly { readonly id: string; readonly previousHash: string | null }[];
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly actor: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isHashOrNull = (value: unknown) => value === null || (typeof value === 'string' && HASH.test(value));
const hasExactly = (value: Record<string, unknown>, members: readonly string[]) =>
  Object.keys(value).sort().join(',') === [...members].sort().join(',');

/** §2.1, "Times": the form, and the ranges of its fields. */
export function isTime(value: unknown): boolean {
  const match = typeof value === 'string' ? TIME.exec(value) : null;
  if (!match) return false;
  const [month, day, hour, minute, second, fraction = '', offsetHours = '0', offsetMinutes = '0'] = match.slice(1);
  const endOfDay = Number(hour) === 24 && Number(minute) === 0 && Number(second) === 0 && !/[1-9]/.test(fraction);
  return (
    Number(month) >= 1 &&
    Number(month) <= 12 &&
    Number(day) >= 1 &&
    Number(day) <= 31 &&
    (Number(hour) <= 23 || endOfDay) &&
    Number(minute) <= 59 &&
    Number(second) <= 59 &&
    Number(offsetHours) <= 23 &&
    Number(offsetMinutes) <= 59
  );
}

/** §2.1, item 13: strings are whole Unicode, and no value lies more than 64 steps below the record. */
function isSound(value: unknown, depth: number): boolean {
  if (depth > 64) return false;
  if (typeof value === 'string') return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value);
  if (Array.isArray(value)) return value.every((item) => isSound(item, depth + 1));
  if (isObject(value)) return Object.entries(value).every(([name, item]) => isSound(name, depth) && isSound(item, depth + 1));
  return true;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** §2.1: the record a Kafka value holds, or undefined when it is malformed. */
export function wellFormedRecord(value: Buffer): LedgerRecord | undefined {
  let text: string;
  let parsed: unknown;
  try {
    text = strictUtf8.decode(value);
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || !hasExactly(parsed, MEMBERS)) return undefined;
  const r = parsed;
  const seen = new Set<unknown>();
  const entitiesOk =
    Array.isArray(r.entities) &&
    r.entities.every((entity: unknown) => {
      if (!isObject(entity) || !hasExactly(entity, ['id', 'previousHash'])) return false;
      if (typeof entity.id !== 'string' || !ENTITY_ID.test(entity.id) || seen.has(entity.id)) return false;
      seen.add(entity.id);
      return isHashOrNull(entity.previousHash);
    });
  const wellFormed =
    r.formatVersion === 1 &&
    typeof r.ledgerId === 'string' &&
    LEDGER_ID.test(r.ledgerId) &&
    Number.isSafeInteger(r.partition) &&
    (r.partition as number) >= 0 &&
    Number.isSafeInteger(r.sequence) &&
    (r.sequence as number) >= 0 &&
    isHashOrNull(r.previousHash) &&
    typeof r.eventId === 'string' &&
    EVENT_ID.test(r.eventId) &&
    typeof r.eventType === 'string' &&
    EVENT_TYPE.test(r.eventType) &&
    entitiesOk &&
    isTime(r.occurredAt) &&
    isTime(r.recordedAt) &&
    typeof r.actor === 'string' &&
    r.actor.length >= 1 &&
    r.actor.length <= 200 &&
    isObject(r.payload) &&
    isSound(r, 0) &&
    jcs(r) === text;
  return wellFormed ? (r as unknown as LedgerRecord) : undefined;
}

/** §3. */
export const recordHash = (value: Buffer): string =>
  sha256(Buffer.from('custodian.ledger.record.v1\0', 'latin1'), value).toString('hex');

// §5: RFC 9162 §2.1.
export const leaf = (hex: string): Buffer => sha256(Buffer.of(0), Buffer.from(hex, 'hex'));
export const node = (l: Buffer, r: Buffer): Buffer => sha256(Buffer.of(1), l, r);
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over record hashes. */
export function mth(hashes: readonly string[]): string {
  const root = (from: number, to: number): Buffer => {
    if (to - from === 1) return leaf(hashes[from] as string);
    const k = largestPowerOfTwoBelow(to - from);
    return node(root(from, from + k), root(from + k, to));
  };
  return hashes.length === 0 ? sha256().toString('hex') : root(0, hashes.length).toString('hex');
}

/** §5, "Consistency proofs at the edges", with RFC 9162 §2.1.4.2 for old sizes below new ones. */
export function consistent(m: number, n: number, oldRoot: string, newRoot: string, proof: readonly string[]): boolean {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 1 || m > n) return false;
  if (m === n) return proof.length === 0 && oldRoot === newRoot;
  if (proof.length === 0) return false;
  const path = proof.map((hex) => Buffer.from(hex, 'hex'));
  if (Number.isInteger(Math.log2(m))) path.unshift(Buffer.from(oldRoot, 'hex'));
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
  let fr = path[0] as Buffer;
  let sr = path[0] as Buffer;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      while (fn % 2 === 0 && fn !== 0) [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
    } else sr = node(sr, c);
    [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
  }
  return fr.toString('hex') === oldRoot && sr.toString('hex') === newRoot && sn === 0;
}

// §6.
export const ed25519Spki = (raw: Buffer): KeyObject =>
  createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
export const ed25519Pkcs8 = (seed: Buffer): KeyObject =>
  createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
    format: 'der',
    type: 'pkcs8',
  });
export const keyIdOf = (name: string, publicKey: Buffer): string =>
  sha256(Buffer.from(`${name}\n`, 'utf8'), Buffer.of(1), publicKey)
    .subarray(0, 4)
    .toString('hex');

/** §6, "Base64": the bytes of canonical RFC 4648 §4 base64, or undefined. */
export function fromCanonicalBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

export interface VerifierKey {
  readonly name: string;
  readonly id: string;
  readonly publicKey: Buffer;
}

/** §6, "Reading a verifier key": split at the first two '+'. */
export function readVerifierKey(text: string): VerifierKey | undefined {
  const first = text.indexOf('+');
  const second = text.indexOf('+', first + 1);
  if (first < 0 || second < 0) return undefined;
  const [name, id, encoded] = [text.slice(0, first), text.slice(first + 1, second), text.slice(second + 1)];
  const key = encoded.length === 44 ? fromCanonicalBase64(encoded) : undefined;
  if (name === '' || key?.length !== 33 || key[0] !== 0x01) return undefined;
  const publicKey = key.subarray(1);
  return id === keyIdOf(name, publicKey) ? { name, id, publicKey } : undefined;
}

export interface SignedCheckpoint {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly headHash: string;
  readonly time: string;
  readonly keyName: string;
  readonly keyId: string;
  readonly signature: string;
  readonly note: string;
}

/** §6: the five lines the signature covers. */
export const noteText = (c: SignedCheckpoint): string =>
  `${c.origin}\n${c.treeSize}\n${Buffer.from(c.rootHash, 'hex').toString('base64')}\nhead ${c.headHash}\ntime ${c.time}\n`;

/** §6, check 1: the nine members, well-typed. */
export function isSignedCheckpoint(value: unknown): value is SignedCheckpoint {
  if (!isObject(value)) return false;
  const c = value;
  const strings = ['origin', 'time', 'keyName', 'keyId', 'signature', 'note'].every((name) => typeof c[name] === 'string');
  return (
    hasExactly(c, ['origin', 'treeSize', 'rootHash', 'headHash', 'time', 'keyName', 'keyId', 'signature', 'note']) &&
    strings &&
    Number.isSafeInteger(c.treeSize) &&
    typeof c.rootHash === 'string' &&
    HASH.test(c.rootHash) &&
    typeof c.headHash === 'string' &&
    HASH.test(c.headHash)
  );
}

/** §6, checks 1 to 3: a checkpoint whose note carries the one valid signature of this key. */
export function isSignedBy(value: unknown, key: VerifierKey): value is SignedCheckpoint {
  if (!isSignedCheckpoint(value)) return false;
  const signature = fromCanonicalBase64(value.signature);
  if (signature?.length !== 64 || value.keyName !== key.name || value.keyId !== key.id) return false;
  const text = noteText(value);
  const line = `\u2014 ${key.name} ${Buffer.concat([Buffer.from(key.id, 'hex'), signature]).toString('base64')}\n`;
  if (value.note !== `${text}\n${line}` || value.note.split('\n\n').length !== 2) return false;
  return verify(null, Buffer.from(text, 'utf8'), ed25519Spki(key.publicKey), signature);
}

/** §6: the checkpoint record's event id, a version 8 UUID from the note text. */
export function checkpointEventId(checkpoint: SignedCheckpoint): string {
  const digest = sha256(Buffer.from('custodian.ledger.checkpoint.v1\0', 'utf8'), Buffer.from(noteText(checkpoint), 'utf8'));
  digest[6] = ((digest[6] as number) & 0x0f) | 0x80;
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** §6, "What a verifier checks of a checkpoint record", all four checks. */
export function isValidCheckpointRecord(record: LedgerRecord, key: VerifierKey): boolean {
  const checkpoint = record.payload;
  return (
    isSignedBy(checkpoint, key) &&
    record.entities.length === 0 &&
    record.actor === 'custodian-writer' &&
    record.occurredAt === checkpoint.time &&
    record.recordedAt === checkpoint.time &&
    record.eventId === checkpointEventId(checkpoint)
  );
}

import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MemoryGenesisPins,
  MemoryLedgerFeed,
  MemoryPartitionLog,
  memoryProductVerifier,
  sequentialIds,
  steppingClock,
} from '../../test/support/memory-ledger.js';
import { readHere, type RecordReader } from '../ledger/chain-verifier.js';
import { CheckpointSigner, CheckpointVerifier } from '../ledger/checkpoint-note.js';
import type { StoredEntry } from '../ledger/ports.js';
import { MemoryPartitionSnapshots } from '../ledger/memory-snapshots.js';
import { tileKey } from '../ledger/merkle-tiles.js';
import { PartitionWriter } from '../ledger/partition-writer.js';
import { decodeRecord } from '../ledger/record-codec.js';
import { signSnapshot } from '../ledger/writer-snapshot.js';
import { checkEvidenceBundle } from './evidence-bundle.js';
import { type FollowerSnapshotEvent, LedgerFollower } from './ledger-follower.js';
import type { LedgerSource } from './partition-scan.js';

const signer = new CheckpointSigner('custodian/unit', new Uint8Array(32).fill(41));
const forger = new CheckpointSigner('custodian/unit', new Uint8Array(32).fill(42));
const attestationSigner = new CheckpointSigner('custodian-verifier/unit', new Uint8Array(32).fill(43));
const ledgerKey = new CheckpointVerifier(signer.keyName, signer.publicKey);
const attestationKey = new CheckpointVerifier(attestationSigner.keyName, attestationSigner.publicKey);
const PRODUCT = '/01/09506000134352/21/S1';
const OTHERS = Array.from({ length: 12 }, (_, i) => `/01/09506000134352/21/O${i}`);

const ids = sequentialIds(7);
const running: (LedgerFollower | PartitionWriter)[] = [];
afterEach(async () => {
  for (const part of running.splice(0)) {
    if (part instanceof LedgerFollower) await part.stop();
    else await part.close();
  }
});

/**
 * A ledger of some 250 records whose writer took a snapshot every 20 records or so, the product
 * named all along it (before the newest snapshot and after), and a follower started against it.
 */
async function setUp(
  tamper: (snapshots: MemoryPartitionSnapshots) => void = () => undefined,
  rebaseAfter?: number,
  parts: { readonly reader?: RecordReader; readonly readFrom?: (entries: StoredEntry[]) => AsyncIterable<StoredEntry> } = {},
) {
  const log = new MemoryPartitionLog();
  const snapshots = new MemoryPartitionSnapshots(0);
  const writer = new PartitionWriter({
    ledgerId: 'unit',
    partition: 0,
    partitions: 1,
    signer,
    log,
    pins: new MemoryGenesisPins(),
    clock: steppingClock(),
    maxBatch: 9,
    newEventId: sequentialIds(1),
    snapshots,
    snapshotRecords: 20,
  });
  running.push(writer);
  await writer.start();
  const step = (entityIds: string[]) =>
    writer.append({
      eventId: ids(),
      eventType: 'custody.inspect',
      entityIds,
      occurredAt: '2026-11-26T07:00:00Z',
      actor: 'op',
      payload: {},
    });
  for (let round = 0; round < 20; round++) {
    await Promise.all([step([PRODUCT]), ...OTHERS.map((other, i) => step(i % 4 === 0 ? [other, PRODUCT] : [other]))]);
  }
  expect(snapshots.snapshot?.body.treeSize).toBeGreaterThan(150);
  tamper(snapshots);
  const events: FollowerSnapshotEvent[] = [];
  const errors: Error[] = [];
  const source: LedgerSource = {
    ledgerId: 'unit',
    partitions: 1,
    ledgerKey,
    genesisPin: () => Promise.resolve(null),
    read: () => log.values(),
  };
  // Where the follower's feed starts reading the topic.
  const starts: string[] = [];
  const feed = new MemoryLedgerFeed(log);
  const run = feed.run.bind(feed);
  feed.run = (from, onBatch, onProgress) => {
    starts.push(from.get(0) ?? '0');
    return run(from, onBatch, onProgress);
  };
  const follower = new LedgerFollower({
    source,
    feed,
    offsets: () => Promise.resolve({ start: '0', end: String(log.entries.length) }),
    snapshots: { partition: () => snapshots },
    readFrom: (_, offset) => (parts.readFrom ?? asAsync)(log.values().slice(Number(offset))),
    ...(parts.reader ? { reader: parts.reader } : {}),
    onSnapshot: (event) => events.push(event),
    ...(rebaseAfter === undefined ? {} : { rebaseAfter }),
    spillDir: mkdtempSync(join(tmpdir(), 'custodian-follower-')),
    catchUpWaitMs: 2000,
    onError: (error) => errors.push(error),
  });
  running.push(follower);
  await follower.start();
  const followed = memoryProductVerifier('unit', ledgerKey, attestationSigner, [], { source, follower });
  const full = memoryProductVerifier('unit', ledgerKey, attestationSigner, [], { source, follower: null });
  return { log, snapshots, step, events, errors, starts, follower, followed, full };
}

/** Entries as the topic hands them: asynchronously. */
async function* asAsync<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield await Promise.resolve(item);
}

type Setup = Awaited<ReturnType<typeof setUp>>;

/** The attestation and bundle from the follower, which must be the full read's; returns how it read. */
async function sameAsFullRead(s: Setup, subject: string, since: number): Promise<'followed' | 'full'> {
  const followed = await s.followed.verify(subject, { evidence: true, since });
  const full = await s.full.verify(subject, { evidence: true, since });
  expect(full.ledgerRead).toBe('full');
  expect(followed.attestation).toEqual(full.attestation);
  expect(followed.bundle).toEqual(full.bundle);
  expect(checkEvidenceBundle(followed.bundle, { ledgerKey, attestationKey }).failures).toEqual([]);
  return followed.ledgerRead;
}

describe('LedgerFollower from a writer snapshot', () => {
  it('starts at the newest snapshot, verifies only the records after it, and attests exactly as a full read', async () => {
    const s = await setUp();
    const base = s.snapshots.snapshot!.body.treeSize;
    expect(s.events).toEqual([{ kind: 'resumed', partition: 0, treeSize: base }]);
    // The topic is read from just after the snapshot's checkpoint record, not from offset 0.
    expect(s.starts).toEqual([String(Number(s.snapshots.snapshot!.body.checkpointOffset) + 1)]);
    expect(await s.followed.verify(PRODUCT, { evidence: false })).toMatchObject({ ledgerRead: 'followed' });

    const head = s.log.entries.length;
    // Consistency from inside the snapshot's tree, from just past it, and from the end.
    for (const since of [1, 37, base, base + 1, head - 1]) expect(await sameAsFullRead(s, PRODUCT, since)).toBe('followed');
    for (const other of OTHERS.slice(0, 3)) expect(await sameAsFullRead(s, other, 5)).toBe('followed');

    // Steps written after the follower started are read from the topic as they come.
    for (let i = 0; i < 30; i++) await s.step(i % 3 === 0 ? [PRODUCT, OTHERS[1]!] : [OTHERS[2]!]);
    expect(s.errors).toEqual([]);
    const again = await s.followed.verify(PRODUCT, { evidence: true, since: base });
    expect(s.errors).toEqual([]);
    expect(again.ledgerRead).toBe('followed');
    expect(await sameAsFullRead(s, PRODUCT, base)).toBe('followed');
    expect(await sameAsFullRead(s, OTHERS[1]!, 2)).toBe('followed');
    const attested = await s.followed.verify(PRODUCT, { evidence: false });
    expect(attested.attestation.attestation).toMatchObject({ verdict: 'verified', steps: 20 * 4 + 10 });
    expect(s.errors).toEqual([]);
  });

  it('follows from offset 0 when the snapshot is signed by another key, or its checkpoint is not the topic’s', async () => {
    const forged = await setUp((snapshots) => {
      const { body, note } = snapshots.snapshot!;
      const checkpoint = {
        origin: note.split('\n')[0]!,
        treeSize: body.treeSize,
        rootHash: '',
        headHash: body.checkpointHash,
        time: '',
      };
      // A note of another key over the same body: the key is the ledger's name, not its key.
      const lines = note.split('\n');
      checkpoint.rootHash = Buffer.from(lines[2]!, 'base64').toString('hex');
      checkpoint.time = lines[4]!.slice(5);
      snapshots.snapshot = signSnapshot(forger, checkpoint, body);
    });
    expect(forged.events).toEqual([expect.objectContaining({ kind: 'refused', reason: expect.stringContaining('signature') })]);
    expect(forged.starts).toEqual(['0']);
    expect(await sameAsFullRead(forged, PRODUCT, 3)).toBe('followed');

    const elsewhere = await setUp((snapshots) => {
      const stored = snapshots.snapshot!;
      // The same signed snapshot, said to be at another offset of the topic.
      snapshots.snapshot = {
        ...stored,
        body: { ...stored.body, checkpointOffset: String(Number(stored.body.checkpointOffset) - 1) },
      };
    });
    expect(elsewhere.events[0]).toMatchObject({ kind: 'refused', partition: 0 });
    expect(await sameAsFullRead(elsewhere, PRODUCT, 3)).toBe('followed');
  });

  it('leaves an attestation to a full read when the snapshot store no longer holds what the snapshot signs', async () => {
    // A record of the product before the snapshot, changed in the store.
    const record = await setUp();
    const sequence = record.snapshots.entityRows.get(PRODUCT)![3]!;
    const row = record.snapshots.recordRows.get(sequence)!;
    record.snapshots.recordRows.set(sequence, {
      ...row,
      bytes: Buffer.from(Buffer.from(row.bytes).toString().replace('"op"', '"OP"')),
    });
    const changed = await record.followed.verify(PRODUCT, { evidence: true, since: 2 });
    expect(changed.ledgerRead).toBe('full');
    expect(changed.attestation.attestation).toMatchObject({ verdict: 'verified', steps: 80 });
    expect(record.errors.map((error) => error.message)).toEqual([
      expect.stringContaining(`to record ${sequence}, the one before it`),
    ]);
    // An entity the change does not touch is still read through the snapshot.
    expect(await sameAsFullRead(record, OTHERS[1]!, 2)).toBe('followed');

    // A byte of a tile the proofs read.
    const tile = await setUp();
    const key = tileKey(0, 0);
    const stored = tile.snapshots.tileRows.get(key)!;
    const hashes = Uint8Array.from(stored.hashes);
    hashes[40] = (hashes[40] ?? 0) ^ 1;
    tile.snapshots.tileRows.set(key, { ...stored, hashes });
    const proved = await tile.followed.verify(PRODUCT, { evidence: true, since: 2 });
    expect(proved.ledgerRead).toBe('full');
    expect(proved.attestation.attestation.verdict).toBe('verified');
    expect(tile.errors.map((error) => error.message)).toEqual([expect.stringContaining('tiles do not prove the signed tree')]);
  });

  it('moves on to the newest snapshot as the ledger grows, keeping at most a bounded tail, and still attests as a full read', async () => {
    const s = await setUp(undefined, 60);
    const started = s.follower.progress()[0]!.from;
    const froms = new Set<number>([started]);
    for (let round = 0; round < 12; round++) {
      await Promise.all([s.step([PRODUCT]), ...OTHERS.slice(0, 8).map((other) => s.step([other]))]);
      // Attestations read through whichever base the follower stands on.
      expect(await sameAsFullRead(s, PRODUCT, 3)).toBe('followed');
      const { from, verified } = s.follower.progress()[0]!;
      froms.add(from);
      // What it keeps of each record after the base: at most a few rebase thresholds.
      expect(verified - from).toBeLessThan(60 * 3);
    }
    expect(Math.max(...froms)).toBeGreaterThan(started);
    expect(s.events.filter((event) => event.kind === 'resumed').length).toBeGreaterThan(1);
    expect(s.errors).toEqual([]);
  });

  it('waits at stop for a rebase under way, and ends its reader only once that rebase has ended', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let armed = false;
    const rebase = { started: false };
    const calls: string[] = [];
    const reader: RecordReader = {
      read: (entries) => {
        calls.push('read');
        return readHere.read(entries);
      },
      close: () => {
        calls.push('close');
        return Promise.resolve();
      },
    };
    const s = await setUp(undefined, 60, {
      reader,
      // Once armed, the rebase's read of the topic waits at the gate.
      readFrom: async function* (entries) {
        if (armed) {
          rebase.started = true;
          await gate;
        }
        yield* entries;
      },
    });
    armed = true;
    for (let round = 0; round < 12; round++) {
      if (rebase.started) break;
      await Promise.all([s.step([PRODUCT]), ...OTHERS.slice(0, 8).map((other) => s.step([other]))]);
      expect(await sameAsFullRead(s, PRODUCT, 3)).toBe('followed');
    }
    expect(rebase.started).toBe(true);
    const stopped = s.follower.stop().then(() => calls.push('stopped'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).not.toContain('close');
    expect(calls).not.toContain('stopped');
    release();
    await stopped;
    expect(calls.slice(-2)).toEqual(['close', 'stopped']);
  });

  it('says duplicate, as a full read, for a copy of a record before the snapshot appended again', async () => {
    const s = await setUp();
    expect(await sameAsFullRead(s, PRODUCT, 3)).toBe('followed');
    // A record of the product appended again behind the writer's back: a duplicate no checkpoint covers.
    const sequence = s.snapshots.entityRows.get(PRODUCT)!.at(-1)!;
    const stray = s.log.entries.find((entry) => decodeRecord(entry.entry.value).record.sequence === sequence)!.entry;
    s.log.entries.push({ offset: String(s.log.entries.length), entry: stray });
    const followed = await s.followed.verify(PRODUCT, { evidence: false });
    expect(followed.ledgerRead).toBe('followed');
    expect(followed.attestation.attestation.verdict).toBe('tampered');
    expect(followed.attestation.attestation.findings[0]).toMatchObject({ offset: String(s.log.entries.length - 1) });
    // The same finding as a full read: a copy of the verified record at sequence 300, which the
    // follower (holding no hashes before its base) reads from the snapshot's store, proved.
    const full = (await s.full.verify(PRODUCT, { evidence: false })).attestation.attestation;
    expect(full.findings[0]).toMatchObject({ kind: 'duplicate', sequence });
    expect(followed.attestation.attestation.verdict).toBe(full.verdict);
    expect(followed.attestation.attestation.findings).toEqual(full.findings);
  });

  it('says injected, as a full read, for another record at a sequence before the snapshot', async () => {
    const s = await setUp();
    expect(await sameAsFullRead(s, PRODUCT, 3)).toBe('followed');
    const sequence = s.snapshots.entityRows.get(PRODUCT)!.at(-1)!;
    const stray = s.log.entries.find((entry) => decodeRecord(entry.entry.value).record.sequence === sequence)!.entry;
    // The same record with one byte of its actor changed (still canonical JSON): another hash.
    const text = new TextDecoder().decode(stray.value);
    const forged = text.replace('"actor":"op"', '"actor":"oq"');
    expect(forged).not.toBe(text);
    s.log.entries.push({ offset: String(s.log.entries.length), entry: { ...stray, value: new TextEncoder().encode(forged) } });
    const followed = await s.followed.verify(PRODUCT, { evidence: false });
    expect(followed.ledgerRead).toBe('followed');
    const full = (await s.full.verify(PRODUCT, { evidence: false })).attestation.attestation;
    expect(full.findings[0]).toMatchObject({ kind: 'injected', sequence, offset: String(s.log.entries.length - 1) });
    expect(followed.attestation.attestation.findings).toEqual(full.findings);
  });

  it("names the snapshot's own checkpoint record found again as a full read does, whatever the store holds as it", async () => {
    for (const forge of [false, true]) {
      const s = await setUp();
      const sequence = s.snapshots.snapshot!.body.treeSize;
      const entry = s.log.entries.find((e) => decodeRecord(e.entry.value).record.sequence === sequence)!.entry;
      let value = entry.value;
      if (forge) {
        // Another record at the checkpoint's sequence (one character of its event id changed),
        // and the store's row for that sequence replaced by it, as one who holds the database would.
        const text = new TextDecoder().decode(entry.value);
        const id = /"eventId":"([0-9a-f])/.exec(text)!;
        value = new TextEncoder().encode(text.replace(id[0], `"eventId":"${id[1] === 'a' ? 'b' : 'a'}`));
        s.snapshots.recordRows.set(sequence, { ...s.snapshots.recordRows.get(sequence)!, bytes: value });
      }
      s.log.entries.push({ offset: String(s.log.entries.length), entry: { ...entry, value } });
      const followed = await s.followed.verify(PRODUCT, { evidence: false });
      const full = (await s.full.verify(PRODUCT, { evidence: false })).attestation.attestation;
      expect(full.findings[0]).toMatchObject({ kind: forge ? 'injected' : 'duplicate', sequence });
      expect(followed.ledgerRead).toBe('followed');
      expect(followed.attestation.attestation.findings).toEqual(full.findings);
    }
  });

  it("does not take the store's word for a record before the snapshot: a row that is not the signed one sends the reading to a full read", async () => {
    const s = await setUp();
    // A record of another product before the snapshot, forged and appended, and its row in the store replaced by the forgery.
    const sequence = s.snapshots.entityRows.get(OTHERS[1]!)!.at(-1)!;
    const entry = s.log.entries.find((e) => decodeRecord(e.entry.value).record.sequence === sequence)!.entry;
    const forged = new TextEncoder().encode(new TextDecoder().decode(entry.value).replace('"actor":"op"', '"actor":"oq"'));
    expect(forged).not.toEqual(entry.value);
    s.snapshots.recordRows.set(sequence, { ...s.snapshots.recordRows.get(sequence)!, bytes: forged });
    s.log.entries.push({ offset: String(s.log.entries.length), entry: { ...entry, value: forged } });
    const followed = await s.followed.verify(PRODUCT, { evidence: false });
    const full = (await s.full.verify(PRODUCT, { evidence: false })).attestation.attestation;
    expect(full.findings[0]).toMatchObject({ kind: 'injected', sequence });
    expect(followed.ledgerRead).toBe('full');
    expect(followed.attestation.attestation.findings).toEqual(full.findings);
    expect(s.errors.map((error) => error.message).join('\n')).toContain(`does not prove record ${sequence}`);
  });
});

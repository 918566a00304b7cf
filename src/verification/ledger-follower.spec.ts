import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MemoryLedgerFeed,
  type MemoryPartitionLog,
  memoryProductVerifier,
  startMemoryWriter,
} from '../../test/support/memory-ledger.js';
import { CheckpointSigner, CheckpointVerifier } from '../ledger/checkpoint-note.js';
import type { Hash } from '../ledger/hashing.js';
import type { PartitionWriter } from '../ledger/partition-writer.js';
import { checkEvidenceBundle } from './evidence-bundle.js';
import { LedgerFollower } from './ledger-follower.js';
import type { LedgerSource } from './partition-scan.js';
import type { ProductVerifier } from './product-verifier.js';

const signer = new CheckpointSigner('custodian/unit', new Uint8Array(32).fill(31));
const attestationSigner = new CheckpointSigner('custodian-verifier/unit', new Uint8Array(32).fill(32));
const ledgerKey = new CheckpointVerifier(signer.keyName, signer.publicKey);
const PRODUCT = '/01/09506000134352/21/F1';

let ids = 0;
async function step(writer: PartitionWriter, entityIds: string[]): Promise<void> {
  ids += 1;
  await writer.append({
    eventId: `00000000-0000-4000-8000-${String(ids).padStart(12, '0')}`,
    eventType: 'custody.inspect',
    entityIds,
    occurredAt: '2026-11-26T07:00:00Z',
    actor: 'op',
    payload: { n: ids },
  });
}

interface Setup {
  readonly log: MemoryPartitionLog;
  readonly writer: PartitionWriter;
  readonly feed: MemoryLedgerFeed;
  readonly follower: LedgerFollower;
  readonly followed: ProductVerifier;
  readonly full: ProductVerifier;
  readonly spillDir: string;
  readonly errors: Error[];
  pin: Hash | null;
  /** Offsets deleted from the start of the topic (Kafka's log start offset). */
  start: number;
}

const running: LedgerFollower[] = [];
afterEach(async () => {
  for (const follower of running.splice(0)) await follower.stop();
});

async function setUp(catchUpWaitMs = 2000): Promise<Setup> {
  const { writer, log } = await startMemoryWriter('unit', signer);
  for (const ids of [[PRODUCT], ['other'], [PRODUCT, 'other'], ['third']]) await step(writer, ids);
  const feed = new MemoryLedgerFeed(log);
  const spillDir = mkdtempSync(join(tmpdir(), 'custodian-follower-'));
  const errors: Error[] = [];
  const setup = { pin: null, start: 0 } as Setup;
  const source: LedgerSource = {
    ledgerId: 'unit',
    partitions: 1,
    ledgerKey,
    genesisPin: () => Promise.resolve(setup.pin),
    read: () => log.values(),
  };
  const follower = new LedgerFollower({
    source,
    feed,
    offsets: () => Promise.resolve({ start: String(setup.start), end: String(log.entries.length) }),
    spillDir,
    catchUpWaitMs,
    onError: (error) => errors.push(error),
  });
  const verifier = (withFollower: boolean) =>
    memoryProductVerifier('unit', ledgerKey, attestationSigner, [], { source, follower: withFollower ? follower : null });
  await follower.start();
  running.push(follower);
  return Object.assign(setup, { log, writer, feed, follower, followed: verifier(true), full: verifier(false), spillDir, errors });
}

describe('LedgerFollower', () => {
  it('attests from its verified view exactly as a full read does, and then reads only the tail written since', async () => {
    const s = await setUp();
    const first = await s.followed.verify(PRODUCT, { evidence: true, since: 2 });
    expect(first.ledgerRead).toBe('followed');
    expect(first.attestation.attestation).toMatchObject({ verdict: 'verified', steps: 2 });
    const full = await s.full.verify(PRODUCT, { evidence: true, since: 2 });
    expect(full.ledgerRead).toBe('full');
    expect(first.attestation).toEqual(full.attestation);
    expect(first.bundle).toEqual(full.bundle);

    await step(s.writer, [PRODUCT]);
    await step(s.writer, ['other']);
    await step(s.writer, [PRODUCT]);
    const later = await s.followed.verify(PRODUCT, { evidence: true, since: 5 });
    expect(later.ledgerRead).toBe('followed');
    expect(later.attestation.attestation.steps).toBe(4);
    expect(later.bundle).toEqual((await s.full.verify(PRODUCT, { evidence: true, since: 5 })).bundle);
    const check = checkEvidenceBundle(later.bundle, {
      ledgerKey,
      attestationKey: new CheckpointVerifier(attestationSigner.keyName, attestationSigner.publicKey),
    });
    expect(check.failures).toEqual([]);
  });

  it('finds a record no checkpoint covers, appended behind the writer, as a full read finds it', async () => {
    const s = await setUp();
    await s.followed.verify(PRODUCT, { evidence: false });
    const stray = s.log.entries[2]!.entry;
    s.log.entries.push({ offset: String(s.log.entries.length), entry: stray });
    const followed = await s.followed.verify(PRODUCT, { evidence: false });
    expect(followed.ledgerRead).toBe('followed');
    expect(followed.attestation.attestation.verdict).toBe('tampered');
    expect(followed.attestation).toEqual((await s.full.verify(PRODUCT, { evidence: false })).attestation);
  });

  it('pushes a batch Kafka delivers again only once', async () => {
    const s = await setUp();
    s.feed.redeliver = true;
    await step(s.writer, [PRODUCT]);
    await step(s.writer, ['other']);
    const followed = await s.followed.verify(PRODUCT, { evidence: true });
    expect(followed.ledgerRead).toBe('followed');
    expect(followed.attestation.attestation).toMatchObject({ verdict: 'verified', steps: 3 });
    expect(followed.bundle).toEqual((await s.full.verify(PRODUCT, { evidence: true })).bundle);
  });

  it('takes a genesis pin that appeared after it started when it is its genesis, and leaves another pin to a full read', async () => {
    const s = await setUp();
    const genesis = (await s.full.verify(PRODUCT, { evidence: false })).attestation.attestation.genesisHash;
    s.pin = genesis;
    const same = await s.followed.verify(PRODUCT, { evidence: false });
    expect(same.ledgerRead).toBe('followed');
    expect(same.attestation.attestation).toMatchObject({ verdict: 'verified', genesisHash: genesis });

    const other = await setUp();
    other.pin = 'f'.repeat(64);
    const followed = await other.followed.verify(PRODUCT, { evidence: false });
    expect(followed.ledgerRead).toBe('full');
    expect(followed.attestation.attestation.findings[0]).toMatchObject({ kind: 'genesis', offset: '0', expected: other.pin });
    expect(followed.attestation).toEqual((await other.full.verify(PRODUCT, { evidence: false })).attestation);
  });

  it('leaves the attestation to a full read when records were deleted from the topic or it got shorter', async () => {
    const s = await setUp();
    expect((await s.followed.verify(PRODUCT, { evidence: false })).ledgerRead).toBe('followed');
    s.start = 2;
    expect((await s.followed.verify(PRODUCT, { evidence: false })).ledgerRead).toBe('full');
    s.start = 0;
    const removed = s.log.entries.splice(6);
    expect(removed.length).toBeGreaterThan(0);
    const shorter = await s.followed.verify(PRODUCT, { evidence: false });
    expect(shorter.ledgerRead).toBe('full');
    expect(shorter.attestation.attestation.steps).toBe(1);
  });

  it('deletes the spill files a killed process left behind, and its own when it stops', async () => {
    const s = await setUp();
    const ledgerDir = join(s.spillDir, 'verifier', 'unit');
    const [own] = readdirSync(ledgerDir);
    mkdirSync(join(ledgerDir, 'run-killed'));
    writeFileSync(join(ledgerDir, 'run-killed', 'partition-0.records'), 'left behind');
    const next = new LedgerFollower({
      source: { ledgerId: 'unit', partitions: 1, ledgerKey, genesisPin: () => Promise.resolve(null), read: () => [] },
      feed: new MemoryLedgerFeed(s.log),
      offsets: () => Promise.resolve({ start: '0', end: String(s.log.entries.length) }),
      spillDir: s.spillDir,
      catchUpWaitMs: 2000,
    });
    await next.start();
    // The other follower's directory goes too; its open file keeps answering.
    expect(readdirSync(ledgerDir)).toHaveLength(1);
    expect(readdirSync(ledgerDir)).not.toContain(own);
    expect((await s.followed.verify(PRODUCT, { evidence: false })).ledgerRead).toBe('followed');
    await next.stop();
    expect(readdirSync(ledgerDir)).toEqual([]);
  });

  it('leaves the attestation to a full read when it does not reach the end in time', async () => {
    const s = await setUp(50);
    await s.followed.verify(PRODUCT, { evidence: false });
    s.feed.paused = true;
    await step(s.writer, [PRODUCT]);
    const { attestation, ledgerRead } = await s.followed.verify(PRODUCT, { evidence: false });
    expect(ledgerRead).toBe('full');
    expect(attestation.attestation).toMatchObject({ verdict: 'verified', steps: 3 });
  });

  it('leaves the attestation to a full read when its spill file no longer holds what it verified', async () => {
    const s = await setUp();
    await s.followed.verify(PRODUCT, { evidence: false });
    const ledgerDir = join(s.spillDir, 'verifier', 'unit');
    const [directory] = readdirSync(ledgerDir);
    const [name] = readdirSync(join(ledgerDir, directory!));
    const file = join(ledgerDir, directory!, name!);
    writeFileSync(file, readFileSync(file, 'utf8').replace('21/F1', '21/F9'));
    const { attestation, ledgerRead } = await s.followed.verify(PRODUCT, { evidence: false });
    expect(ledgerRead).toBe('full');
    expect(attestation.attestation).toMatchObject({ verdict: 'verified', steps: 2 });
    expect(s.errors.map((e) => e.message).join('\n')).toMatch(/record cache does not hold the verified record/);
  });
});

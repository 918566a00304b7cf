/**
 * The full audit with its decoding threads (RecordDecodePool, from the build in dist/) must
 * reach the verdict the audit's own thread reaches, both ways: an honest ledger verifies, and a
 * ledger with one byte flipped or one record removed, repeated or moved is tampered at the same
 * place, whichever chunk the change falls in.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { CheckpointSigner, CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import type { StoredEntry } from '../../src/ledger/ports.js';
import { LedgerAudit } from '../../src/verification/ledger-audit.js';
import type { LedgerSource } from '../../src/verification/partition-scan.js';
import { scanPartition } from '../../src/verification/partition-scan.js';
import { RecordDecodePool } from '../../src/ledger/adapters/record-decode-pool.js';
import { sequentialIds, startMemoryWriter, writerIdle } from '../support/memory-ledger.js';
import { ROOT } from '../support/test-stack.mjs';

const LEDGER = 'pool-audit';
const signer = new CheckpointSigner('custodian/pool-audit', new Uint8Array(32).fill(11));
const ledgerKey = new CheckpointVerifier(signer.keyName, signer.publicKey);

function sourceOf(entries: readonly StoredEntry[]): LedgerSource {
  return { ledgerId: LEDGER, partitions: 1, ledgerKey, genesisPin: () => Promise.resolve(null), read: () => entries };
}

/** 2,400 custody steps of 60 products, in batches of up to 40: ten chunks of 256, more than two threads hold at once, and a checkpoint in each batch. */
async function honestLedger(): Promise<StoredEntry[]> {
  const { writer, log } = await startMemoryWriter(LEDGER, signer, { maxBatch: 40 });
  const ids = sequentialIds(3);
  for (let round = 0; round < 40; round++) {
    await Promise.all(
      Array.from({ length: 60 }, (_, product) =>
        writer.append({
          eventId: ids(),
          eventType: round === 0 ? 'custody.commissioned' : 'custody.handover',
          entityIds: [`/01/09506000134352/21/P${product}`],
          occurredAt: '2026-12-04T08:00:00Z',
          actor: 'dock-7',
          payload: { round, note: 'Überstellung' },
        }),
      ),
    );
  }
  await writerIdle();
  return log.values();
}

/** A changed copy of the partition, offsets counted again as the topic would hold it. */
type Change =
  | { readonly kind: 'flip'; readonly at: number; readonly byte: number; readonly bit: number }
  | { readonly kind: 'remove'; readonly at: number }
  | { readonly kind: 'repeat'; readonly at: number; readonly to: number }
  | { readonly kind: 'swap'; readonly at: number };

function changed(entries: readonly StoredEntry[], change: Change): StoredEntry[] {
  const values = entries.map((entry) => entry.value);
  const at = change.at % values.length;
  switch (change.kind) {
    case 'flip': {
      const value = Uint8Array.from(values[at] as Uint8Array);
      const i = change.byte % value.length;
      value[i] = (value[i] as number) ^ (1 << change.bit);
      values[at] = value;
      break;
    }
    case 'remove':
      values.splice(at, 1);
      break;
    case 'repeat':
      values.splice(change.to % values.length, 0, values[at] as Uint8Array);
      break;
    case 'swap': {
      const next = (at + 1) % values.length;
      [values[at], values[next]] = [values[next] as Uint8Array, values[at] as Uint8Array];
      break;
    }
  }
  return values.map((value, offset) => ({ offset: String(offset), value }));
}

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat() }),
);

describe('the full audit decoding in worker threads', () => {
  let honest: StoredEntry[];
  let pool: RecordDecodePool;

  beforeAll(async () => {
    honest = await honestLedger();
    pool = RecordDecodePool.start(2);
  });

  afterAll(async () => {
    await pool.close();
  });

  it('verifies an honest ledger to the same tree as the audit thread alone', async () => {
    const here = await scanPartition(sourceOf(honest), 0, () => undefined);
    const inPool = await scanPartition(sourceOf(honest), 0, () => undefined, { pool });
    expect(here.problem).toBeNull();
    expect(inPool.problem).toBeNull();
    expect(inPool.size).toBe(honest.length);
    expect(inPool.recordsRead).toBe(honest.length);
    expect(inPool.proofs.root(inPool.size)).toBe(here.proofs.root(here.size));
    expect(inPool.checkpoint).toEqual(here.checkpoint);
  });

  it('finds one changed byte or record at the same place as the audit thread alone', async () => {
    await fc.assert(
      fc.asyncProperty(change, async (c) => {
        const entries = changed(honest, c);
        const here = await scanPartition(sourceOf(entries), 0, () => undefined);
        const inPool = await scanPartition(sourceOf(entries), 0, () => undefined, { pool });
        // Every record here is under a signed checkpoint: any change breaks a hash, a link, a signature or the order.
        expect(here.problem).not.toBeNull();
        expect(inPool.problem).toEqual(here.problem);
        expect(inPool.problem?.offset).toEqual(expect.stringMatching(/^\d+$/));
        expect(inPool.recordsRead).toBe(here.recordsRead);
      }),
      { numRuns: 40 },
    );
  });

  it('names a malformed record in the pool exactly as the audit thread does', async () => {
    const entries = changed(honest, { kind: 'flip', at: 1700, byte: 0, bit: 1 });
    const inPool = await scanPartition(sourceOf(entries), 0, () => undefined, { pool });
    expect(inPool.problem).toMatchObject({ kind: 'malformed', offset: '1700', sequence: null });
    expect(inPool.problem?.message).toMatch(/^not a ledger record: /);
  });

  it('gives the same report with threads as without, verified and tampered', async () => {
    const report = async (entries: StoredEntry[], threads: number) => {
      const { seconds, recordsPerSecond, startedAt, finishedAt, summary, ...rest } = await new LedgerAudit({
        source: sourceOf(entries),
        witness: null,
        readModel: null,
        clock: { now: () => new Date('2026-12-04T12:00:00Z') },
        threads,
      }).run();
      return { rest, seconds, recordsPerSecond, startedAt, finishedAt, summary };
    };
    const tampered = changed(honest, { kind: 'remove', at: 1333 });
    for (const entries of [honest, tampered]) {
      const alone = await report(entries, 0);
      const threaded = await report(entries, 2);
      expect(threaded.rest).toEqual(alone.rest);
    }
    expect((await report(honest, 2)).rest.verdict).toBe('verified');
    const found = (await report(tampered, 2)).rest;
    expect(found.verdict).toBe('tampered');
    expect(found.findings[0]).toMatchObject({ source: 'ledger', partition: 0, offset: expect.any(String) });
  });

  it('keeps a process alive while its threads decode, and lets it end once they are idle', () => {
    // Nothing but the pool's threads keeps this process's event loop busy while it waits.
    const script = [
      `import { CheckpointSigner, CheckpointVerifier } from '${ROOT}/dist/src/ledger/checkpoint-note.js';`,
      `import { scanPartition } from '${ROOT}/dist/src/verification/partition-scan.js';`,
      `import { RecordDecodePool } from '${ROOT}/dist/src/ledger/adapters/record-decode-pool.js';`,
      `import { sequentialIds, startMemoryWriter, writerIdle } from '${ROOT}/dist/test/support/memory-ledger.js';`,
      `const ids = sequentialIds(4);`,
      `const signer = new CheckpointSigner('custodian/child', new Uint8Array(32).fill(2));`,
      `const { writer, log } = await startMemoryWriter('child', signer, { maxBatch: 50 });`,
      `await Promise.all(Array.from({ length: 600 }, (_, i) => writer.append({ eventId: ids(), eventType: 'custody.commissioned', entityIds: ['E' + i], occurredAt: '2026-12-04T08:00:00Z', actor: 'a', payload: {} })));`,
      `await writerIdle();`,
      `const source = { ledgerId: 'child', partitions: 1, ledgerKey: new CheckpointVerifier(signer.keyName, signer.publicKey), genesisPin: async () => null, read: () => log.values() };`,
      `const scan = await scanPartition(source, 0, () => undefined, { pool: RecordDecodePool.start(1) });`,
      `console.log(JSON.stringify({ size: scan.size, records: log.values().length, problem: scan.problem }));`,
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'decode-pool-'));
    try {
      writeFileSync(join(dir, 'scan.mjs'), script);
      const out = execFileSync(process.execPath, [join(dir, 'scan.mjs')], { encoding: 'utf8', timeout: 60_000 });
      const { size, records, problem } = JSON.parse(out) as { size: number; records: number; problem: unknown };
      expect(problem).toBeNull();
      expect(records).toBeGreaterThan(600);
      expect(size).toBe(records);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails the audit, not the verdict, when a decoding thread dies', async () => {
    const dying = RecordDecodePool.start(1, new URL('data:text/javascript,process.exit(3)'));
    try {
      await expect(scanPartition(sourceOf(honest), 0, () => undefined, { pool: dying })).rejects.toThrow(
        /decoding thread exited \(code 3\)/,
      );
    } finally {
      await dying.close();
    }
  });
});

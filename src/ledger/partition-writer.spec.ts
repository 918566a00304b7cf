import { describe, expect, it } from '@jest/globals';
import {
  MemoryGenesisPins,
  MemoryPartitionLog,
  sequentialIds,
  steppingClock,
  untilOpen,
} from '../../test/support/memory-ledger.js';
import { ChainVerifier } from './chain-verifier.js';
import { CheckpointSigner, CheckpointVerifier } from './checkpoint-note.js';
import {
  AppendOutcomeUnknownError,
  LedgerIntegrityError,
  LedgerUnavailableError,
  WriterFencedAfterCommitError,
  WriterFencedError,
} from './ledger-errors.js';
import type { AppendRequest } from './ledger-record.js';
import { PartitionWriter, type WriterStatus } from './partition-writer.js';
import { decodeRecord } from './record-codec.js';

const signer = new CheckpointSigner(
  'custodian/unit',
  Uint8Array.from({ length: 32 }, (_, i) => 100 + i),
);
const ids = sequentialIds(7);

function request(entity: string, n: number): AppendRequest {
  return {
    eventId: ids(),
    eventType: 'custody.handover',
    entityIds: [entity],
    occurredAt: '2026-11-26T07:00:00Z',
    actor: 'operator-1',
    payload: { n },
  };
}

function writer(
  log: MemoryPartitionLog,
  pins = new MemoryGenesisPins(),
  start?: string,
  onStatus?: (status: WriterStatus) => void,
): PartitionWriter {
  return new PartitionWriter({
    ledgerId: 'unit',
    partition: 0,
    partitions: 1,
    signer,
    log,
    pins,
    clock: steppingClock(start),
    maxBatch: 100,
    newEventId: sequentialIds(1),
    readBackDelayMs: 5,
    reclaimDelayMs: { initial: 5, max: 20 },
    ...(onStatus ? { onStatus } : {}),
  });
}

function verify(log: MemoryPartitionLog) {
  const verifier = new ChainVerifier({
    ledgerId: 'unit',
    partition: 0,
    verifier: new CheckpointVerifier(signer.keyName, signer.publicKey),
  });
  for (const entry of log.values()) {
    const result = verifier.push(entry.offset, entry.value);
    if ('break' in result) return result.break;
  }
  return verifier.end() ?? verifier.head();
}

describe('PartitionWriter', () => {
  it('starts an empty partition with a genesis record and its checkpoint, and pins the genesis', async () => {
    const log = new MemoryPartitionLog();
    const pins = new MemoryGenesisPins();
    const head = await writer(log, pins).start();
    expect(log.entries).toHaveLength(2);
    const genesis = decodeRecord(log.entries[0]!.entry.value);
    expect(genesis.record).toMatchObject({
      sequence: 0,
      previousHash: null,
      eventType: 'ledger.genesis',
      payload: { ledgerId: 'unit' },
    });
    expect(decodeRecord(log.entries[1]!.entry.value).record).toMatchObject({ sequence: 1, eventType: 'ledger.checkpoint' });
    expect(head?.genesisHash).toBe(genesis.hash);
    expect(await pins.get('unit', 0)).toBe(genesis.hash);
  });

  it('groups appends that arrive while a batch is in flight, one transaction and one checkpoint per batch', async () => {
    const log = new MemoryPartitionLog();
    const w = writer(log);
    await w.start();
    const receipts = await Promise.all(Array.from({ length: 50 }, (_, i) => w.append(request(`product-${i % 5}`, i))));
    // The first append runs alone; the 49 that queued behind it form the second batch.
    expect(w.stats).toEqual({ batches: 2, appends: 50, committedEnd: String(log.entries.length) });
    expect(log.transactions).toBe(3);
    expect(receipts.map((r) => r.sequence)).toEqual([2, ...Array.from({ length: 49 }, (_, i) => i + 4)]);
    for (const receipt of receipts) {
      const stored = log.entries[Number(receipt.offset)]!;
      expect(decodeRecord(stored.entry.value).hash).toBe(receipt.hash);
      expect(receipt.checkpointSize).toBeGreaterThan(receipt.sequence);
    }
    const head = verify(log);
    expect(head).toMatchObject({ nextSequence: 54 });
  });

  it('links each entity to its own previous record', async () => {
    const log = new MemoryPartitionLog();
    const w = writer(log);
    await w.start();
    const first = await w.append(request('product-a', 1));
    await w.append(request('product-b', 2));
    await w.append(request('product-a', 3));
    const third = decodeRecord(log.entries.at(-2)!.entry.value).record;
    expect(third.entities).toEqual([{ id: 'product-a', previousHash: first.hash }]);
  });

  it('recovers its head from the log after a restart and continues the same chain', async () => {
    const log = new MemoryPartitionLog();
    const pins = new MemoryGenesisPins();
    const before = writer(log, pins);
    await before.start();
    const last = await before.append(request('product-a', 1));
    await before.close();
    const after = writer(log, pins);
    const head = await after.start();
    expect(head?.nextSequence).toBe(last.sequence + 2);
    const next = await after.append(request('product-a', 2));
    expect(next.sequence).toBe(last.sequence + 2);
    expect(decodeRecord(log.entries.at(-2)!.entry.value).record.entities).toEqual([{ id: 'product-a', previousHash: last.hash }]);
    expect(verify(log)).toMatchObject({ nextSequence: next.sequence + 2 });
  });

  it('rejects the batch when the log fails, re-reads its head, and goes on', async () => {
    const log = new MemoryPartitionLog();
    const w = writer(log);
    await w.start();
    log.failNext = new Error('broker down');
    await expect(w.append(request('product-a', 1))).rejects.toBeInstanceOf(LedgerUnavailableError);
    expect(await untilOpen(() => w.status)).toBe('open');
    const receipt = await w.append(request('product-a', 2));
    expect(receipt.sequence).toBe(2);
    expect(verify(log)).toMatchObject({ nextSequence: 4 });
  });

  it('refuses appends at once, recording nothing, while Kafka cannot be reached, and takes them again once it reads back', async () => {
    const log = new MemoryPartitionLog();
    const w = writer(log);
    await w.start();
    const before = log.entries.length;
    log.failNext = new Error('broker down');
    log.failNextRead = new Error('broker still down');
    await expect(w.append(request('product-a', 1))).rejects.toBeInstanceOf(LedgerUnavailableError);
    expect(w.status).toBe('unavailable');
    // Refused without waiting for the log: nothing is queued behind an outage.
    const transactions = log.transactions;
    await expect(w.append(request('product-a', 2))).rejects.toThrow(/partition 0 cannot be reached .*nothing was recorded/);
    expect(log.transactions).toBe(transactions);
    expect(log.entries).toHaveLength(before);
    // The first read back failed (failNextRead); the next one succeeds and the writer goes on on the same chain.
    expect(await untilOpen(() => w.status)).toBe('open');
    const receipt = await w.append(request('product-a', 3));
    expect(receipt.sequence).toBe(2);
    expect(verify(log)).toMatchObject({ nextSequence: 4 });
  });

  it('refuses appends at once after a commit whose outcome it could not read back', async () => {
    const log = new MemoryPartitionLog();
    const w = writer(log);
    await w.start();
    log.loseAnswerNext = { committed: true, error: new AppendOutcomeUnknownError('EndTxn answer lost') };
    log.failNextRead = new Error('broker down');
    await expect(w.append(request('product-a', 1))).rejects.toBeInstanceOf(AppendOutcomeUnknownError);
    expect(w.status).toBe('unavailable');
    await expect(w.append(request('product-a', 2))).rejects.toBeInstanceOf(LedgerUnavailableError);
    // Read back, the landed record is part of the chain the writer goes on with.
    expect(await untilOpen(() => w.status)).toBe('open');
    const receipt = await w.append(request('product-a', 3));
    expect(receipt.sequence).toBe(4);
    expect(verify(log)).toMatchObject({ nextSequence: 6 });
  });

  it('closes while Kafka cannot be reached, and stops reading back', async () => {
    const log = new MemoryPartitionLog();
    const w = writer(log);
    await w.start();
    log.failNext = new Error('broker down');
    log.failNextRead = new Error('broker still down');
    await expect(w.append(request('product-a', 1))).rejects.toBeInstanceOf(LedgerUnavailableError);
    await w.close();
    expect(w.status).toBe('closed');
    await expect(w.append(request('product-a', 2))).rejects.toThrow(/is closed/);
  });

  it('answers the callers of a commit whose answer was lost from what the log holds', async () => {
    const log = new MemoryPartitionLog();
    const w = writer(log);
    await w.start();
    log.loseAnswerNext = { committed: true, error: new AppendOutcomeUnknownError('EndTxn answer lost') };
    const landed = await w.append(request('product-a', 1));
    expect(decodeRecord(log.entries[Number(landed.offset)]!.entry.value).hash).toBe(landed.hash);

    log.loseAnswerNext = { committed: false, error: new AppendOutcomeUnknownError('EndTxn answer lost') };
    await expect(w.append(request('product-a', 2))).rejects.toThrow(/the transaction was not committed/);
    const next = await w.append(request('product-a', 3));
    expect(next.sequence).toBe(landed.sequence + 2);
    expect(verify(log)).toMatchObject({ nextSequence: next.sequence + 2 });
  });

  it('refuses appends once fenced, says so once, and takes the partition back when the other writer is idle', async () => {
    const log = new MemoryPartitionLog();
    const statuses: WriterStatus[] = [];
    const w = writer(log, new MemoryGenesisPins(), undefined, (status) => statuses.push(status));
    await w.start();
    const before = await w.append(request('product-a', 1));
    log.failNext = new WriterFencedError('another writer took over partition 0');
    await expect(w.append(request('product-a', 2))).rejects.toThrow(WriterFencedError);
    expect(w.status).toBe('fenced');
    await expect(w.append(request('product-a', 3))).rejects.toThrow(/another writer took over/);
    expect(w.describe()).toEqual({ partition: 0, state: 'fenced', reason: 'another writer took over partition 0' });

    // Nothing more is appended by the other writer: it is idle, so the partition is taken back,
    // fencing it in turn (open() again), and the chain read back before the next append.
    expect(await untilOpen(() => w.status)).toBe('open');
    expect(log.opens).toBe(2);
    const after = await w.append(request('product-a', 4));
    expect(after.sequence).toBe(before.sequence + 2);
    expect(verify(log)).toMatchObject({ nextSequence: after.sequence + 2 });
    expect(statuses.map((status) => status.state)).toEqual(['open', 'fenced', 'open']);
    await w.close();
  });

  it('stays fenced, without taking the partition back, when Kafka’s group places the writers (reclaimWhenFenced false)', async () => {
    const log = new MemoryPartitionLog();
    const w = new PartitionWriter({
      ledgerId: 'unit',
      partition: 0,
      partitions: 1,
      signer,
      log,
      pins: new MemoryGenesisPins(),
      clock: steppingClock(),
      maxBatch: 100,
      newEventId: sequentialIds(1),
      readBackDelayMs: 5,
      reclaimDelayMs: { initial: 5, max: 20 },
      reclaimWhenFenced: false,
    });
    await w.start();
    log.failNext = new WriterFencedError('another writer took over partition 0');
    await expect(w.append(request('product-a', 1))).rejects.toThrow(WriterFencedError);
    // The other writer is idle: a writer that reclaims would have opened the log again by now (5-20 ms).
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(w.status).toBe('fenced');
    expect(log.opens).toBe(1);
    await expect(w.append(request('product-a', 2))).rejects.toThrow(/another writer took over/);
    await w.close();
    expect(w.status).toBe('closed');
  });

  it('answers a fence that came after its commit was sent as outcome unknown, and does not read back (that would fence the new writer)', async () => {
    const log = new MemoryPartitionLog();
    const w = new PartitionWriter({
      ledgerId: 'unit',
      partition: 0,
      partitions: 1,
      signer,
      log,
      pins: new MemoryGenesisPins(),
      clock: steppingClock(),
      maxBatch: 100,
      newEventId: sequentialIds(1),
      readBackDelayMs: 5,
      reclaimWhenFenced: false,
    });
    await w.start();
    const entries = log.entries.length;
    log.loseAnswerNext = { committed: true, error: new WriterFencedAfterCommitError('taken over after the commit was sent') };
    await expect(w.append(request('product-a', 1))).rejects.toBeInstanceOf(WriterFencedAfterCommitError);
    // The batch landed (the commit went through before the fence); the writer says fenced and opens nothing again.
    expect(log.entries.length).toBeGreaterThan(entries);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(w.status).toBe('fenced');
    expect(log.opens).toBe(1);
    await w.close();
  });

  it('does not take the partition back while the other writer keeps appending', async () => {
    const log = new MemoryPartitionLog();
    const w = writer(log);
    await w.start();
    log.failNext = new WriterFencedError('another writer took over partition 0');
    await expect(w.append(request('product-a', 1))).rejects.toThrow(WriterFencedError);
    // The other writer appends (here: its records, as the log sees them) faster than the
    // fenced one looks: it never finds the partition idle.
    const busy = setInterval(() => log.appendFromOutside({ key: 'x', value: new Uint8Array([1]), headers: {} }), 2);
    await new Promise((resolve) => setTimeout(resolve, 150));
    clearInterval(busy);
    expect(w.status).toBe('fenced');
    expect(log.opens).toBe(1);
    await w.close();
    expect(w.status).toBe('closed');
  });

  it('refuses to extend a chain someone else appended to, commits nothing, and says why', async () => {
    const log = new MemoryPartitionLog();
    const w = writer(log);
    await w.start();
    await w.append(request('product-a', 1));
    const outsider = log.appendFromOutside({ key: 'x', value: new TextEncoder().encode('{"not":"a record"}'), headers: {} });
    const entries = log.entries.length;
    await expect(w.append(request('product-a', 2))).rejects.toBeInstanceOf(LedgerIntegrityError);
    expect(log.entries).toHaveLength(entries);
    expect(w.status).toBe('failed');
    await expect(w.append(request('product-a', 3))).rejects.toBeInstanceOf(LedgerIntegrityError);
    expect(w.reason).toMatch(/holds records this writer did not write/);
    // The ledger ends with the outsider's record: uncovered, reported where it stands.
    expect(verify(log)).toMatchObject({ kind: 'malformed', offset: outsider });
  });

  it('starts failed, without a head, on an empty partition whose genesis is pinned: history was lost', async () => {
    const pins = new MemoryGenesisPins();
    await pins.pin('unit', 0, 'e'.repeat(64));
    const log = new MemoryPartitionLog();
    const w = writer(log, pins);
    expect(await w.start()).toBeNull();
    expect(w.status).toBe('failed');
    expect(w.reason).toMatch(/holds no verified record although its genesis is pinned: its history was deleted/);
    await expect(w.append(request('product-a', 1))).rejects.toBeInstanceOf(LedgerIntegrityError);
    expect(log.entries).toHaveLength(0);
  });

  it('starts failed on a partition rewritten from genesis, and appends nothing to it', async () => {
    const pins = new MemoryGenesisPins();
    await writer(new MemoryPartitionLog(), pins).start();
    const rewritten = new MemoryPartitionLog();
    await writer(rewritten, new MemoryGenesisPins(), '2026-12-01T00:00:00.000Z').start(); // same key, another genesis
    const w = writer(rewritten, pins);
    expect(await w.start()).toBeNull();
    expect(w.describe()).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/genesis at partition 0, offset 0.*not the pinned one/),
    });
    await expect(w.append(request('product-a', 1))).rejects.toBeInstanceOf(LedgerIntegrityError);
    expect(rewritten.entries).toHaveLength(2);
  });
});

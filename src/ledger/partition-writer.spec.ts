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
import { AppendOutcomeUnknownError, LedgerIntegrityError, LedgerUnavailableError, WriterFencedError } from './ledger-errors.js';
import type { AppendRequest } from './ledger-record.js';
import { PartitionWriter } from './partition-writer.js';
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

function writer(log: MemoryPartitionLog, pins = new MemoryGenesisPins(), start?: string): PartitionWriter {
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
    expect(head.genesisHash).toBe(genesis.hash);
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
    expect(head.nextSequence).toBe(last.sequence + 2);
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

  it('stops for good once fenced and says so', async () => {
    const log = new MemoryPartitionLog();
    const w = writer(log);
    await w.start();
    log.failNext = new WriterFencedError('another writer took over partition 0');
    await expect(w.append(request('product-a', 1))).rejects.toThrow(WriterFencedError);
    await expect(w.append(request('product-a', 2))).rejects.toThrow(/another writer took over/);
    expect(w.status).toBe('fenced');
  });

  it('refuses to start on an empty partition whose genesis is pinned: history was lost', async () => {
    const pins = new MemoryGenesisPins();
    await pins.pin('unit', 0, 'e'.repeat(64));
    await expect(writer(new MemoryPartitionLog(), pins).start()).rejects.toThrow(
      /holds no verified record although its genesis is pinned: its history was deleted/,
    );
  });

  it('refuses to start on a partition rewritten from genesis', async () => {
    const pins = new MemoryGenesisPins();
    await writer(new MemoryPartitionLog(), pins).start();
    const rewritten = new MemoryPartitionLog();
    await writer(rewritten, new MemoryGenesisPins(), '2026-12-01T00:00:00.000Z').start(); // same key, another genesis
    const attempt = writer(rewritten, pins).start();
    await expect(attempt).rejects.toBeInstanceOf(LedgerIntegrityError);
    await expect(writer(rewritten, pins).start()).rejects.toThrow(/genesis at partition 0, offset 0.*not the pinned one/);
  });
});

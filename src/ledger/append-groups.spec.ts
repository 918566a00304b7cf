import { describe, expect, it } from '@jest/globals';
import { commission, handover, holderModel, NotTheHolder } from '../../test/support/holder-model.js';
import { MemoryGenesisPins, MemoryPartitionLog, steppingClock, untilOpen } from '../../test/support/memory-ledger.js';
import { ChainVerifier } from './chain-verifier.js';
import { CheckpointSigner, CheckpointVerifier } from './checkpoint-note.js';
import { EventIdConflictError, EventInFlightError } from './ledger-errors.js';
import type { AppendRequest } from './ledger-record.js';
import { LedgerWriter } from './ledger-writer.js';
import { decodeRecord } from './record-codec.js';

const [E1, E2, E3] = [1, 2, 404].map((n) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`) as [string, string, string];

const signer = new CheckpointSigner('custodian/unit', new Uint8Array(32).fill(9));

async function ledger(log: MemoryPartitionLog, maxBatch = 100, maxBatchBytes?: number): Promise<LedgerWriter> {
  const writer = new LedgerWriter({
    ledgerId: 'unit',
    partitions: 1,
    signer,
    pins: new MemoryGenesisPins(),
    clock: steppingClock(),
    maxBatch,
    ...(maxBatchBytes ? { maxBatchBytes } : {}),
    maxPayloadBytes: 1024,
    openPartition: () => log,
    stateModel: holderModel,
    readBackDelayMs: 5,
  });
  await writer.start();
  return writer;
}

function eventTypes(log: MemoryPartitionLog): string[] {
  return log.values().map(({ value }) => decodeRecord(value).record.eventType);
}

function verifies(log: MemoryPartitionLog): boolean {
  const verifier = new ChainVerifier({
    ledgerId: 'unit',
    partition: 0,
    verifier: new CheckpointVerifier(signer.keyName, signer.publicKey),
  });
  for (const { offset, value } of log.values()) if ('break' in verifier.push(offset, value)) return false;
  return verifier.end() === null;
}

/** A request that names the request it came from, as an idempotent API call does. */
function keyed(request: AppendRequest, eventId: string, requestDigest: string): AppendRequest {
  return { ...request, eventId, payload: { ...request.payload, requestDigest } };
}

describe('appending a group of requests', () => {
  it('appends the group in order as consecutive records of one transaction', async () => {
    const log = new MemoryPartitionLog();
    const writer = await ledger(log);
    const before = log.transactions;
    const receipts = await writer.appendAll([
      commission('p-1', 'maker'),
      handover('p-1', 'maker', 'carrier'),
      handover('p-1', 'carrier', 'shop'),
    ]);
    expect(log.transactions).toBe(before + 1);
    expect(receipts.map((r) => r.sequence)).toEqual([2, 3, 4]);
    expect(receipts.every((r) => r.checkpointSize === 5)).toBe(true);
    expect((await writer.statesOf(['p-1'])).get('p-1')).toBe('shop');
    expect(verifies(log)).toBe(true);
  });

  it('appends nothing of a group when one of its requests is refused, and leaves other requests alone', async () => {
    const log = new MemoryPartitionLog();
    const writer = await ledger(log);
    await writer.append(commission('p-1', 'maker'));
    const size = log.entries.length;
    const [group, alone] = await Promise.allSettled([
      writer.appendAll([commission('p-2', 'maker'), handover('p-1', 'someone-else', 'carrier')]),
      writer.append(handover('p-1', 'maker', 'carrier')),
    ]);
    expect(group.status).toBe('rejected');
    expect((group as PromiseRejectedResult).reason).toBeInstanceOf(NotTheHolder);
    expect(alone.status).toBe('fulfilled');
    expect((await writer.statesOf(['p-2'])).get('p-2')).toBeUndefined();
    // One handover and its checkpoint; the refused group's commission is not there.
    expect(eventTypes(log).slice(size)).toEqual(['custody.handover', 'ledger.checkpoint']);
    expect(verifies(log)).toBe(true);
  });

  it('never splits a group across transactions, even one larger than maxBatch', async () => {
    const log = new MemoryPartitionLog();
    const writer = await ledger(log, 2);
    const before = log.transactions;
    const group = Array.from({ length: 5 }, (_, i) => commission(`p-${i}`, 'maker'));
    await Promise.all([writer.appendAll(group), writer.append(commission('q', 'maker'))]);
    expect(log.transactions).toBe(before + 2);
    expect(eventTypes(log).slice(-8)).toEqual([
      ...Array<string>(5).fill('custody.commissioned'),
      'ledger.checkpoint',
      'custody.commissioned',
      'ledger.checkpoint',
    ]);
  });
});

describe('the bounds of a transaction', () => {
  const padded = (entity: string, n: number) => ({
    ...commission(entity, 'maker'),
    payload: { holder: 'maker', pad: 'x'.repeat(n) },
  });

  it('puts a group that does not fit in the bytes of a transaction into the next one, and refuses one that fits in none', async () => {
    const log = new MemoryPartitionLog();
    const writer = await ledger(log, 100, 8_000);
    const before = log.transactions;
    const [a, b] = await Promise.all([
      writer.appendAll([padded('p-1', 900), padded('p-2', 900)]),
      writer.appendAll([padded('p-3', 900), padded('p-4', 900)]),
    ]);
    expect(log.transactions).toBe(before + 2);
    expect(b[0]!.sequence).toBe(a[1]!.sequence + 2);
    await expect(writer.appendAll(Array.from({ length: 6 }, (_, i) => padded(`q-${i}`, 900)))).rejects.toThrow(
      /LEDGER_MAX_BATCH_BYTES/,
    );
    expect(verifies(log)).toBe(true);
  });

  it('refuses a group that names one event id twice', async () => {
    const log = new MemoryPartitionLog();
    const writer = await ledger(log);
    const twice = [commission('p-1', 'maker'), { ...commission('p-2', 'maker') }];
    twice[1] = { ...twice[1]!, eventId: twice[0]!.eventId };
    await expect(writer.appendAll(twice)).rejects.toThrow(/appears twice in one group/);
    expect((await writer.statesOf(['p-1'])).get('p-1')).toBeUndefined();
  });

  it('answers every waiting request when reading the partition back fails, instead of leaving it waiting', async () => {
    const log = new MemoryPartitionLog();
    const writer = await ledger(log);
    log.failNext = new Error('broker down');
    log.failNextRead = new Error('still down');
    await expect(writer.append(commission('p-1', 'maker'))).rejects.toThrow(/broker down/);
    // While the partition cannot be read back, a request is answered at once.
    await expect(writer.append(commission('p-1', 'maker'))).rejects.toThrow(/cannot be reached/);
    // And once Kafka is back, the writer recovers and records again.
    expect(await untilOpen(() => writer.statuses()[0])).toBe('open');
    expect((await writer.append(commission('p-1', 'maker'))).sequence).toBe(2);
  });
});

describe('recognising a request recorded already (requestDigest)', () => {
  it('answers a retry with the first receipts and records nothing again, even after a restart', async () => {
    const log = new MemoryPartitionLog();
    const writer = await ledger(log);
    const group = () => [
      keyed(commission('p-1', 'maker'), E1, 'digest-a'),
      keyed(handover('p-1', 'maker', 'carrier'), E2, 'digest-a'),
    ];
    const first = await writer.appendAll(group());
    const size = log.entries.length;
    expect(await writer.recorded([E1, E2], 'digest-a')).toEqual(first);
    // A retry that reaches the writer (it raced the first) is answered from the ledger too,
    // although its precondition would now refuse it.
    expect(await writer.appendAll(group())).toEqual(first);
    expect(log.entries).toHaveLength(size);

    const restarted = await ledger(log);
    expect(await restarted.recorded([E1, E2], 'digest-a')).toEqual(first);
    expect(await restarted.appendAll(group())).toEqual(first);
    expect(log.entries).toHaveLength(size);
  });

  it('refuses an event id recorded for a different request', async () => {
    const log = new MemoryPartitionLog();
    const writer = await ledger(log);
    await writer.append(keyed(commission('p-1', 'maker'), E1, 'digest-a'));
    await expect(writer.recorded([E1], 'digest-b')).rejects.toThrow(EventIdConflictError);
    await expect(writer.append(keyed(commission('p-2', 'maker'), E1, 'digest-b'))).rejects.toBeInstanceOf(EventIdConflictError);
    expect(await writer.recorded([E3], 'digest-a')).toBeUndefined();
  });

  it('refuses the second of two copies of a request that meet in one batch as in flight', async () => {
    const log = new MemoryPartitionLog();
    const writer = await ledger(log);
    const copy = () => keyed(commission('p-1', 'maker'), E1, 'digest-a');
    // Both copies queue while another transaction is in flight, so they form the next batch.
    const inFlight = writer.append(commission('p-0', 'maker'));
    const [first, second] = await Promise.allSettled([writer.append(copy()), writer.append(copy())]);
    await inFlight;
    expect(first.status).toBe('fulfilled');
    expect((second as PromiseRejectedResult).reason).toBeInstanceOf(EventInFlightError);
    // Once the first is committed, a copy is answered with its receipt.
    expect(await writer.append(copy())).toEqual((first as PromiseFulfilledResult<unknown>).value);
    expect(eventTypes(log).filter((type) => type === 'custody.commissioned')).toHaveLength(2);
  });
});

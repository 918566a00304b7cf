import { describe, expect, it } from '@jest/globals';
import { commission, handover, holderModel, NotTheHolder } from '../../test/support/holder-model.js';
import { MemoryGenesisPins, MemoryPartitionLog, steppingClock, untilOpen } from '../../test/support/memory-ledger.js';
import { CheckpointSigner } from './checkpoint-note.js';
import { LedgerWriter } from './ledger-writer.js';
import { decodeRecord } from './record-codec.js';

const signer = new CheckpointSigner('custodian/unit', new Uint8Array(32).fill(5));

async function ledger(log = new MemoryPartitionLog(), pins = new MemoryGenesisPins()): Promise<LedgerWriter> {
  const writer = new LedgerWriter({
    ledgerId: 'unit',
    partitions: 1,
    signer,
    pins,
    clock: steppingClock(),
    maxBatch: 100,
    maxPayloadBytes: 1024,
    openPartition: () => log,
    stateModel: holderModel,
    readBackDelayMs: 5,
  });
  await writer.start();
  return writer;
}

describe('preconditions decided by the writer against the ledger', () => {
  it('lets exactly one of 20 concurrent handovers of a product by its holder through', async () => {
    const log = new MemoryPartitionLog();
    const writer = await ledger(log);
    await writer.append(commission('product-1', 'maker'));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => writer.append(handover('product-1', 'maker', `carrier-${i}`))),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const { reason } of lost) expect(reason).toBeInstanceOf(NotTheHolder);
    // Only the winner's handover is in the ledger.
    const handovers = log.values().filter(({ value }) => decodeRecord(value).record.eventType === 'custody.handover');
    expect(handovers).toHaveLength(1);
  });

  it('refuses one request of a batch without touching the others', async () => {
    const writer = await ledger();
    await writer.append(commission('a', 'maker'));
    const results = await Promise.allSettled([
      writer.append(commission('b', 'maker')),
      writer.append(handover('a', 'maker', 'carrier')),
      writer.append(handover('a', 'maker', 'thief')),
      writer.append(handover('b', 'maker', 'carrier')),
      writer.append(handover('a', 'carrier', 'shop')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  });

  it('rebuilds the states from the log after a restart', async () => {
    const log = new MemoryPartitionLog();
    const pins = new MemoryGenesisPins();
    const before = await ledger(log, pins);
    await before.append(commission('p', 'maker'));
    await before.append(handover('p', 'maker', 'carrier'));
    await before.close();
    const after = await ledger(log, pins);
    await expect(after.append(handover('p', 'maker', 'thief'))).rejects.toThrow(/held by carrier, not maker/);
    await expect(after.append(handover('p', 'carrier', 'shop'))).resolves.toMatchObject({ sequence: 6 });
  });

  it('keeps the state of a batch Kafka did not commit out of the entity states', async () => {
    const log = new MemoryPartitionLog();
    const writer = await ledger(log);
    await writer.append(commission('p', 'maker'));
    log.failNext = new Error('broker down');
    await expect(writer.append(handover('p', 'maker', 'carrier'))).rejects.toThrow(/not acknowledged/);
    expect(await untilOpen(() => writer.statuses()[0])).toBe('open');
    await expect(writer.append(handover('p', 'carrier', 'shop'))).rejects.toThrow(/held by maker, not carrier/);
    await expect(writer.append(handover('p', 'maker', 'carrier'))).resolves.toBeDefined();
  });
});

import { describe, expect, it } from '@jest/globals';
import { MemoryGenesisPins, MemoryPartitionLog, steppingClock } from '../../test/support/memory-ledger.js';
import { ChainVerifier } from './chain-verifier.js';
import { CheckpointSigner, CheckpointVerifier } from './checkpoint-note.js';
import { AppendRejectedError } from './ledger-errors.js';
import type { AppendRequest } from './ledger-record.js';
import { LedgerWriter, NotTheWriterError } from './ledger-writer.js';
import { partitionOf } from './partitioning.js';

const signer = new CheckpointSigner('custodian/unit', new Uint8Array(32).fill(3));

/** A started writer over in-memory partition logs, one partition per log given. */
async function ledger(logs = [new MemoryPartitionLog()]): Promise<{ writer: LedgerWriter; log: MemoryPartitionLog }> {
  const writer = new LedgerWriter({
    ledgerId: 'unit',
    partitions: logs.length,
    signer,
    pins: new MemoryGenesisPins(),
    clock: steppingClock(),
    maxBatch: 100,
    maxPayloadBytes: 1024,
    openPartition: (p) => logs[p]!,
  });
  await writer.start();
  return { writer, log: logs[0]! };
}

const good: AppendRequest = {
  eventId: '00000000-0000-4000-8000-000000000001',
  eventType: 'custody.receive',
  entityIds: ['product-1'],
  occurredAt: '2026-11-26T08:00:00Z',
  actor: 'dock-1',
  payload: { ok: true },
};

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { v: value };
  return value;
}

describe('LedgerWriter with several partitions', () => {
  it('routes each entity to its partition, where each partition is a chain of its own', async () => {
    const logs = [0, 1, 2].map((p) => new MemoryPartitionLog(p));
    const { writer } = await ledger(logs);
    const entities = Array.from({ length: 30 }, (_, i) => `product-${i}`);
    const receipts = await Promise.all(
      entities.map((id, i) =>
        writer.append({ ...good, eventId: `00000000-0000-4000-8000-${String(i + 100).padStart(12, '0')}`, entityIds: [id] }),
      ),
    );
    receipts.forEach((receipt, i) => {
      expect(receipt.partition).toBe(partitionOf(entities[i]!, 3));
    });
    expect(new Set(receipts.map((r) => r.partition))).toEqual(new Set([0, 1, 2]));
    for (const [p, log] of logs.entries()) {
      const verifier = new ChainVerifier({
        ledgerId: 'unit',
        partition: p,
        verifier: new CheckpointVerifier(signer.keyName, signer.publicKey),
      });
      for (const entry of log.values()) expect('break' in verifier.push(entry.offset, entry.value)).toBe(false);
      expect(verifier.end()).toBeNull();
      // genesis and its checkpoint, then each batch's appends and its checkpoint
      const appends = receipts.filter((r) => r.partition === p).length;
      expect(verifier.head().nextSequence).toBe(2 + appends + writer.partitionStats()[p]!.batches);
    }
  });

  it('refuses a record whose entities live in different partitions', async () => {
    const { writer } = await ledger([0, 1, 2].map((p) => new MemoryPartitionLog(p)));
    const a = 'product-1';
    const b = ['product-2', 'product-3', 'product-4', 'product-5'].find((id) => partitionOf(id, 3) !== partitionOf(a, 3))!;
    await expect(writer.append({ ...good, entityIds: [a, b] })).rejects.toThrow(/map to 2 different partitions/);
  });
});

describe('LedgerWriter refuses, before queueing, what could not become a verifiable record', () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['a payload that is an array', { payload: [1, 2] }, /payload must be a JSON object/],
    ['an actor that is not a string', { actor: ['x'] }, /actor must be 1 to 200 characters/],
    ['an eventId that is not a string', { eventId: [good.eventId] }, /eventId must be a lowercase UUID/],
    ['no entities', { entityIds: [] }, /at least one entity/],
    ['entityIds that are not an array', { entityIds: 'product-1' }, /at least one entity/],
    ['an entity named twice', { entityIds: ['a', 'a'] }, /appears twice/],
    ['an occurredAt without offset', { occurredAt: '2026-11-26T08:00:00' }, /occurredAt must be an RFC 3339 time with offset/],
    ['an event type of the ledger itself', { eventType: 'ledger.checkpoint' }, /reserved for the ledger/],
    [
      'a payload nested one level too deep inside the record, named at its pointer',
      { payload: nested(64) },
      /^\/payload(\/v){64}: nested deeper than 64 levels/,
    ],
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point
    ['a sparse array', { payload: { list: [1, , 3] } }, /undefined is not a JSON value/],
    ['a lone surrogate in the actor', { actor: 'x\ud800' }, /lone UTF-16 surrogate/],
    ['a payload over the size limit', { payload: { text: 'x'.repeat(2000) } }, /at most 1024 are allowed/],
  ];

  it.each(bad)('refuses %s', async (_, change, reason) => {
    const { writer, log } = await ledger();
    const before = log.entries.length;
    const attempt = writer.append({ ...good, ...change });
    await expect(attempt).rejects.toBeInstanceOf(AppendRejectedError);
    await expect(writer.append({ ...good, ...change })).rejects.toThrow(reason);
    expect(log.entries).toHaveLength(before);
  });

  it('lets the good requests of the same moment through, and the partition still verifies', async () => {
    const { writer, log } = await ledger();
    const results = await Promise.allSettled([
      writer.append({ ...good, eventId: '00000000-0000-4000-8000-000000000002' }),
      writer.append({ ...good, payload: nested(64) as AppendRequest['payload'] }),
      writer.append({ ...good, eventId: '00000000-0000-4000-8000-000000000003' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const verifier = new ChainVerifier({
      ledgerId: 'unit',
      partition: 0,
      verifier: new CheckpointVerifier(signer.keyName, signer.publicKey),
    });
    for (const entry of log.values()) expect('break' in verifier.push(entry.offset, entry.value)).toBe(false);
    expect(verifier.end()).toBeNull();
  });
});

describe('LedgerWriter placed by partition (several instances: src/cluster/writer-placement.ts)', () => {
  /** A writer over two in-memory partitions, none started. */
  function unstarted(logs: MemoryPartitionLog[]) {
    return new LedgerWriter({
      ledgerId: 'unit',
      partitions: logs.length,
      signer,
      pins: new MemoryGenesisPins(),
      clock: steppingClock(),
      maxBatch: 100,
      maxPayloadBytes: 1024,
      openPartition: (p) => logs[p]!,
      reclaimWhenFenced: false,
    });
  }
  const ids = ['product-1', 'product-2', 'product-3', 'product-4', 'product-5', 'product-6'];
  const inPartition = (p: number) => ids.find((id) => partitionOf(id, 2) === p)!;
  let n = 0;
  const request = (entity: string): AppendRequest => ({
    ...good,
    eventId: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    entityIds: [entity],
  });

  it('writes only the partitions it took, and says where the others are written', async () => {
    const logs = [0, 1].map((p) => new MemoryPartitionLog(p));
    const writer = unstarted(logs);
    await expect(writer.append(request(inPartition(1)))).rejects.toBeInstanceOf(NotTheWriterError);
    await writer.take(1);
    expect(writer.held()).toEqual([1]);
    expect(writer.describe().map((status) => status.state)).toEqual(['elsewhere', 'open']);
    expect(writer.heads()[0]).toBeNull();
    expect((await writer.append(request(inPartition(1)))).partition).toBe(1);
    const refused = await writer.append(request(inPartition(0))).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NotTheWriterError);
    expect((refused as NotTheWriterError).partition).toBe(0);
    // Nothing went to the partition it does not write.
    expect(logs[0]!.values()).toHaveLength(0);
    await writer.close();
  });

  it('hands a released partition over: the next writer continues the same chain', async () => {
    const logs = [0, 1].map((p) => new MemoryPartitionLog(p));
    const first = unstarted(logs);
    await first.take(0);
    const before = await first.append(request(inPartition(0)));
    await first.release(0);
    expect(first.held()).toEqual([]);
    await expect(first.append(request(inPartition(0)))).rejects.toBeInstanceOf(NotTheWriterError);
    const next = unstarted(logs);
    const head = await next.take(0);
    expect(head?.nextSequence).toBeGreaterThan(before.sequence);
    const after = await next.append(request(inPartition(0)));
    expect(after.sequence).toBeGreaterThan(before.sequence);
    const verifier = new ChainVerifier({
      ledgerId: 'unit',
      partition: 0,
      verifier: new CheckpointVerifier(signer.keyName, signer.publicKey),
    });
    for (const entry of logs[0]!.values()) expect('break' in verifier.push(entry.offset, entry.value)).toBe(false);
    expect(verifier.head().nextSequence).toBe(after.sequence + 2);
    await next.close();
  });

  it('answers a retried request from the partitions it writes while another of its writers is still starting', async () => {
    let opened: () => void = () => undefined;
    class SlowToOpen extends MemoryPartitionLog {
      override open(): Promise<void> {
        return new Promise<void>((resolve) => (opened = resolve)).then(() => super.open());
      }
    }
    const logs = [new MemoryPartitionLog(0), new SlowToOpen(1)];
    const writer = unstarted(logs);
    await writer.take(0);
    const digested = { ...request(inPartition(0)), payload: { ok: true, requestDigest: 'd'.repeat(64) } };
    const receipt = await writer.append(digested);
    const starting = writer.take(1);
    // Partition 1's writer has no state yet: it is passed over, not an error for every retry.
    expect(await writer.recorded([digested.eventId], 'd'.repeat(64))).toEqual([receipt]);
    expect(await writer.recorded(['00000000-0000-4000-8000-999999999999'], 'd'.repeat(64))).toBeUndefined();
    opened();
    await starting;
    await writer.close();
  });

  it('does not hold a partition whose writer did not start, and takes it when asked again', async () => {
    class FailingOnce extends MemoryPartitionLog {
      private failed = false;
      override open(): Promise<void> {
        if (this.failed) return super.open();
        this.failed = true;
        return Promise.reject(new Error('broker unreachable'));
      }
    }
    const logs = [new FailingOnce(0), new MemoryPartitionLog(1)];
    const writer = unstarted(logs);
    await expect(writer.take(0)).rejects.toThrow('broker unreachable');
    expect(writer.held()).toEqual([]);
    await writer.take(0);
    expect(writer.held()).toEqual([0]);
    expect((await writer.append(request(inPartition(0)))).partition).toBe(0);
    await writer.close();
  });
});

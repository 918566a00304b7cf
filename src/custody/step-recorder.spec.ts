import { describe, expect, it } from '@jest/globals';
import { MemoryGenesisPins, MemoryPartitionLog, steppingClock } from '../../test/support/memory-ledger.js';
import { CheckpointSigner } from '../ledger/checkpoint-note.js';
import { LedgerWriter } from '../ledger/ledger-writer.js';
import { UUID } from '../ledger/record-codec.js';
import { RuleViolation } from './custody-decider.js';
import { custodyStateModel } from './custody-state.js';
import { idempotentEventId, requestDigest, StepRecorder, type StepToRecord } from './step-recorder.js';

const MAKER = '4012345000009';
const SITE = '4012345000016';
const P1 = '/01/09506000134352/21/A';
const PALLET = '/00/106141411234567897';
const at = '2026-11-26T08:00:00Z';

async function recorder(): Promise<{ recorder: StepRecorder; log: MemoryPartitionLog }> {
  const log = new MemoryPartitionLog();
  const writer = new LedgerWriter({
    ledgerId: 'unit',
    partitions: 1,
    signer: new CheckpointSigner('custodian/unit', new Uint8Array(32).fill(3)),
    pins: new MemoryGenesisPins(),
    clock: steppingClock(),
    maxBatch: 100,
    maxPayloadBytes: 4096,
    openPartition: () => log,
    stateModel: custodyStateModel,
  });
  await writer.start();
  let n = 0;
  const newEventId = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  return { recorder: new StepRecorder(writer, { occurredAtSkewMs: 60_000, clock: steppingClock(), newEventId }), log };
}

const step = (command: StepToRecord['command'], pointer = ''): StepToRecord => ({ command, occurredAt: at, pointer });
const commissionP1 = step({ type: 'commission', product: P1, owner: MAKER, location: SITE, details: { name: 'x' } });

describe('StepRecorder', () => {
  it('derives the same UUID (version 8) for the same caller, key and step, and another for any other', () => {
    const id = idempotentEventId('maker', 'key-1', 0);
    expect(id).toMatch(UUID);
    expect(id[14]).toBe('8');
    expect(idempotentEventId('maker', 'key-1', 0)).toBe(id);
    expect(
      new Set([
        id,
        idempotentEventId('maker', 'key-1', 1),
        idempotentEventId('maker', 'key-2', 0),
        idempotentEventId('other', 'key-1', 0),
      ]).size,
    ).toBe(4);
  });

  it('digests a request canonically, whatever the order of its members', () => {
    expect(requestDigest({ method: 'POST', path: '/p', body: { a: 1, b: [2] } })).toBe(
      requestDigest({ path: '/p', body: { b: [2], a: 1 }, method: 'POST' }),
    );
    expect(requestDigest({ method: 'POST', path: '/p', body: { a: 1 } })).not.toBe(
      requestDigest({ method: 'POST', path: '/q', body: { a: 1 } }),
    );
  });

  it('decides each step of a batch against the state the steps before it leave', async () => {
    const { recorder: r } = await recorder();
    const recorded = await r.record(
      [
        step(
          { type: 'create-shipment', shipment: PALLET, owner: MAKER, location: SITE, destination: SITE, consignee: MAKER },
          '/steps/0',
        ),
        commissionP1,
        step({ type: 'pack', shipment: PALLET, products: [P1], party: MAKER, location: SITE }, '/steps/2'),
      ],
      'maker',
    );
    expect(recorded.map((s) => [s.eventType, s.subject])).toEqual([
      ['shipment.created', PALLET],
      ['product.commissioned', P1],
      ['shipment.packed', PALLET],
    ]);
  });

  it('names the step of a batch that breaks a rule, and records none of it', async () => {
    const { recorder: r, log } = await recorder();
    const size = log.entries.length;
    const refusal = r.record(
      [commissionP1, step({ type: 'dispatch', shipment: PALLET, party: MAKER, location: SITE }, '/steps/1')],
      'maker',
    );
    await expect(refusal).rejects.toThrow(RuleViolation);
    await expect(refusal).rejects.toThrow(/^steps 1: \/00\/106141411234567897 is not in the ledger/);
    expect(log.entries).toHaveLength(size);
  });

  it('refuses a step that happened further in the future than the skew allows', async () => {
    const { recorder: r } = await recorder();
    const future = { ...commissionP1, occurredAt: '2026-11-26T08:05:00Z' };
    await expect(r.record([future], 'maker')).rejects.toMatchObject({ rule: 'occurred-in-future' });
  });
});

import { describe, expect, it } from '@jest/globals';
import { MemoryGenesisPins, MemoryPartitionLog, steppingClock } from '../../test/support/memory-ledger.js';
import { CheckpointSigner } from '../ledger/checkpoint-note.js';
import type { LedgerRecord } from '../ledger/ledger-record.js';
import { LedgerWriter } from '../ledger/ledger-writer.js';
import { decidedAppend } from './step-recorder.js';
import {
  checkOccurredAt,
  type CustodyCommand,
  decide,
  MAX_SHIPMENT_CONTENTS,
  type RuleName,
  RuleViolation,
} from './custody-decider.js';
import { custodyStateModel } from './custody-state.js';

const MAKER = '9506000134376';
const CARRIER = '9506000134383';
const SHOP = '9506000134390';
const P1 = '/01/09506000134352/21/SN-1';
const P2 = '/01/09506000134352/21/SN-2';
const PALLET = '/00/106141411234567897';
const OTHER_PALLET = '/00/106141411234567880';

/** Given the commands (each decided, then folded as the writer folds records), a state lookup. */
function given(...commands: CustodyCommand[]): (id: string) => unknown {
  const states = new Map<string, unknown>();
  const stateOf = (id: string) => states.get(id);
  for (const command of commands) {
    const decision = decide(command, stateOf);
    const record = {
      eventType: decision.eventType,
      entities: decision.entityIds.map((id) => ({ id, previousHash: null })),
      payload: decision.payload,
      actor: 'test',
    };
    for (const id of decision.entityIds)
      states.set(id, custodyStateModel.evolve(states.get(id), record as unknown as LedgerRecord, id));
  }
  return stateOf;
}

function refused(command: CustodyCommand, stateOf: (id: string) => unknown): RuleName {
  try {
    decide(command, stateOf);
  } catch (error) {
    if (error instanceof RuleViolation) return error.rule;
    throw error;
  }
  throw new Error('the command was not refused');
}

const commission = (product: string, owner = MAKER): CustodyCommand => ({
  type: 'commission',
  product,
  owner,
  location: MAKER,
  details: { name: 'Milk 1 l' },
});
const createPallet = (shipment = PALLET): CustodyCommand => ({
  type: 'create-shipment',
  shipment,
  owner: MAKER,
  location: MAKER,
  destination: SHOP,
  consignee: SHOP,
});
const pack = (product: string, shipment = PALLET, party = MAKER): CustodyCommand => ({
  type: 'pack',
  shipment,
  products: [product],
  party,
  location: MAKER,
});
const dispatch: CustodyCommand = { type: 'dispatch', shipment: PALLET, party: MAKER, location: MAKER };
const receive: CustodyCommand = { type: 'receive', shipment: PALLET, by: SHOP, location: SHOP };

describe('custody decider', () => {
  it('lets a party observe what it holds and what is not in the ledger yet, changing nothing, and nothing another holds', () => {
    const stateOf = given(commission(P1), commission(P2, SHOP));
    const observe = (party: string, entities: string[]): CustodyCommand => ({ type: 'observe', party, entities });
    const seen = decide(observe(MAKER, [P1, '/01/09506000134352/21/NOT-YET']), stateOf);
    expect(seen).toEqual({
      eventType: 'epcis.observed',
      entityIds: [P1, '/01/09506000134352/21/NOT-YET'],
      payload: { party: MAKER },
    });
    const after = given(commission(P1), commission(P2, SHOP), observe(MAKER, [P1]));
    expect(after(P1)).toEqual(stateOf(P1));
    expect(refused(observe(MAKER, [P1, P2]), stateOf)).toBe('not-holder');
    expect(refused(observe(SHOP, [P1]), stateOf)).toBe('not-holder');
  });

  it('commissions, packs, dispatches and receives, and the products follow their pallet', () => {
    const stateOf = given(commission(P1), commission(P2), createPallet(), pack(P1), pack(P2), dispatch, receive);
    expect(stateOf(PALLET)).toMatchObject({ kind: 'shipment', status: 'open', holder: SHOP, contents: [P1, P2] });
    expect(stateOf(P1)).toMatchObject({ kind: 'product', holder: SHOP, location: SHOP, shipment: PALLET });
  });

  it('names every product of a shipment in a step on it', () => {
    const stateOf = given(commission(P1), commission(P2), createPallet(), pack(P1), pack(P2));
    expect(decide(dispatch, stateOf).entityIds).toEqual([PALLET, P1, P2]);
    expect(decide({ type: 'handover', subject: PALLET, from: MAKER, to: CARRIER, location: MAKER }, stateOf).entityIds).toEqual([
      PALLET,
      P1,
      P2,
    ]);
  });

  it('refuses a step on an unknown or decommissioned entity', () => {
    expect(refused({ type: 'handover', subject: P1, from: MAKER, to: CARRIER, location: MAKER }, given())).toBe('unknown-entity');
    const gone = given(commission(P1), { type: 'decommission', product: P1, party: MAKER, location: MAKER, reason: 'recalled' });
    expect(refused({ type: 'handover', subject: P1, from: MAKER, to: CARRIER, location: MAKER }, gone)).toBe('decommissioned');
  });

  it('refuses commissioning twice', () => {
    expect(refused(commission(P1), given(commission(P1)))).toBe('already-exists');
  });

  it('refuses a handover by a party that does not hold the product', () => {
    expect(refused({ type: 'handover', subject: P1, from: CARRIER, to: SHOP, location: MAKER }, given(commission(P1)))).toBe(
      'not-holder',
    );
  });

  it('refuses a receive before dispatch', () => {
    expect(refused(receive, given(createPallet()))).toBe('receive-before-dispatch');
  });

  it('refuses a receive by a party the shipment is not for', () => {
    const stolen: CustodyCommand = { type: 'receive', shipment: PALLET, by: CARRIER, location: CARRIER };
    expect(refused(stolen, given(createPallet(), dispatch))).toBe('not-consignee');
  });

  it('refuses packing a product packed elsewhere, or into a shipment in transit', () => {
    expect(refused(pack(P1, OTHER_PALLET), given(commission(P1), createPallet(), createPallet(OTHER_PALLET), pack(P1)))).toBe(
      'packed-elsewhere',
    );
    expect(refused(pack(P2), given(commission(P2), createPallet(), dispatch))).toBe('shipment-in-transit');
  });

  it('packs several products in one aggregation, and unpacks some of them', () => {
    const packBoth: CustodyCommand = { type: 'pack', shipment: PALLET, products: [P1, P2], party: MAKER, location: MAKER };
    const unpackOne: CustodyCommand = { type: 'unpack', shipment: PALLET, products: [P2], party: MAKER, location: MAKER };
    expect(decide(packBoth, given(commission(P1), commission(P2), createPallet())).entityIds).toEqual([PALLET, P1, P2]);
    const stateOf = given(commission(P1), commission(P2), createPallet(), packBoth, unpackOne);
    expect(stateOf(PALLET)).toMatchObject({ contents: [P1] });
    expect(stateOf(P2)).toMatchObject({ shipment: null });
    expect(stateOf(P1)).toMatchObject({ shipment: PALLET });
    expect(refused(unpackOne, stateOf)).toBe('not-inside');
  });

  it('refuses packing more products into a shipment than it may hold', () => {
    const many = Array.from({ length: MAX_SHIPMENT_CONTENTS }, (_, i) => `/01/09506000134352/21/M${i}`);
    const packMany: CustodyCommand = { type: 'pack', shipment: PALLET, products: many, party: MAKER, location: MAKER };
    const full = given(...many.map((id) => commission(id)), commission(P1), createPallet(), packMany);
    expect(refused(pack(P1), full)).toBe('shipment-full');
  });

  it('refuses unpacking a product that is not inside', () => {
    const stateOf = given(commission(P1), createPallet());
    expect(refused({ type: 'unpack', shipment: PALLET, products: [P1], party: MAKER, location: MAKER }, stateOf)).toBe(
      'not-inside',
    );
  });

  it('refuses a step on a product inside a shipment', () => {
    const stateOf = given(commission(P1), createPallet(), pack(P1));
    expect(refused({ type: 'handover', subject: P1, from: MAKER, to: CARRIER, location: MAKER }, stateOf)).toBe(
      'step-on-packed-product',
    );
  });

  it('transforms inputs held by the party into new outputs', () => {
    const out = '/01/09506000134352/10/LOT-7';
    const stateOf = given(commission(P1), commission(P2), {
      type: 'transform',
      party: MAKER,
      location: MAKER,
      inputs: [P1, P2],
      outputs: [out],
    });
    expect(stateOf(P1)).toMatchObject({ status: 'decommissioned' });
    expect(stateOf(out)).toMatchObject({ kind: 'product', status: 'active', holder: MAKER });
    expect(refused({ type: 'transform', party: CARRIER, location: MAKER, inputs: [out], outputs: [P2] }, stateOf)).toBe(
      'not-holder',
    );
  });

  it('consumes a lot with a known quantity by quantity, and uses it up at zero', () => {
    const lot = '/01/09506000134352/10/GREEN-1';
    const out = (n: number) => `/01/09506000134369/21/BAG-${n}`;
    const roast = (n: number, quantity: number, uom = 'KGM'): CustodyCommand => ({
      type: 'transform',
      party: MAKER,
      location: MAKER,
      inputs: [lot],
      outputs: [out(n)],
      quantities: [{ product: lot, quantity, uom }],
    });
    const commissioned: CustodyCommand = {
      type: 'commission',
      product: lot,
      owner: MAKER,
      location: MAKER,
      details: { name: 'Green coffee', quantity: 1000, uom: 'KGM' },
    };
    const after = given(commissioned, roast(1, 600.1), roast(2, 399.8));
    expect(after(lot)).toMatchObject({ status: 'active', quantity: { micros: 100_000, uom: 'KGM' } });
    expect(refused(roast(3, 0.2), after)).toBe('insufficient-quantity');
    expect(refused(roast(3, 0.1, 'LTR'), after)).toBe('unit-mismatch');
    const usedUp = given(commissioned, roast(1, 600.1), roast(2, 399.8), roast(3, 0.1));
    expect(usedUp(lot)).toMatchObject({ status: 'decommissioned', quantity: { micros: 0 } });
    expect(refused(roast(4, 0.1), usedUp)).toBe('decommissioned');
  });

  it('consumes an input whole without a quantity, and keeps a lot of unknown quantity active when a quantity of it is used', () => {
    const lot = '/01/09506000134352/10/GREEN-2';
    const transform = (n: number, quantities?: { product: string; quantity: number; uom?: string }[]): CustodyCommand => ({
      type: 'transform',
      party: MAKER,
      location: MAKER,
      inputs: [lot],
      outputs: [`/01/09506000134369/21/BAG-${n}`],
      ...(quantities ? { quantities } : {}),
    });
    const partly = given(commission(lot), transform(1, [{ product: lot, quantity: 5, uom: 'KGM' }]));
    expect(partly(lot)).toMatchObject({ status: 'active', quantity: null });
    expect(given(commission(lot), transform(1))(lot)).toMatchObject({ status: 'decommissioned' });
  });

  it('names the outputs of a transformation only as entities, so that a record of thousands stays of batch size', () => {
    const lot = '/01/09506000134352/10/GREEN-3';
    const outputs = Array.from({ length: 3000 }, (_, i) => `/01/09506000134369/21/BAG-${i}`);
    const decision = decide({ type: 'transform', party: MAKER, location: MAKER, inputs: [lot], outputs }, given(commission(lot)));
    expect(decision.entityIds).toEqual([lot, ...outputs]);
    expect(decision.payload).toEqual({ party: MAKER, location: MAKER, inputs: [lot] });
    const state = given(commission(lot), { type: 'transform', party: MAKER, location: MAKER, inputs: [lot], outputs });
    expect(state(outputs[2999]!)).toMatchObject({ kind: 'product', status: 'active', holder: MAKER });
  });

  it('refuses an occurredAt too far in the future', () => {
    const now = new Date('2026-11-26T10:00:00Z');
    expect(() => {
      checkOccurredAt('2026-11-26T10:04:00Z', now, 300_000);
    }).not.toThrow();
    expect(() => {
      checkOccurredAt('2026-11-26T10:06:00Z', now, 300_000);
    }).toThrow(RuleViolation);
  });
});

describe('custody commands through the ledger writer', () => {
  async function writer(): Promise<LedgerWriter> {
    const w = new LedgerWriter({
      ledgerId: 'unit',
      partitions: 1,
      signer: new CheckpointSigner('custodian/unit', new Uint8Array(32).fill(8)),
      pins: new MemoryGenesisPins(),
      clock: steppingClock(),
      maxBatch: 100,
      maxPayloadBytes: 4096,
      openPartition: () => new MemoryPartitionLog(),
      stateModel: custodyStateModel,
    });
    await w.start();
    return w;
  }
  const meta = () => ({ eventId: crypto.randomUUID(), occurredAt: '2026-11-26T08:00:00Z', actor: 'operator' });
  const run = async (w: LedgerWriter, command: CustodyCommand) => w.append(await decidedAppend(w, command, meta()));

  it('refuses a step whose shipment contents changed between decision and recording', async () => {
    const w = await writer();
    for (const command of [commission(P1), commission(P2), createPallet(), pack(P1)]) await run(w, command);
    // Decided with the pallet holding P1 only; P2 is packed before the dispatch is recorded.
    const stale = await decidedAppend(w, dispatch, meta());
    const packing = await decidedAppend(w, pack(P2), meta());
    const results = await Promise.allSettled([w.append(packing), w.append(stale)]);
    expect(results[0].status).toBe('fulfilled');
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { rule: 'changed-meanwhile' } });
    expect((await w.statesOf([PALLET])).get(PALLET)).toMatchObject({ status: 'open', contents: [P1, P2] });
  });

  it('lets one of two concurrent packs of one product into two pallets through', async () => {
    const w = await writer();
    for (const command of [commission(P1), createPallet(), createPallet(OTHER_PALLET)]) await run(w, command);
    const results = await Promise.allSettled([run(w, pack(P1)), run(w, pack(P1, OTHER_PALLET))]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { rule: 'packed-elsewhere' } });
  });
});

import { describe, expect, it } from '@jest/globals';
import { fold, recordsOf, step } from '../../../test/support/custody-records.js';
import { foldBatch } from '../../projection/read-model-changes.js';
import { EVENT_TYPE_OF } from '../custody-decider.js';
import type { ShipmentState } from '../entity-state.js';
import { CUSTODY_EVENT_TYPES, eventTypeOf } from './index.js';
import { productStateOf, shipmentColumns } from './row-writes.js';

const MAKER = '9506000134376';
const CARRIER = '9506000134383';
const SHOP = '9506000134390';
const PALLET = '/00/106141411234567897';
const LOT = '/01/09506000134352/10/LOT-7';
const P1 = '/01/09506000134352/21/SN-1';
const P2 = '/01/09506000134352/21/SN-2';
const BAG = '/01/09506000134369/21/BAG-1';

const journey = [
  step('product.commissioned', [LOT], { quantity: 50, uom: 'KGM', owner: MAKER, location: MAKER }),
  step('product.commissioned', [P1], { owner: MAKER, location: MAKER }),
  step('product.commissioned', [P2], { owner: MAKER, location: MAKER }),
  step('custody.transformed', [LOT, BAG], {
    party: MAKER,
    location: MAKER,
    inputs: [LOT],
    quantities: [
      { product: LOT, quantity: 0.25, uom: 'KGM' },
      { product: BAG, quantity: 0.25, uom: 'KGM' },
    ],
  }),
  step('shipment.created', [PALLET], { owner: MAKER, location: MAKER, destination: SHOP, consignee: SHOP }),
  step('shipment.packed', [PALLET, P1, P2, BAG], { party: MAKER, location: MAKER }),
  step('shipment.unpacked', [PALLET, P2], { party: MAKER, location: MAKER }),
  step('shipment.dispatched', [PALLET, P1, BAG], { party: MAKER, location: MAKER, destination: SHOP }),
  step('custody.handover', [PALLET, P1, BAG], { from: MAKER, to: CARRIER, location: CARRIER }),
  step('custody.inspected', [PALLET, P1, BAG], { party: CARRIER, location: CARRIER, result: 'passed' }),
  step('shipment.received', [PALLET, P1, BAG], { by: SHOP, location: SHOP }),
  step('product.decommissioned', [P2], { party: MAKER, location: MAKER, reason: 'destroyed' }),
];

describe('the custody event registry', () => {
  it('defines each event type once, and every event type a command records', () => {
    const types = CUSTODY_EVENT_TYPES.map((definition) => definition.type);

    expect(new Set(types).size).toBe(types.length);
    for (const type of types) expect(eventTypeOf(type)?.type).toBe(type);
    expect(Object.values(EVENT_TYPE_OF).sort()).toEqual([...types].sort());
    expect(eventTypeOf('custody.recalled')).toBeUndefined();
  });

  it('folds the same custody rows without the EPCIS rows when asked to leave them out (as an attestation does)', () => {
    const records = recordsOf(journey);
    const whole = foldBatch(records, { products: new Map(), shipments: new Map() });
    const custodyOnly = foldBatch(records, { products: new Map(), shipments: new Map() }, { epcis: false });

    expect(whole.epcisEvents.length).toBe(journey.length);
    expect(whole.epcisIdentifiers.length).toBeGreaterThan(journey.length);
    expect(custodyOnly.epcisEvents).toEqual([]);
    expect(custodyOnly.epcisIdentifiers).toEqual([]);
    expect({ ...custodyOnly, epcisEvents: whole.epcisEvents, epcisIdentifiers: whole.epcisIdentifiers }).toEqual(whole);
  });

  it('holds in every products and shipments row the custody state the writer decides the rules against', () => {
    const { state, changes } = fold([], journey);

    expect([...changes.products.keys()].sort()).toEqual([BAG, LOT, P1, P2].sort());
    for (const [id, row] of changes.products) expect(productStateOf(row)).toEqual(state(id));
    const pallet = shipmentColumns(state(PALLET) as ShipmentState);
    expect(state(PALLET)).toEqual({ kind: 'shipment', contents: [P1, BAG], ...pallet });
    expect(changes.shipments.get(PALLET)).toMatchObject(pallet);
    expect(state(LOT)).toMatchObject({ quantity: { micros: 49_750_000, uom: 'KGM' } });
  });

  it('folds a record of an event type it does not know to no change of state: the rows it names only stand at it', () => {
    const before = fold(journey, []);
    const { state, changes } = fold(journey, [step('custody.recalled', [PALLET, P1], { party: SHOP, to: CARRIER })]);

    for (const id of [PALLET, P1]) expect(state(id)).toEqual(before.state(id));
    expect(changes.shipments.get(PALLET)).toMatchObject({ holder: SHOP, last_sequence: journey.length + 1 });
    expect(changes.products.get(P1)).toMatchObject({ holder: SHOP, last_sequence: journey.length + 1 });
    expect(changes.history.map((row) => [row.entity_id, row.via, row.parties])).toEqual([
      [PALLET, null, [SHOP, CARRIER]],
      [P1, PALLET, [SHOP, CARRIER]],
    ]);
  });
});

import { describe, expect, it } from '@jest/globals';
import { fold, step } from '../../../test/support/custody-records.js';

const MAKER = '9506000134376';
const CARRIER = '9506000134383';
const SHOP = '9506000134390';
const PALLET = '/00/106141411234567897';
const P1 = '/01/09506000134352/21/SN-1';
const P2 = '/01/09506000134352/21/SN-2';

const given = [
  step('product.commissioned', [P1], { owner: MAKER, location: MAKER }),
  step('product.commissioned', [P2], { owner: MAKER, location: MAKER }),
  step('shipment.created', [PALLET], { owner: MAKER, location: MAKER, destination: SHOP, consignee: SHOP }),
  step('shipment.packed', [PALLET, P1], { party: MAKER, location: MAKER }),
  step('shipment.dispatched', [PALLET, P1], { party: MAKER, location: MAKER, destination: SHOP }),
];

describe('custody.handover', () => {
  it('passes a product to its new holder, where it is handed over', () => {
    const { state, changes } = fold(given, [step('custody.handover', [P2], { from: MAKER, to: CARRIER, location: SHOP })]);

    expect(state(P2)).toMatchObject({ holder: CARRIER, location: SHOP, status: 'active' });
    expect(changes.products.get(P2)).toMatchObject({ holder: CARRIER, location: SHOP, last_sequence: 6 });
    expect(changes.shipments.size).toBe(0);
  });

  it('passes a shipment in transit and what it holds, and leaves it in transit', () => {
    const { state, changes } = fold(given, [
      step('custody.handover', [PALLET, P1], { from: MAKER, to: CARRIER, location: CARRIER }),
    ]);

    expect(state(PALLET)).toMatchObject({ holder: CARRIER, location: CARRIER, status: 'in-transit' });
    expect(state(P1)).toMatchObject({ holder: CARRIER, location: CARRIER, shipment: PALLET });
    expect(changes.shipments.get(PALLET)).toMatchObject({ holder: CARRIER, status: 'in-transit', last_sequence: 6 });
    expect(changes.products.get(P1)).toMatchObject({ holder: CARRIER, location: CARRIER });
  });
});

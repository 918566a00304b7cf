import { describe, expect, it } from '@jest/globals';
import { fold, step } from '../../../test/support/custody-records.js';

const MAKER = '9506000134376';
const SHOP = '9506000134390';
const PALLET = '/00/106141411234567897';
const P1 = '/01/09506000134352/21/SN-1';

describe('shipment.dispatched', () => {
  it('sends the shipment on its way; the products in it change nothing but stand at the dispatch', () => {
    const { state, changes } = fold(
      [
        step('product.commissioned', [P1], { owner: MAKER, location: MAKER }),
        step('shipment.created', [PALLET], { owner: MAKER, location: MAKER, destination: SHOP, consignee: SHOP }),
        step('shipment.packed', [PALLET, P1], { party: MAKER, location: MAKER }),
      ],
      [step('shipment.dispatched', [PALLET, P1], { party: MAKER, location: MAKER, destination: SHOP })],
    );

    expect(state(PALLET)).toMatchObject({ status: 'in-transit', holder: MAKER, contents: [P1] });
    expect(state(P1)).toMatchObject({ status: 'active', holder: MAKER, shipment: PALLET });
    expect(changes.shipments.get(PALLET)).toMatchObject({ status: 'in-transit', holder: MAKER, last_sequence: 4 });
    expect(changes.products.get(P1)).toMatchObject({ holder: MAKER, location: MAKER, shipment: PALLET, last_sequence: 4 });
  });
});

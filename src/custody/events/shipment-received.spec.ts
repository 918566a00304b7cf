import { describe, expect, it } from '@jest/globals';
import { fold, step } from '../../../test/support/custody-records.js';

const MAKER = '9506000134376';
const SHOP = '9506000134390';
const PALLET = '/00/106141411234567897';
const P1 = '/01/09506000134352/21/SN-1';

describe('shipment.received', () => {
  it('gives the consignee the shipment and the products in it, at its site, and opens the shipment again', () => {
    const { state, changes } = fold(
      [
        step('product.commissioned', [P1], { owner: MAKER, location: MAKER }),
        step('shipment.created', [PALLET], { owner: MAKER, location: MAKER, destination: SHOP, consignee: SHOP }),
        step('shipment.packed', [PALLET, P1], { party: MAKER, location: MAKER }),
        step('shipment.dispatched', [PALLET, P1], { party: MAKER, location: MAKER, destination: SHOP }),
      ],
      [step('shipment.received', [PALLET, P1], { by: SHOP, location: SHOP })],
    );

    expect(state(PALLET)).toMatchObject({ status: 'open', holder: SHOP, location: SHOP });
    expect(state(P1)).toMatchObject({ holder: SHOP, location: SHOP, shipment: PALLET });
    expect(changes.shipments.get(PALLET)).toMatchObject({ status: 'open', holder: SHOP, location: SHOP, last_sequence: 5 });
    expect(changes.products.get(P1)).toMatchObject({ holder: SHOP, location: SHOP, shipment: PALLET, last_sequence: 5 });
  });
});

import { describe, expect, it } from '@jest/globals';
import { fold, occurredAt, step } from '../../../test/support/custody-records.js';

const MAKER = '9506000134376';
const SHOP = '9506000134390';
const PALLET = '/00/106141411234567897';
const P1 = '/01/09506000134352/21/SN-1';
const P2 = '/01/09506000134352/21/SN-2';

const given = [
  step('product.commissioned', [P1], { owner: MAKER, location: MAKER }),
  step('product.commissioned', [P2], { owner: MAKER, location: MAKER }),
  step('shipment.created', [PALLET], { owner: MAKER, location: MAKER, destination: SHOP, consignee: SHOP }),
];

describe('shipment.packed', () => {
  it('puts the products named after the shipment into it, from this record on', () => {
    const { state, changes } = fold(given, [step('shipment.packed', [PALLET, P1, P2], { party: MAKER, location: MAKER })]);

    expect(state(PALLET)).toMatchObject({ contents: [P1, P2], status: 'open' });
    expect(state(P1)).toMatchObject({ shipment: PALLET });
    expect(changes.products.get(P2)).toMatchObject({ shipment: PALLET, last_sequence: 4 });
    expect(changes.shipments.get(PALLET)).toMatchObject({ status: 'open', last_sequence: 4 });
    expect(changes.packings).toEqual(
      [P1, P2].map((product) => ({
        shipment_id: PALLET,
        product_id: product,
        packed_sequence: 4,
        packed_at: occurredAt(4),
        unpacked_sequence: null,
        unpacked_at: null,
        partition: 0,
      })),
    );
  });
});

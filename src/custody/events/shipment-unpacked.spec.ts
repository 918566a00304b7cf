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
const pack = step('shipment.packed', [PALLET, P1, P2], { party: MAKER, location: MAKER });
const unpack = step('shipment.unpacked', [PALLET, P1], { party: MAKER, location: MAKER });

describe('shipment.unpacked', () => {
  it('takes the products named out of the shipment, and closes their packing of an earlier batch', () => {
    const { state, changes } = fold([...given, pack], [unpack]);

    expect(state(PALLET)).toMatchObject({ contents: [P2] });
    expect(state(P1)).toMatchObject({ shipment: null });
    expect(changes.products.get(P1)).toMatchObject({ shipment: null, last_sequence: 5 });
    expect(changes.products.has(P2)).toBe(false);
    expect(changes.closings).toEqual([{ shipment_id: PALLET, product_id: P1, unpacked_sequence: 5, unpacked_at: occurredAt(5) }]);
    expect(changes.packings).toEqual([]);
  });

  it('closes a packing of the same batch in place, and a packing again stays open', () => {
    const { changes } = fold(given, [pack, unpack, step('shipment.packed', [PALLET, P1], { party: MAKER, location: MAKER })]);

    expect(changes.closings).toEqual([]);
    expect(changes.packings.filter((row) => row.product_id === P1)).toMatchObject([
      { packed_sequence: 4, unpacked_sequence: 5, unpacked_at: occurredAt(5) },
      { packed_sequence: 6, unpacked_sequence: null, unpacked_at: null },
    ]);
    expect(changes.products.get(P1)).toMatchObject({ shipment: PALLET });
  });
});

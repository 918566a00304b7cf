import { describe, expect, it } from '@jest/globals';
import { fold, recordsOf, step } from '../../../test/support/custody-records.js';
import { custodyInspected } from './custody-inspected.js';

const MAKER = '9506000134376';
const LAB = '9506000134383';
const SHOP = '9506000134390';
const PALLET = '/00/106141411234567897';
const P1 = '/01/09506000134352/21/SN-1';

describe('custody.inspected', () => {
  const given = [
    step('product.commissioned', [P1], { owner: MAKER, location: MAKER }),
    step('shipment.created', [PALLET], { owner: MAKER, location: MAKER, destination: SHOP, consignee: SHOP }),
    step('shipment.packed', [PALLET, P1], { party: MAKER, location: MAKER }),
  ];
  const inspected = step('custody.inspected', [PALLET, P1], {
    party: LAB,
    location: MAKER,
    result: 'failed',
    note: 'seal broken',
  });

  it('changes no custody state: the rows it names only stand at it', () => {
    const before = fold(given, []);
    const { state, changes } = fold(given, [inspected]);

    for (const id of [PALLET, P1]) expect(state(id)).toEqual(before.state(id));
    expect(changes.shipments.get(PALLET)).toMatchObject({ holder: MAKER, status: 'open', last_sequence: 4 });
    expect(changes.products.get(P1)).toMatchObject({ holder: MAKER, shipment: PALLET, last_sequence: 4 });
  });

  it('reads its finding', () => {
    const [stored] = recordsOf([inspected]);

    expect(custodyInspected.payloadOf(stored!.record)).toEqual({
      party: LAB,
      location: MAKER,
      result: 'failed',
      note: 'seal broken',
    });
  });
});

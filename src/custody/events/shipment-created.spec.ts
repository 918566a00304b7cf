import { describe, expect, it } from '@jest/globals';
import { fold, occurredAt, step } from '../../../test/support/custody-records.js';

const MAKER = '9506000134376';
const SHOP = '9506000134390';
const PALLET = '/00/106141411234567897';

describe('shipment.created', () => {
  it('makes an open, empty shipment at its origin, bound for its destination and consignee', () => {
    const { state, changes } = fold(
      [],
      [step('shipment.created', [PALLET], { owner: MAKER, location: MAKER, destination: SHOP, consignee: SHOP })],
    );

    expect(state(PALLET)).toEqual({
      kind: 'shipment',
      status: 'open',
      holder: MAKER,
      location: MAKER,
      destination: SHOP,
      consignee: SHOP,
      contents: [],
    });
    expect(changes.shipments.get(PALLET)).toEqual({
      id: PALLET,
      sscc: '106141411234567897',
      owner: MAKER,
      origin: MAKER,
      destination: SHOP,
      consignee: SHOP,
      created_at: occurredAt(1),
      status: 'open',
      holder: MAKER,
      location: MAKER,
      partition: 0,
      last_sequence: 1,
    });
  });
});

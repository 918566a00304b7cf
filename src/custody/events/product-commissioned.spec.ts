import { describe, expect, it } from '@jest/globals';
import { fold, occurredAt, recordsOf, step } from '../../../test/support/custody-records.js';
import { productCommissioned } from './product-commissioned.js';

const MAKER = '9506000134376';
const PLANT = '9506000134383';
const LOT = '/01/09506000134352/10/LOT-7';
const ITEM = '/01/09506000134352/21/SN-1';

describe('product.commissioned', () => {
  it('brings a lot into the ledger, held by its owner where it was made, with its quantity', () => {
    const { state, changes } = fold(
      [],
      [
        step('product.commissioned', [LOT], {
          lot: 'LOT-7',
          name: 'Green coffee',
          quantity: 20000,
          uom: 'KGM',
          owner: MAKER,
          location: PLANT,
        }),
      ],
    );

    expect(state(LOT)).toEqual({
      kind: 'product',
      status: 'active',
      holder: MAKER,
      location: PLANT,
      shipment: null,
      quantity: { micros: 20_000_000_000, uom: 'KGM' },
    });
    expect(changes.products.get(LOT)).toEqual({
      id: LOT,
      gtin: '09506000134352',
      serial: null,
      lot: 'LOT-7',
      name: 'Green coffee',
      attributes: null,
      owner: MAKER,
      origin: PLANT,
      commissioned_at: occurredAt(1),
      status: 'active',
      reason: null,
      holder: MAKER,
      location: PLANT,
      shipment: null,
      partition: 0,
      last_sequence: 1,
      quantity: 20000,
      uom: 'KGM',
    });
  });

  it('takes the GS1 keys from the product path when the payload does not give them', () => {
    const { changes } = fold(
      [],
      [step('product.commissioned', [ITEM], { owner: MAKER, location: PLANT, attributes: { colour: 'red' } })],
    );

    expect(changes.products.get(ITEM)).toMatchObject({
      gtin: '09506000134352',
      serial: 'SN-1',
      lot: null,
      name: null,
      attributes: { colour: 'red' },
      quantity: null,
      uom: null,
    });
  });

  it('tracks no quantity the rules cannot keep exactly, while the row shows it as recorded', () => {
    const { state, changes } = fold([], [step('product.commissioned', [LOT], { quantity: 1.0000001, uom: 'KGM', owner: MAKER })]);

    expect(state(LOT)).toMatchObject({ quantity: null });
    expect(changes.products.get(LOT)).toMatchObject({ quantity: 1.0000001, uom: 'KGM' });
  });

  it('reads a payload member that is missing or not text as empty', () => {
    const [stored] = recordsOf([step('product.commissioned', [ITEM], { owner: 7, uom: 'KGM' })]);

    expect(productCommissioned.payloadOf(stored!.record)).toEqual({
      gtin: '',
      serial: '',
      lot: '',
      name: '',
      attributes: null,
      quantity: null,
      uom: null,
      owner: '',
      location: '',
    });
  });
});

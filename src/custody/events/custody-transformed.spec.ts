import { describe, expect, it } from '@jest/globals';
import { fold, occurredAt, recordsOf, step } from '../../../test/support/custody-records.js';
import { custodyTransformed } from './custody-transformed.js';

const ROASTER = '9506000134376';
const PLANT = '9506000134383';
const GREEN = '/01/09506000134352/10/LOT-7';
const ITEM = '/01/09506000134352/21/SN-1';
const ROASTED = '/01/09506000134369/10/LOT-7A';
const BAG = '/01/09506000134369/21/BAG-1';

const greenLot = step('product.commissioned', [GREEN], {
  lot: 'LOT-7',
  quantity: 20000,
  uom: 'KGM',
  owner: ROASTER,
  location: PLANT,
});
const item = step('product.commissioned', [ITEM], { owner: ROASTER, location: PLANT });
const roast = (quantities: { product: string; quantity: number; uom?: string }[], inputs = [GREEN], outputs = [ROASTED]) =>
  step('custody.transformed', [...inputs, ...outputs], { party: ROASTER, location: PLANT, inputs, quantities });

describe('custody.transformed', () => {
  it('takes a quantity of a lot, which stays active with what is left, and makes an output with its own', () => {
    const { state, changes } = fold(
      [greenLot],
      [
        roast([
          { product: GREEN, quantity: 120.5, uom: 'KGM' },
          { product: ROASTED, quantity: 100, uom: 'KGM' },
        ]),
      ],
    );

    expect(state(GREEN)).toMatchObject({ status: 'active', quantity: { micros: 19_879_500_000, uom: 'KGM' } });
    expect(changes.products.get(GREEN)).toMatchObject({
      status: 'active',
      reason: null,
      quantity: 19879.5,
      uom: 'KGM',
      last_sequence: 2,
    });
    expect(state(ROASTED)).toEqual({
      kind: 'product',
      status: 'active',
      holder: ROASTER,
      location: PLANT,
      shipment: null,
      quantity: { micros: 100_000_000, uom: 'KGM' },
    });
    expect(changes.products.get(ROASTED)).toEqual({
      id: ROASTED,
      gtin: '09506000134369',
      serial: null,
      lot: 'LOT-7A',
      name: null,
      attributes: null,
      owner: ROASTER,
      origin: PLANT,
      commissioned_at: occurredAt(2),
      status: 'active',
      reason: null,
      holder: ROASTER,
      location: PLANT,
      shipment: null,
      partition: 0,
      last_sequence: 2,
      quantity: 100,
      uom: 'KGM',
    });
    expect(changes.lineage).toEqual([
      { input_id: GREEN, output_id: ROASTED, partition: 0, sequence: 2, occurred_at: occurredAt(2) },
    ]);
  });

  it('uses a lot up when the rest of it is taken: decommissioned, reason transformed, nothing left', () => {
    const { state, changes } = fold([greenLot], [roast([{ product: GREEN, quantity: 20000, uom: 'KGM' }])]);

    expect(state(GREEN)).toMatchObject({ status: 'decommissioned', quantity: { micros: 0, uom: 'KGM' } });
    expect(changes.products.get(GREEN)).toMatchObject({
      status: 'decommissioned',
      reason: 'transformed',
      quantity: 0,
      uom: 'KGM',
    });
    expect(changes.products.get(ROASTED)).toMatchObject({ status: 'active', quantity: null, uom: null });
  });

  it('consumes an input named without a quantity whole, and leaves a product whose quantity is not tracked active', () => {
    const { state, changes } = fold([greenLot, item], [roast([{ product: ITEM, quantity: 1 }], [GREEN, ITEM])]);

    expect(state(GREEN)).toMatchObject({ status: 'decommissioned', quantity: { micros: 20_000_000_000 } });
    expect(changes.products.get(GREEN)).toMatchObject({ status: 'decommissioned', reason: 'transformed', quantity: 20000 });
    expect(state(ITEM)).toMatchObject({ status: 'active', quantity: null });
    expect(changes.products.get(ITEM)).toMatchObject({ status: 'active', reason: null, last_sequence: 3 });
    expect(changes.lineage.map((row) => row.input_id)).toEqual([GREEN, ITEM]);
  });

  it('reads a record written before 2026-12, whose payload still lists its outputs', () => {
    const legacy = step('custody.transformed', [GREEN, ROASTED, BAG], {
      party: ROASTER,
      location: PLANT,
      inputs: [GREEN],
      outputs: [ROASTED, BAG],
      quantities: [{ product: BAG, quantity: 0.25, uom: 'KGM' }],
    });
    const { state, changes } = fold([greenLot], [legacy]);

    expect(custodyTransformed.payloadOf(recordsOf([legacy])[0]!.record)).toMatchObject({
      inputs: [GREEN],
      outputs: [ROASTED, BAG],
    });
    expect(state(GREEN)).toMatchObject({ status: 'decommissioned' });
    expect(state(BAG)).toMatchObject({ status: 'active', holder: ROASTER, quantity: { micros: 250_000, uom: 'KGM' } });
    expect([...changes.products.keys()]).toEqual([GREEN, ROASTED, BAG]);
    expect(changes.products.get(BAG)).toMatchObject({ serial: 'BAG-1', quantity: 0.25, uom: 'KGM' });
    expect(changes.lineage.map((row) => row.output_id)).toEqual([ROASTED, BAG]);
  });

  it('takes the outputs from the payload of a legacy record, not from the entities after the inputs', () => {
    const legacy = step('custody.transformed', [GREEN, ROASTED, BAG], {
      party: ROASTER,
      location: PLANT,
      inputs: [GREEN],
      outputs: [BAG],
    });
    const { state, changes } = fold([greenLot], [legacy]);

    expect(state(ROASTED)).toBeUndefined();
    expect(changes.products.has(ROASTED)).toBe(false);
    expect(changes.lineage).toMatchObject([{ input_id: GREEN, output_id: BAG }]);
  });
});

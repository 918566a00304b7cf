import { describe, expect, it } from '@jest/globals';
import { fold, step } from '../../../test/support/custody-records.js';

const MAKER = '9506000134376';
const ITEM = '/01/09506000134352/21/SN-1';
const commissioned = step('product.commissioned', [ITEM], { owner: MAKER, location: MAKER });

describe('product.decommissioned', () => {
  it('ends a product, with its reason, and keeps who held it last and where', () => {
    const { state, changes } = fold(
      [commissioned],
      [step('product.decommissioned', [ITEM], { party: MAKER, location: MAKER, reason: 'recalled' })],
    );

    expect(state(ITEM)).toMatchObject({ kind: 'product', status: 'decommissioned', holder: MAKER });
    expect(changes.products.get(ITEM)).toMatchObject({
      status: 'decommissioned',
      reason: 'recalled',
      holder: MAKER,
      location: MAKER,
      last_sequence: 2,
    });
  });

  it('makes no row for a product the read models do not hold', () => {
    const { state, changes } = fold([], [step('product.decommissioned', [ITEM], { reason: 'destroyed' })]);

    expect(state(ITEM)).toBeUndefined();
    expect(changes.products.size).toBe(0);
  });
});

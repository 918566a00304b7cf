import type { Quantity } from './quantity.js';

/**
 * What the custody rules need to know about an entity at the ledger head: a fold of its
 * records (docs/rules-and-concurrency.md). Parties and locations are GLNs; entity ids are GS1
 * Digital Link paths (src/gs1/).
 */
export interface ProductState {
  readonly kind: 'product';
  readonly status: 'active' | 'decommissioned';
  readonly holder: string;
  readonly location: string;
  /** The shipment the product is packed in, if any. */
  readonly shipment: string | null;
  /**
   * What is left of a lot whose quantity is known (from its commissioning, or as the output of
   * a transformation); transformations consume it, and it is used up at zero. Null: not tracked.
   */
  readonly quantity: Quantity | null;
}

export interface ShipmentState {
  readonly kind: 'shipment';
  /** open: at a site, products can be packed and unpacked; in-transit: dispatched, not yet received. */
  readonly status: 'open' | 'in-transit';
  readonly holder: string;
  readonly location: string;
  readonly destination: string;
  /** The party the shipment is for: the only one that may receive it. */
  readonly consignee: string;
  readonly contents: readonly string[];
}

export type EntityState = ProductState | ShipmentState;

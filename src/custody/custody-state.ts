import type { EntityStateModel, LedgerRecord } from '../ledger/ledger-record.js';
import { type Quantity, toMicros } from './quantity.js';

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

/** The custody event types, in EPCIS 2.0 / CBV terms where one exists (docs/ledger-format.md). */
export const CUSTODY_EVENTS = {
  commissioned: 'product.commissioned',
  decommissioned: 'product.decommissioned',
  shipmentCreated: 'shipment.created',
  packed: 'shipment.packed',
  unpacked: 'shipment.unpacked',
  dispatched: 'shipment.dispatched',
  received: 'shipment.received',
  handover: 'custody.handover',
  inspected: 'custody.inspected',
  transformed: 'custody.transformed',
} as const;

const text = (record: LedgerRecord, key: string): string => {
  const value = record.payload[key];
  return typeof value === 'string' ? value : '';
};

const list = (record: LedgerRecord, key: string): string[] => {
  const value = record.payload[key];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
};

/** A quantity of the payload: the record's own (commissioning) or its entry for a product in `quantities`. */
function quantityIn(value: unknown): Quantity | null {
  const { quantity, uom } = (value ?? {}) as { quantity?: unknown; uom?: unknown };
  if (typeof quantity !== 'number') return null;
  try {
    return { micros: toMicros(quantity), uom: typeof uom === 'string' ? uom : null };
  } catch {
    return null;
  }
}

/** The quantity a transformation names for one of its products, or null. */
export function transformQuantity(record: LedgerRecord, product: string): Quantity | null {
  const quantities = record.payload.quantities;
  if (!Array.isArray(quantities)) return null;
  return quantityIn(quantities.find((entry) => (entry as { product?: unknown } | null)?.product === product));
}

/**
 * The inputs and outputs of a transformation. The inputs are the first entities (the payload
 * lists them); the outputs are the entities after them. Records written before outputs were
 * left out of the payload list them in `outputs` too.
 */
export function transformParts(record: LedgerRecord): { inputs: string[]; outputs: string[] } {
  const inputs = list(record, 'inputs');
  const outputs = Array.isArray(record.payload.outputs)
    ? list(record, 'outputs')
    : record.entities.slice(inputs.length).map((entity) => entity.id);
  return { inputs, outputs };
}

/**
 * A transformation's input after it: a quantity it names is taken from what is left of the lot
 * (used up at zero); without one, the input is consumed whole. A lot whose quantity is not
 * tracked stays active when a quantity of it is used.
 */
function consumed(state: ProductState, used: Quantity | null): ProductState {
  if (!used) return { ...state, status: 'decommissioned' };
  if (!state.quantity) return state;
  const left = state.quantity.micros - used.micros;
  return left <= 0
    ? { ...state, status: 'decommissioned', quantity: { ...state.quantity, micros: 0 } }
    : { ...state, quantity: { ...state.quantity, micros: left } };
}

function evolve(state: unknown, record: LedgerRecord, entityId: string): unknown {
  const current = state as EntityState | undefined;
  const subject = record.entities[0]?.id;
  switch (record.eventType) {
    case CUSTODY_EVENTS.commissioned:
      return {
        kind: 'product',
        status: 'active',
        holder: text(record, 'owner'),
        location: text(record, 'location'),
        shipment: null,
        quantity: quantityIn(record.payload),
      };
    case CUSTODY_EVENTS.decommissioned:
      return current?.kind === 'product' ? { ...current, status: 'decommissioned' } : current;
    case CUSTODY_EVENTS.shipmentCreated:
      return {
        kind: 'shipment',
        status: 'open',
        holder: text(record, 'owner'),
        location: text(record, 'location'),
        destination: text(record, 'destination'),
        consignee: text(record, 'consignee'),
        contents: [],
      };
    case CUSTODY_EVENTS.packed:
    case CUSTODY_EVENTS.unpacked: {
      // Aggregation (EPCIS AggregationEvent): the shipment first, then the products.
      const packing = record.eventType === CUSTODY_EVENTS.packed;
      const products = record.entities.slice(1).map((entity) => entity.id);
      if (current?.kind === 'shipment' && entityId === subject) {
        return {
          ...current,
          contents: packing ? [...current.contents, ...products] : current.contents.filter((id) => !products.includes(id)),
        };
      }
      return current?.kind === 'product' ? { ...current, shipment: packing ? subject : null } : current;
    }
    case CUSTODY_EVENTS.dispatched:
      return current?.kind === 'shipment' ? { ...current, status: 'in-transit' } : current;
    case CUSTODY_EVENTS.received:
    case CUSTODY_EVENTS.handover: {
      const holder = text(record, record.eventType === CUSTODY_EVENTS.received ? 'by' : 'to');
      const location = text(record, 'location');
      if (current?.kind === 'shipment') {
        return { ...current, holder, location, status: record.eventType === CUSTODY_EVENTS.received ? 'open' : current.status };
      }
      return current ? { ...current, holder, location } : current;
    }
    case CUSTODY_EVENTS.transformed: {
      const { inputs, outputs } = transformParts(record);
      if (inputs.includes(entityId) && current?.kind === 'product') return consumed(current, transformQuantity(record, entityId));
      if (outputs.includes(entityId)) {
        return {
          kind: 'product',
          status: 'active',
          holder: text(record, 'party'),
          location: text(record, 'location'),
          shipment: null,
          quantity: transformQuantity(record, entityId),
        };
      }
      return current;
    }
    default:
      return current;
  }
}

export const custodyStateModel: EntityStateModel = { evolve };

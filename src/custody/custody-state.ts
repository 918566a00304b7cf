import type { EntityStateModel, LedgerRecord } from '../ledger/ledger-record.js';

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
      if (list(record, 'inputs').includes(entityId) && current?.kind === 'product')
        return { ...current, status: 'decommissioned' };
      if (list(record, 'outputs').includes(entityId)) {
        return {
          kind: 'product',
          status: 'active',
          holder: text(record, 'party'),
          location: text(record, 'location'),
          shipment: null,
        };
      }
      return current;
    }
    default:
      return current;
  }
}

export const custodyStateModel: EntityStateModel = { evolve };

import type { LedgerRecord } from '../../ledger/ledger-record.js';
import type { EntityState } from '../entity-state.js';
import type { CustodyEventDefinition } from './custody-event.js';
import { entityIdsOf, subjectOf, text } from './payload-members.js';
import type { ReadModelRows } from './read-model-rows.js';
import { putEvolvedProduct, putEvolvedShipment } from './row-writes.js';

/**
 * shipment.packed (EPCIS AggregationEvent ADD): products go into a shipment. The record names
 * the shipment, then the products.
 */
export interface ShipmentPackedPayload {
  readonly party: string;
  readonly location: string;
}

function payloadOf(record: LedgerRecord): ShipmentPackedPayload {
  return { party: text(record, 'party'), location: text(record, 'location') };
}

function evolve(state: EntityState | undefined, record: LedgerRecord, entityId: string): EntityState | undefined {
  const shipment = subjectOf(record);
  if (state?.kind === 'shipment' && entityId === shipment) {
    return { ...state, contents: [...state.contents, ...entityIdsOf(record).slice(1)] };
  }
  return state?.kind === 'product' ? { ...state, shipment } : state;
}

function project(record: LedgerRecord, rows: ReadModelRows): void {
  const shipment = subjectOf(record);
  putEvolvedShipment(rows, shipment, record, evolve);
  for (const product of entityIdsOf(record).slice(1)) {
    putEvolvedProduct(rows, product, record, evolve);
    rows.packed({
      shipment_id: shipment,
      product_id: product,
      packed_sequence: record.sequence,
      packed_at: record.occurredAt,
      unpacked_sequence: null,
      unpacked_at: null,
      partition: record.partition,
    });
  }
}

export const shipmentPacked: CustodyEventDefinition<ShipmentPackedPayload> = {
  type: 'shipment.packed',
  payloadOf,
  evolve,
  project,
};

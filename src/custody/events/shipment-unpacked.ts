import type { LedgerRecord } from '../../ledger/ledger-record.js';
import type { EntityState } from '../entity-state.js';
import type { CustodyEventDefinition } from './custody-event.js';
import { entityIdsOf, subjectOf, text } from './payload-members.js';
import type { ReadModelRows } from './read-model-rows.js';
import { putEvolvedProduct, putEvolvedShipment } from './row-writes.js';

/**
 * shipment.unpacked (EPCIS AggregationEvent DELETE): products come out of a shipment. The
 * record names the shipment, then the products.
 */
export interface ShipmentUnpackedPayload {
  readonly party: string;
  readonly location: string;
}

function payloadOf(record: LedgerRecord): ShipmentUnpackedPayload {
  return { party: text(record, 'party'), location: text(record, 'location') };
}

function evolve(state: EntityState | undefined, record: LedgerRecord, entityId: string): EntityState | undefined {
  if (state?.kind === 'shipment' && entityId === subjectOf(record)) {
    const products = entityIdsOf(record).slice(1);
    return { ...state, contents: state.contents.filter((id) => !products.includes(id)) };
  }
  return state?.kind === 'product' ? { ...state, shipment: null } : state;
}

function project(record: LedgerRecord, rows: ReadModelRows): void {
  const shipment = subjectOf(record);
  putEvolvedShipment(rows, shipment, record, evolve);
  for (const product of entityIdsOf(record).slice(1)) {
    putEvolvedProduct(rows, product, record, evolve);
    rows.unpacked({
      shipment_id: shipment,
      product_id: product,
      unpacked_sequence: record.sequence,
      unpacked_at: record.occurredAt,
    });
  }
}

export const shipmentUnpacked: CustodyEventDefinition<ShipmentUnpackedPayload> = {
  type: 'shipment.unpacked',
  payloadOf,
  evolve,
  project,
};

import type { LedgerRecord } from '../../ledger/ledger-record.js';
import type { EntityState } from '../entity-state.js';
import type { CustodyEventDefinition } from './custody-event.js';
import { entityIdsOf, subjectOf, text } from './payload-members.js';
import type { ReadModelRows } from './read-model-rows.js';
import { putEvolvedProduct, putEvolvedShipment } from './row-writes.js';

/** shipment.dispatched (bizStep shipping): a shipment leaves, with every product packed in it, and is in transit. */
export interface ShipmentDispatchedPayload {
  readonly party: string;
  readonly location: string;
  readonly destination: string;
}

function payloadOf(record: LedgerRecord): ShipmentDispatchedPayload {
  return { party: text(record, 'party'), location: text(record, 'location'), destination: text(record, 'destination') };
}

function evolve(state: EntityState | undefined): EntityState | undefined {
  return state?.kind === 'shipment' ? { ...state, status: 'in-transit' } : state;
}

/** The shipment's row, then those of the products in it (their state does not change). */
function project(record: LedgerRecord, rows: ReadModelRows): void {
  putEvolvedShipment(rows, subjectOf(record), record, evolve);
  for (const product of entityIdsOf(record).slice(1)) putEvolvedProduct(rows, product, record, evolve);
}

export const shipmentDispatched: CustodyEventDefinition<ShipmentDispatchedPayload> = {
  type: 'shipment.dispatched',
  payloadOf,
  evolve,
  project,
};

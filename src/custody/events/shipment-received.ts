import type { LedgerRecord } from '../../ledger/ledger-record.js';
import type { EntityState } from '../entity-state.js';
import type { CustodyEventDefinition } from './custody-event.js';
import { text } from './payload-members.js';
import type { ReadModelRows } from './read-model-rows.js';
import { projectStep } from './row-writes.js';

/**
 * shipment.received (bizStep receiving): the consignee takes custody of a shipment in transit,
 * and of the products in it, at its location; the shipment is open again.
 */
export interface ShipmentReceivedPayload {
  /** The receiving party: the holder from now on. */
  readonly by: string;
  readonly location: string;
}

function payloadOf(record: LedgerRecord): ShipmentReceivedPayload {
  return { by: text(record, 'by'), location: text(record, 'location') };
}

function evolve(state: EntityState | undefined, record: LedgerRecord): EntityState | undefined {
  const { by: holder, location } = payloadOf(record);
  if (state?.kind === 'shipment') return { ...state, holder, location, status: 'open' };
  return state ? { ...state, holder, location } : state;
}

function project(record: LedgerRecord, rows: ReadModelRows): void {
  projectStep(record, rows, evolve);
}

export const shipmentReceived: CustodyEventDefinition<ShipmentReceivedPayload> = {
  type: 'shipment.received',
  payloadOf,
  evolve,
  project,
};

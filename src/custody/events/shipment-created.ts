import { parseDigitalLinkPath } from '../../gs1/digital-link.js';
import type { LedgerRecord } from '../../ledger/ledger-record.js';
import type { ShipmentState } from '../entity-state.js';
import type { CustodyEventDefinition } from './custody-event.js';
import { subjectOf, text } from './payload-members.js';
import type { ReadModelRows } from './read-model-rows.js';
import { shipmentColumns } from './row-writes.js';

/** shipment.created: a shipment (SSCC) at its origin, bound for a site and for the one party that may receive it. */
export interface ShipmentCreatedPayload {
  readonly owner: string;
  /** The origin. */
  readonly location: string;
  readonly destination: string;
  readonly consignee: string;
}

function payloadOf(record: LedgerRecord): ShipmentCreatedPayload {
  return {
    owner: text(record, 'owner'),
    location: text(record, 'location'),
    destination: text(record, 'destination'),
    consignee: text(record, 'consignee'),
  };
}

/** Whatever was there before: a creation starts the shipment's state afresh (the rules refuse one that exists). */
function evolve(_state: unknown, record: LedgerRecord): ShipmentState {
  const { owner, location, destination, consignee } = payloadOf(record);
  return { kind: 'shipment', status: 'open', holder: owner, location, destination, consignee, contents: [] };
}

function project(record: LedgerRecord, rows: ReadModelRows): void {
  const id = subjectOf(record);
  const { owner, location } = payloadOf(record);
  const sscc = parseDigitalLinkPath(id);
  rows.putShipment({
    id,
    sscc: sscc.ok && sscc.value.kind === 'sscc' ? sscc.value.sscc : '',
    owner,
    origin: location,
    created_at: record.occurredAt,
    partition: record.partition,
    last_sequence: record.sequence,
    ...shipmentColumns(evolve(undefined, record)),
  });
}

export const shipmentCreated: CustodyEventDefinition<ShipmentCreatedPayload> = {
  type: 'shipment.created',
  payloadOf,
  evolve,
  project,
};

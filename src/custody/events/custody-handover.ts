import type { LedgerRecord } from '../../ledger/ledger-record.js';
import type { EntityState } from '../entity-state.js';
import type { CustodyEventDefinition } from './custody-event.js';
import { text } from './payload-members.js';
import type { ReadModelRows } from './read-model-rows.js';
import { projectStep } from './row-writes.js';

/** custody.handover: custody of a product, or of a shipment and its contents, passes from one party to another. */
export interface CustodyHandoverPayload {
  readonly from: string;
  /** The holder from now on. */
  readonly to: string;
  readonly location: string;
}

function payloadOf(record: LedgerRecord): CustodyHandoverPayload {
  return { from: text(record, 'from'), to: text(record, 'to'), location: text(record, 'location') };
}

function evolve(state: EntityState | undefined, record: LedgerRecord): EntityState | undefined {
  const { to: holder, location } = payloadOf(record);
  return state ? { ...state, holder, location } : state;
}

function project(record: LedgerRecord, rows: ReadModelRows): void {
  projectStep(record, rows, evolve);
}

export const custodyHandover: CustodyEventDefinition<CustodyHandoverPayload> = {
  type: 'custody.handover',
  payloadOf,
  evolve,
  project,
};

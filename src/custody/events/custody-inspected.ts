import type { LedgerRecord } from '../../ledger/ledger-record.js';
import type { EntityState } from '../entity-state.js';
import type { CustodyEventDefinition } from './custody-event.js';
import { text } from './payload-members.js';
import type { ReadModelRows } from './read-model-rows.js';
import { projectStep } from './row-writes.js';

/** custody.inspected (bizStep inspecting): a finding on a product or a shipment; it changes no custody state. */
export interface CustodyInspectedPayload {
  readonly party: string;
  readonly location: string;
  /** passed or failed. */
  readonly result: string;
  /** '' when none was given. */
  readonly note: string;
}

function payloadOf(record: LedgerRecord): CustodyInspectedPayload {
  return {
    party: text(record, 'party'),
    location: text(record, 'location'),
    result: text(record, 'result'),
    note: text(record, 'note'),
  };
}

function evolve(state: EntityState | undefined): EntityState | undefined {
  return state;
}

/** The rows it names stand at the inspection (their last_sequence); nothing else changes. */
function project(record: LedgerRecord, rows: ReadModelRows): void {
  projectStep(record, rows, evolve);
}

export const custodyInspected: CustodyEventDefinition<CustodyInspectedPayload> = {
  type: 'custody.inspected',
  payloadOf,
  evolve,
  project,
};

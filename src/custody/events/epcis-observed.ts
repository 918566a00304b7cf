import type { LedgerRecord } from '../../ledger/ledger-record.js';
import type { EntityState } from '../entity-state.js';
import type { CustodyEventDefinition } from './custody-event.js';
import { text } from './payload-members.js';
import type { ReadModelRows } from './read-model-rows.js';
import { projectStep } from './row-writes.js';

/**
 * epcis.observed: an EPCIS event captured through `POST /capture` that is no custody step (an
 * observation, a sensor reading, a transaction, an association, a disposition, an error
 * declaration: docs/epcis.md). It stands on the chains of the entities it names and changes no
 * custody state; the event as captured is in the payload member `epcis` (src/epcis/epcis-record.ts).
 */
/** The event type of an EPCIS event that is no custody step. */
export const EPCIS_OBSERVED = 'epcis.observed';

export interface EpcisObservedPayload {
  /** The capturing party (GLN). */
  readonly party: string;
}

function payloadOf(record: LedgerRecord): EpcisObservedPayload {
  return { party: text(record, 'party') };
}

function evolve(state: EntityState | undefined): EntityState | undefined {
  return state;
}

/** The rows it names stand at the observation (their last_sequence); nothing else changes. */
function project(record: LedgerRecord, rows: ReadModelRows): void {
  projectStep(record, rows, evolve);
}

export const epcisObserved: CustodyEventDefinition<EpcisObservedPayload> = {
  type: EPCIS_OBSERVED,
  payloadOf,
  evolve,
  project,
};

import type { LedgerRecord } from '../../ledger/ledger-record.js';
import type { EntityState } from '../entity-state.js';
import type { CustodyEventDefinition } from './custody-event.js';
import { subjectOf, text } from './payload-members.js';
import type { ReadModelRows } from './read-model-rows.js';
import { evolvedProductRow } from './row-writes.js';

/** product.decommissioned: a product leaves the supply chain; no step can follow. */
export interface ProductDecommissionedPayload {
  readonly party: string;
  readonly location: string;
  /** destroyed, consumed or recalled. */
  readonly reason: string;
}

function payloadOf(record: LedgerRecord): ProductDecommissionedPayload {
  return { party: text(record, 'party'), location: text(record, 'location'), reason: text(record, 'reason') };
}

function evolve(state: EntityState | undefined): EntityState | undefined {
  return state?.kind === 'product' ? { ...state, status: 'decommissioned' } : state;
}

function project(record: LedgerRecord, rows: ReadModelRows): void {
  const row = rows.product(subjectOf(record));
  if (row) rows.putProduct({ ...evolvedProductRow(row, record, evolve), reason: payloadOf(record).reason });
}

export const productDecommissioned: CustodyEventDefinition<ProductDecommissionedPayload> = {
  type: 'product.decommissioned',
  payloadOf,
  evolve,
  project,
};

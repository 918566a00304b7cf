import type { LedgerRecord } from '../../ledger/ledger-record.js';
import type { EntityState } from '../entity-state.js';
import type { ReadModelRows } from './read-model-rows.js';

/** An entity's custody state after a record, given its state before (undefined: no record yet). */
export type Evolve = (state: EntityState | undefined, record: LedgerRecord, entityId: string) => EntityState | undefined;

/**
 * Everything one custody event type means, in one place: its record's payload (docs/api.md,
 * "What a step records"), what it does to an entity's custody state (the state the writer
 * decides the rules against, custody-state.ts) and what it does to the read models (the rows
 * the projector writes and the verifier holds against the ledger, docs/projection.md). The
 * custody_events and entity_history rows of a record do not depend on its type: they are the
 * projector's own (src/projection/read-model-changes.ts).
 */
export interface CustodyEventDefinition<Payload = unknown> {
  /** The record's eventType. */
  readonly type: string;
  /** The payload members the event defines, read from a record (a missing member reads as empty). */
  readonly payloadOf: (record: LedgerRecord) => Payload;
  readonly evolve: Evolve;
  /**
   * Writes what the record changes in the products, shipments, containment and lineage rows.
   * Where a row holds custody state (status, holder, location, shipment, quantity…), it comes
   * from `evolve` or the functions `evolve` is made of (row-writes.ts), so the read models and
   * the writer's rules cannot disagree about it.
   */
  readonly project: (record: LedgerRecord, rows: ReadModelRows) => void;
}

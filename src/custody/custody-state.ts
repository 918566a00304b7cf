import type { EntityStateModel } from '../ledger/ledger-record.js';
import type { EntityState } from './entity-state.js';
import { eventTypeOf, UNKNOWN_EVENT_TYPE } from './events/index.js';

/**
 * The fold the ledger writer decides the custody rules against (docs/rules-and-concurrency.md):
 * an entity's state (entity-state.ts) after each of its records, as the record's event type
 * defines it (src/custody/events/).
 */
export const custodyStateModel: EntityStateModel = {
  evolve: (state, record, entityId) =>
    (eventTypeOf(record.eventType) ?? UNKNOWN_EVENT_TYPE).evolve(state as EntityState | undefined, record, entityId),
};

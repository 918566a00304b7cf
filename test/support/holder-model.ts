/**
 * A minimal custody model for tests of preconditions: an entity's state is who holds it.
 * `custody.commissioned` gives it to payload.holder, `custody.handover` to payload.to.
 */
import type { AppendRequest, EntityStateModel, LedgerRecord, Precondition } from '../../src/ledger/ledger-record.js';

export class NotTheHolder extends Error {
  override name = 'NotTheHolder';
}

export const holderModel: EntityStateModel = {
  evolve(state: unknown, record: LedgerRecord): unknown {
    if (record.eventType === 'custody.commissioned') return record.payload.holder;
    if (record.eventType === 'custody.handover') return record.payload.to;
    return state;
  },
};

export function heldBy(entity: string, party: string): Precondition {
  return (stateOf) => {
    const holder = stateOf(entity);
    if (holder !== party) throw new NotTheHolder(`${entity} is held by ${String(holder)}, not ${party}`);
  };
}

export function commission(entity: string, holder: string): AppendRequest {
  return {
    eventId: crypto.randomUUID(),
    eventType: 'custody.commissioned',
    entityIds: [entity],
    occurredAt: '2026-11-26T08:00:00Z',
    actor: holder,
    payload: { holder },
    precondition: (stateOf) => {
      if (stateOf(entity) !== undefined) throw new NotTheHolder(`${entity} exists already`);
    },
  };
}

export function handover(entity: string, from: string, to: string): AppendRequest {
  return {
    eventId: crypto.randomUUID(),
    eventType: 'custody.handover',
    entityIds: [entity],
    occurredAt: '2026-11-26T09:00:00Z',
    actor: from,
    payload: { from, to },
    precondition: heldBy(entity, from),
  };
}

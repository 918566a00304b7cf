import type { AppendRequest } from '../ledger/ledger-record.js';
import { type CustodyCommand, decide, RuleViolation } from './custody-decider.js';

export interface CommandMeta {
  readonly eventId: string;
  readonly occurredAt: string;
  readonly actor: string;
}

/**
 * Turns a command into an append: decided once against the committed state (which fixes the
 * entities the record names, such as a shipment's contents), and decided again by the writer
 * at the record's place in the chain (docs/rules-and-concurrency.md). If the second decision
 * names other entities, the state changed in between and the command is refused, to be retried.
 */
export function custodyAppend(command: CustodyCommand, stateOf: (entityId: string) => unknown, meta: CommandMeta): AppendRequest {
  const decision = decide(command, stateOf);
  return {
    ...meta,
    eventType: decision.eventType,
    entityIds: decision.entityIds,
    payload: decision.payload,
    precondition: (current) => {
      const again = decide(command, current);
      if (again.entityIds.join('\n') !== decision.entityIds.join('\n')) {
        throw new RuleViolation('changed-meanwhile', `the entities of this step changed while it was recorded; retry it`);
      }
    },
  };
}

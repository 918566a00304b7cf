/**
 * Custody records as the ledger holds them, folded as the writer and the projector fold them:
 * for Given(records) / When(records) / Then(state and rows) specifications of the custody event
 * definitions (src/custody/events/).
 */
import { custodyStateModel } from '../../src/custody/custody-state.js';
import type { EntityState } from '../../src/custody/entity-state.js';
import type { JsonValue } from '../../src/ledger/canonical-json.js';
import type { LedgerRecord, StoredRecord } from '../../src/ledger/ledger-record.js';
import { foldBatch, type ReadModelChanges } from '../../src/projection/read-model-changes.js';

/** A step to record: its event type, the entities it names (the subject first) and its payload. */
export interface Step {
  readonly type: string;
  readonly entities: readonly string[];
  readonly payload: { readonly [key: string]: JsonValue };
}

export const step = (type: string, entities: readonly string[], payload: Step['payload'] = {}): Step => ({
  type,
  entities,
  payload,
});

/** The records of steps, in a partition of their own from `sequence` on, a minute apart. */
export function recordsOf(steps: readonly Step[], sequence = 1): StoredRecord[] {
  return steps.map((s, i) => {
    const at = sequence + i;
    const record: LedgerRecord = {
      formatVersion: 1,
      ledgerId: 'spec',
      partition: 0,
      sequence: at,
      previousHash: null,
      eventId: `00000000-0000-4000-8000-${String(at).padStart(12, '0')}`,
      eventType: s.type,
      entities: s.entities.map((id) => ({ id, previousHash: null })),
      occurredAt: occurredAt(at),
      recordedAt: occurredAt(at),
      actor: 'spec',
      payload: s.payload,
    };
    return { partition: 0, offset: String(at), record, hash: at.toString(16).padStart(64, '0') };
  });
}

/** When the record at `sequence` occurred. */
export const occurredAt = (sequence: number): string => new Date(Date.UTC(2026, 0, 1, 0, sequence)).toISOString();

export interface Folded {
  /** An entity's custody state after every record: what the writer decides the rules against. */
  readonly state: (id: string) => EntityState | undefined;
  /** What the `when` records change in the read models, from the rows the `given` records left. */
  readonly changes: ReadModelChanges;
}

/**
 * Folds the `given` records, then the `when` records, each as a batch of the projector: the
 * second from the products and shipments rows the first wrote, as it would load them.
 */
export function fold(given: readonly Step[], when: readonly Step[]): Folded {
  const before = recordsOf(given);
  const after = recordsOf(when, before.length + 1);
  const states = new Map<string, unknown>();
  for (const { record } of [...before, ...after]) {
    for (const { id } of record.entities) states.set(id, custodyStateModel.evolve(states.get(id), record, id));
  }
  const written = foldBatch(before, { products: new Map(), shipments: new Map() });
  return {
    state: (id) => states.get(id) as EntityState | undefined,
    changes: foldBatch(after, { products: written.products, shipments: written.shipments }),
  };
}

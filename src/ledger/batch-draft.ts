import type { AppendQueue, WaitingGroup } from './append-queue.js';
import { type ChainDraft, type DraftedRecord, logEntry } from './chain-draft.js';
import type { CheckpointSigner } from './checkpoint-note.js';
import type { IdempotencyIndex } from './idempotency-index.js';
import { AppendRejectedError, EventInFlightError } from './ledger-errors.js';
import type { AppendReceipt, AppendRequest, EntityStateModel } from './ledger-record.js';
import { StateNotLoadedError } from './partition-state.js';
import type { LogEntry } from './ports.js';

/** What a batch is drafted against: the committed ledger, and where a group fits. */
export interface BatchDraftContext {
  /** Each entity's state after the last committed record (undefined: none yet). */
  readonly committedStates: { get(entityId: string): unknown };
  readonly index: IdempotencyIndex;
  readonly stateModel?: EntityStateModel;
  /** Where a group goes once its bytes are known, and the room a transaction has. */
  readonly queue: Pick<AppendQueue, 'place' | 'roomBytes'>;
  /**
   * Event ids of the batch before, sent and not committed yet (a pipelined writer): a group
   * with one of them waits for the next batch, which is drafted once that one is committed, and
   * a retry is then answered with the receipts of the first.
   */
  readonly inFlightEventIds?: ReadonlySet<string>;
}

/** What became of one group of requests in the batch being drafted. */
export type GroupOutcome =
  | { readonly kind: 'drafted'; readonly records: readonly DraftedRecord[] }
  | { readonly kind: 'replayed'; readonly receipts: AppendReceipt[] }
  | { readonly kind: 'refused'; readonly error: Error }
  | { readonly kind: 'next-batch' };

const NEXT_BATCH: GroupOutcome = { kind: 'next-batch' };

/** A group whose records are in the batch. */
export interface AcceptedGroup {
  readonly group: WaitingGroup;
  readonly records: readonly DraftedRecord[];
}

/**
 * A batch drafted group by group, each after every group before it (docs/rules-and-
 * concurrency.md): preconditions are decided against the committed states and those the
 * batch's earlier records leave. The batch's states and event ids stay apart from the
 * committed ones until Kafka commits it.
 */
export class BatchDraft {
  readonly accepted: AcceptedGroup[] = [];
  private closing: DraftedRecord | null = null;
  private readonly states = new Map<string, unknown>();
  private readonly eventIds = new Set<string>();
  /**
   * Entities a precondition read that the writer had not loaded: the group waits for the next
   * batch, for which the writer loads them too.
   */
  readonly unloaded = new Set<string>();

  constructor(
    readonly chain: ChainDraft,
    private readonly context: BatchDraftContext,
  ) {}

  /** The batch's closing checkpoint, once sealed. */
  get checkpoint(): DraftedRecord | null {
    return this.closing;
  }

  /** The entity states the batch leaves, to take as committed once Kafka committed it. */
  get draftedStates(): ReadonlyMap<string, unknown> {
    return this.states;
  }

  /** Appends in the batch so far (its checkpoint aside). */
  get appends(): number {
    return this.eventIds.size;
  }

  /** The event ids of the batch's records (but its checkpoint's). */
  get draftedEventIds(): ReadonlySet<string> {
    return this.eventIds;
  }

  /**
   * Drafts the groups in order, and answers at once those refused or replayed. Returns the
   * groups that wait for the next batch: the first that did not fit, and every one after it.
   */
  draftGroups(groups: readonly WaitingGroup[]): WaitingGroup[] {
    for (const [i, group] of groups.entries()) {
      const outcome = this.draftGroup(group.requests);
      if (outcome.kind === 'next-batch') return groups.slice(i);
      if (outcome.kind === 'drafted') this.accepted.push({ group, records: outcome.records });
      else if (outcome.kind === 'replayed') group.resolve(outcome.receipts);
      else group.reject(outcome.error);
    }
    return [];
  }

  /** Ends the batch with its signed checkpoint. */
  seal(signer: CheckpointSigner): DraftedRecord {
    this.closing = this.chain.checkpoint(signer);
    return this.closing;
  }

  /** The batch's Kafka records, each keyed by its first entity (the writer's own by `partitionKey`). */
  logEntries(partitionKey: string): LogEntry[] {
    return this.chain.built.map((drafted) => logEntry(drafted, drafted.record.entities[0]?.id ?? partitionKey));
  }

  /**
   * Drafts a group's records after everything drafted before it, or refuses the whole group
   * and leaves the draft as it was. A group recorded already (a retry) is answered with its
   * receipts instead.
   */
  draftGroup(requests: readonly AppendRequest[]): GroupOutcome {
    const undo = this.chain.mark();
    const first = this.chain.built.length === 0;
    let drafted: { records: DraftedRecord[]; states: Map<string, unknown> };
    const inFlight = this.context.inFlightEventIds;
    if (inFlight && requests.some((request) => inFlight.has(request.eventId))) return NEXT_BATCH;
    try {
      const receipts = this.context.index.replayOf(requests);
      if (receipts) return { kind: 'replayed', receipts };
      drafted = this.draftRecords(requests);
      const placement = this.context.queue.place(this.chain.bytes, first);
      if (placement === 'next-batch') {
        undo();
        return NEXT_BATCH;
      }
      if (placement === 'too-large') throw this.tooLarge();
    } catch (refusal) {
      undo();
      if (refusal instanceof StateNotLoadedError && refusal.entityId !== null) {
        this.unloaded.add(refusal.entityId);
        return NEXT_BATCH;
      }
      return { kind: 'refused', error: refusal instanceof Error ? refusal : new AppendRejectedError(String(refusal)) };
    }
    for (const [id, state] of drafted.states) this.states.set(id, state);
    for (const request of requests) this.eventIds.add(request.eventId);
    return { kind: 'drafted', records: drafted.records };
  }

  /** The group's records, and the entity states they leave; throws the refusal of a request. */
  private draftRecords(requests: readonly AppendRequest[]): { records: DraftedRecord[]; states: Map<string, unknown> } {
    const model = this.context.stateModel;
    const states = new Map<string, unknown>();
    const stateOf = (id: string): unknown => (states.has(id) ? states.get(id) : this.draftedState(id));
    const records: DraftedRecord[] = [];
    const groupEvents = new Set<string>();
    for (const request of requests) {
      this.checkEventId(request.eventId, groupEvents);
      groupEvents.add(request.eventId);
      request.precondition?.(stateOf);
      const drafted = this.add(request);
      if (model) for (const id of request.entityIds) states.set(id, model.evolve(stateOf(id), drafted.record, id));
      records.push(drafted);
    }
    return { records, states };
  }

  /** An entity's state after the records drafted so far, or the committed one. */
  private draftedState(id: string): unknown {
    return this.states.has(id) ? this.states.get(id) : this.context.committedStates.get(id);
  }

  private checkEventId(eventId: string, groupEvents: ReadonlySet<string>): void {
    if (this.eventIds.has(eventId)) {
      throw new EventInFlightError(eventId, `event ${eventId} is being recorded by an earlier request`);
    }
    if (groupEvents.has(eventId)) throw new AppendRejectedError(`event ${eventId} appears twice in one group`);
  }

  private add(request: AppendRequest): DraftedRecord {
    try {
      return this.chain.add(request, request.entityIds);
    } catch (error) {
      throw new AppendRejectedError(`the record cannot be built: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private tooLarge(): AppendRejectedError {
    return new AppendRejectedError(
      `the records of this request take ${this.chain.bytes} bytes; one transaction holds at most ${this.context.queue.roomBytes} (LEDGER_MAX_BATCH_BYTES)`,
    );
  }
}

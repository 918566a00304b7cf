import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { canonicalBytes, type JsonValue } from '../ledger/canonical-json.js';
import { type AppendReceipt, type AppendRequest, type LedgerRecord, REQUEST_DIGEST } from '../ledger/ledger-record.js';
import type { Clock } from '../ledger/ports.js';
import {
  type CustodyCommand,
  EVENT_TYPE_OF,
  checkOccurredAt,
  entitiesNamedBy,
  RuleViolation,
  subjectOf,
} from './custody-decider.js';
import { custodyAppend } from './custody-append.js';
import { custodyStateModel } from './custody-state.js';

/** What the recorder needs of the ledger writer (a port: the LedgerWriter, or a fake in specs). */
export interface StepLedger {
  /** The entities' states at the ledger head (undefined: no record of it); read from the writer's state on disk. */
  statesOf(entityIds: readonly string[]): Promise<Map<string, unknown>>;
  appendAll(requests: readonly AppendRequest[]): Promise<AppendReceipt[]>;
  recorded(eventIds: readonly string[], requestDigest: string): Promise<AppendReceipt[] | undefined>;
}

/** A decision read an entity's state that was not read from the ledger yet: read it, and decide again. */
class StateNeeded extends Error {
  constructor(readonly entityId: string) {
    super(`the state of ${entityId} is needed`);
  }
}

/**
 * What `decide` returns, given the states it reads from the ledger: those of `subjects` and of
 * the entities their states name are read first; when it reads another (StateNeeded), that one
 * is read and it decides again.
 */
export async function withStates<T>(
  ledger: Pick<StepLedger, 'statesOf'>,
  subjects: readonly string[],
  decide: (known: ReadonlyMap<string, unknown>) => T,
): Promise<T> {
  const known = new Map<string, unknown>();
  const read = async (ids: readonly string[]): Promise<void> => {
    let wanted = ids.filter((id) => !known.has(id));
    while (wanted.length > 0) {
      const states = await ledger.statesOf(wanted);
      for (const [id, state] of states) known.set(id, state);
      wanted = [...new Set([...states.values()].flatMap(namedBy))].filter((id) => !known.has(id));
    }
  };
  await read(subjects);
  for (;;) {
    try {
      return decide(known);
    } catch (error) {
      if (!(error instanceof StateNeeded)) throw error;
      await read([error.entityId]);
    }
  }
}

/** One command's request, decided against the ledger's states (for tools and specs that append without the API). */
export function decidedAppend(
  ledger: Pick<StepLedger, 'statesOf'>,
  command: CustodyCommand,
  meta: { readonly eventId: string; readonly occurredAt: string; readonly actor: string },
): Promise<AppendRequest> {
  return withStates(ledger, [subjectOf(command)], (known) => custodyAppend(command, knownStateOf(known), meta));
}

/** A `stateOf` over the states read so far; StateNeeded for one not read yet. */
export function knownStateOf(known: ReadonlyMap<string, unknown>): (id: string) => unknown {
  return (id) => {
    if (known.has(id)) return known.get(id);
    throw new StateNeeded(id);
  };
}

/** The entities a state names whose states a decision about it reads: a shipment's contents, a product's shipment. */
function namedBy(state: unknown): string[] {
  const known = state as { kind?: string; contents?: readonly string[]; shipment?: string | null } | undefined;
  if (known?.kind === 'shipment') return [...(known.contents ?? [])];
  if (known?.kind === 'product' && known.shipment) return [known.shipment];
  return [];
}

/** A step ready to record: its command, when it happened, its evidence, and where it sits in the request. */
export interface StepToRecord {
  readonly command: CustodyCommand;
  readonly occurredAt: string;
  readonly evidence?: { readonly [key: string]: JsonValue };
  /** Further payload members the step's record carries (an EPCIS event as captured: src/epcis/epcis-record.ts). */
  readonly members?: { readonly [key: string]: JsonValue };
  /** The record's event id, when the caller derives it (EPCIS capture: from the event's hash ID); else one is made. */
  readonly eventId?: string;
  /** JSON pointer of the step in the request body ("" for a single step, "/steps/3" in a batch). */
  readonly pointer: string;
}

export interface RecordedStep {
  readonly eventId: string;
  readonly eventType: string;
  readonly subject: string;
  readonly receipt: AppendReceipt;
}

/** A client's key for a request, scoped to the caller, and the digest of what it asked. */
export interface Idempotency {
  readonly scope: string;
  readonly key: string;
  readonly requestDigest: string;
}

/** SHA-256 of the canonical JSON of a request (method, path, body): what makes two requests the same. */
export function requestDigest(request: { method: string; path: string; body: JsonValue }): string {
  return bytesToHex(sha256(canonicalBytes(request)));
}

/**
 * The event id of step `index` of an idempotent request: a UUID (version 8, RFC 9562) from
 * SHA-256 over the caller's scope and key, so that a retry names the same records.
 */
export function idempotentEventId(scope: string, key: string, index: number): string {
  const bytes = sha256(new TextEncoder().encode(`custodian.idempotency.v1\0${scope}\0${key}\0${index}`)).slice(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytesToHex(bytes);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A rule broken by one step of a batch names that step. */
function at(pointer: string, error: unknown): unknown {
  if (!(error instanceof RuleViolation) || pointer === '') return error;
  // A batch's step is named in the text too ("steps 3: …"); any other place (an EPCIS event) by its pointer alone.
  const text = /^\/steps\/\d+$/.test(pointer) ? `${pointer.slice(1).replace('/', ' ')}: ${error.message}` : error.message;
  return new RuleViolation(error.rule, text, pointer);
}

/**
 * Records custody steps: one step, or a batch all or nothing. Each step is decided against the
 * state the steps before it leave (so a batch may commission a product and then pack it), and
 * decided again by the writer where its record goes in the chain (docs/rules-and-concurrency.md).
 * With an idempotency key, a request recorded already is answered with its first receipts.
 */
export class StepRecorder {
  constructor(
    private readonly ledger: StepLedger,
    private readonly options: { readonly occurredAtSkewMs: number; readonly clock: Clock; readonly newEventId: () => string },
  ) {}

  async record(steps: readonly StepToRecord[], actor: string, idempotency?: Idempotency): Promise<RecordedStep[]> {
    const first = steps[0];
    if (!first) return [];
    const eventIds = steps.map(
      (step, i) =>
        step.eventId ?? (idempotency ? idempotentEventId(idempotency.scope, idempotency.key, i) : this.options.newEventId()),
    );
    const result = (receipts: readonly AppendReceipt[]): RecordedStep[] =>
      steps.map((step, i) => ({
        eventId: eventIds[i] as string,
        eventType: EVENT_TYPE_OF[step.command.type],
        subject: subjectOf(step.command),
        receipt: receipts[i] as AppendReceipt,
      }));
    if (idempotency) {
      const replayed = await this.ledger.recorded(eventIds, idempotency.requestDigest);
      if (replayed) return result(replayed);
    }
    const now = this.options.clock.now();
    for (const step of steps) {
      try {
        checkOccurredAt(step.occurredAt, now, this.options.occurredAtSkewMs);
      } catch (error) {
        throw at(step.pointer, error);
      }
    }
    // Every entity the steps name is read at once (one read of the writer's state on disk),
    // not found one decision at a time.
    const requests = await withStates(
      this.ledger,
      [...new Set(steps.flatMap((step) => entitiesNamedBy(step.command)))],
      (known) => this.decide(steps, eventIds, actor, idempotency, known),
    );
    return result(await this.ledger.appendAll(requests));
  }

  /** The steps' requests, each decided against the states the earlier ones leave; StateNeeded when a state is not read yet. */
  private decide(
    steps: readonly StepToRecord[],
    eventIds: readonly string[],
    actor: string,
    idempotency: Idempotency | undefined,
    known: ReadonlyMap<string, unknown>,
  ): AppendRequest[] {
    // The states the earlier steps of this request leave, for deciding the later ones.
    const pending = new Map<string, unknown>();
    const ledgerState = knownStateOf(known);
    const stateOf = (id: string): unknown => (pending.has(id) ? pending.get(id) : ledgerState(id));
    return steps.map((step, i): AppendRequest => {
      let request: AppendRequest;
      try {
        request = custodyAppend(step.command, stateOf, {
          eventId: eventIds[i] as string,
          occurredAt: step.occurredAt,
          actor,
        });
      } catch (error) {
        throw at(step.pointer, error);
      }
      // Further members first: none of them can replace what the rules decided.
      const payload = {
        ...step.members,
        ...request.payload,
        ...(step.evidence ? { evidence: step.evidence } : {}),
        ...(idempotency ? { [REQUEST_DIGEST]: idempotency.requestDigest } : {}),
      };
      const draft = {
        eventType: request.eventType,
        entities: request.entityIds.map((id) => ({ id, previousHash: null })),
        payload,
      };
      for (const id of request.entityIds)
        pending.set(id, custodyStateModel.evolve(stateOf(id), draft as unknown as LedgerRecord, id));
      const precondition = request.precondition;
      return {
        ...request,
        payload,
        precondition: (current) => {
          try {
            precondition?.(current);
          } catch (error) {
            throw at(step.pointer, error);
          }
        },
      };
    });
  }
}

import { EventIdConflictError } from './ledger-errors.js';
import {
  type AppendReceipt,
  type AppendRequest,
  CHECKPOINT_EVENT,
  type LedgerRecord,
  REQUEST_DIGEST,
  type StoredRecord,
} from './ledger-record.js';

/** The request a record came from, when its payload names one (docs/ledger-format.md §8, "Request digest"). */
export function requestDigestOf(payload: LedgerRecord['payload']): string | undefined {
  const digest = payload[REQUEST_DIGEST];
  return typeof digest === 'string' ? digest : undefined;
}

/** A recorded event that carries a request digest, so that a retry of it can be recognised. */
export interface IndexedEvent {
  readonly requestDigest: string;
  readonly receipt: AppendReceipt;
}

/** Where indexed events are kept: a map, or the writer's state on disk (loaded with the event ids asked for). */
export interface IndexedEvents {
  get(eventId: string): IndexedEvent | undefined;
  set(eventId: string, event: IndexedEvent): void;
}

/**
 * The committed records of a partition that name their request, by event id, with their
 * receipts: a retry of a recorded request is answered from here instead of recorded again,
 * and an event id reused for another request is refused.
 */
export class IdempotencyIndex {
  constructor(private readonly events: IndexedEvents = new Map<string, IndexedEvent>()) {}

  /** Records read back that wait for the checkpoint covering them, whose size their receipt carries. */
  private uncovered: StoredRecord[] = [];

  /** A record this writer committed, with the receipt its caller got. */
  committed(record: LedgerRecord, receipt: AppendReceipt): void {
    const requestDigest = requestDigestOf(record.payload);
    if (requestDigest !== undefined) this.events.set(record.eventId, { requestDigest, receipt });
  }

  /** A verified record read back from the partition, in chain order. */
  readBack(stored: StoredRecord): void {
    const { record } = stored;
    if (record.eventType === CHECKPOINT_EVENT) {
      for (const covered of this.uncovered) this.events.set(covered.record.eventId, indexedEvent(covered, record.sequence));
      this.uncovered = [];
    } else if (requestDigestOf(record.payload) !== undefined) {
      this.uncovered.push(stored);
    }
  }

  /**
   * The receipts of committed records with these event ids, when `requestDigest` names the
   * same request that recorded them. Undefined when none of them is recorded;
   * EventIdConflictError when the digest differs or only some are recorded.
   */
  recorded(eventIds: readonly string[], requestDigest: string): AppendReceipt[] | undefined {
    const found = eventIds.map((id) => this.events.get(id));
    if (found.every((event) => event === undefined)) return undefined;
    const recordedIds = eventIds.filter((_, i) => found[i] !== undefined);
    const receipts: AppendReceipt[] = [];
    for (const [i, event] of found.entries()) {
      const eventId = eventIds[i] as string;
      if (!event) {
        throw new EventIdConflictError(eventId, `event ${eventId} is not recorded, but others of its request are`, recordedIds);
      }
      if (event.requestDigest !== requestDigest) {
        throw new EventIdConflictError(eventId, `event ${eventId} was recorded for a different request`, recordedIds);
      }
      receipts.push(event.receipt);
    }
    return receipts;
  }

  /**
   * The receipts of a group recorded already (a retry): every request of it carries one
   * request digest and is recorded. Undefined for a group to draft; EventIdConflictError when
   * an event id of a group without one digest is recorded.
   */
  replayOf(requests: readonly AppendRequest[]): AppendReceipt[] | undefined {
    const digests = new Set(requests.map((request) => requestDigestOf(request.payload)));
    const [digest] = digests;
    if (digests.size === 1 && digest !== undefined) {
      return this.recorded(
        requests.map((request) => request.eventId),
        digest,
      );
    }
    const recordedIds = requests.map((request) => request.eventId).filter((id) => this.events.get(id) !== undefined);
    const [first] = recordedIds;
    if (first !== undefined) {
      throw new EventIdConflictError(first, `event ${first} was recorded for a different request`, recordedIds);
    }
    return undefined;
  }
}

function indexedEvent(stored: StoredRecord, checkpointSize: number): IndexedEvent {
  const { record } = stored;
  return {
    requestDigest: requestDigestOf(record.payload) as string,
    receipt: {
      ledgerId: record.ledgerId,
      partition: record.partition,
      offset: stored.offset,
      sequence: record.sequence,
      hash: stored.hash,
      checkpointSize,
    },
  };
}

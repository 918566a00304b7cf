import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { RuleViolation } from '../custody/custody-api.js';
import type { RecordedStep, StepToRecord } from '../custody/custody-api.js';
import type { StepRecording } from '../custody/custody-api.js';
import { type ProblemDetails, ProblemException } from '../infrastructure/http/problem-details.js';
import type { JsonValue } from '../ledger/canonical-json.js';
import {
  AppendOutcomeUnknownError,
  EventIdConflictError,
  EventInFlightError,
  WriterFencedAfterCommitError,
} from '../ledger/ledger-errors.js';
import type { AppendReceipt } from '../ledger/ledger-record.js';
import { type CapturedEvent, EventMappingError, epcisRecordEventId, stepsOfEvent } from './capture-mapping.js';
import { eventIdOf } from './epcis-record.js';
import { checkEpcisJson } from './epcis-schema.js';
import { epcisEventHashIds } from './event-hash.js';

const OUTCOME_UNKNOWN =
  'the ledger did not confirm the commit: the events may be recorded; send the document again (a 409 naming every event says they are)';

/** A failure after which the records may have landed (docs/problems.md, outcome-unknown), here or at the writer's instance. */
function outcomeUnknown(error: unknown): boolean {
  if (error instanceof AppendOutcomeUnknownError || error instanceof WriterFencedAfterCommitError) return true;
  return error instanceof ProblemException && error.problem.type === '/problems/outcome-unknown';
}

/** Most bytes of a document's @context, which each event's first record carries. */
export const MAX_CONTEXT_BYTES = 8192;

/** What a record holds besides its EPCIS member, at most (envelope, entity links of a step on a small shipment): for the size estimate. */
const RECORD_OVERHEAD_BYTES = 512;

/** One error of a capture, at a pointer into the captured document. */
export interface CaptureError {
  readonly pointer: string;
  readonly detail: string;
}

/** What became of one event of a capture. */
export interface CapturedEventResult {
  readonly eventID: string;
  readonly hashId: string;
  /** `custody` when it became custody steps, `observation` when an epcis.observed record. */
  readonly recordedAs: 'custody' | 'observation';
  readonly records: readonly {
    readonly eventId: string;
    readonly eventType: string;
    readonly subject: string;
    readonly receipt: AppendReceipt;
  }[];
}

/** A capture job (EPCIS 2.0 REST binding, "capture job"), as `GET /capture/{id}` answers it. */
export interface CaptureJob {
  readonly captureID: string;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly running: boolean;
  readonly success: boolean | null;
  readonly captureErrorBehaviour: 'rollback';
  readonly eventCount: number;
  readonly errors: readonly CaptureError[];
  readonly events: readonly CapturedEventResult[];
}

/** What a capture answers at once: the job, finished or still running, and the problem when it failed. */
export interface CaptureAnswer {
  readonly job: CaptureJob;
  readonly problem?: ProblemDetails;
}

export interface EpcisCaptureOptions {
  /** Most records one document may become (one Kafka transaction): CUSTODY_MAX_BATCH_STEPS. */
  readonly maxRecords: number;
  /** Most bytes of records one Kafka transaction holds: LEDGER_MAX_BATCH_BYTES. */
  readonly maxRecordBytes: number;
  /** How long the request waits for the job before answering 202 with it still running. */
  readonly answerWithinMs: number;
}

/** The document's events with their pointers, in document order (the order of epcisEventHashIds). */
export function eventsOf(document: {
  readonly [key: string]: JsonValue;
}): { event: { [key: string]: JsonValue }; pointer: string }[] {
  const body = document.epcisBody as { [key: string]: JsonValue } | undefined;
  if (body === undefined) {
    return [{ event: Object.fromEntries(Object.entries(document).filter(([name]) => name !== '@context')), pointer: '' }];
  }
  const results = (body.queryResults as { [key: string]: JsonValue } | undefined)?.resultsBody as
    { [key: string]: JsonValue } | undefined;
  if (body.queryResults !== undefined) {
    return ((results?.eventList as { [key: string]: JsonValue }[] | undefined) ?? []).map((event, i) => ({
      event,
      pointer: `/epcisBody/queryResults/resultsBody/eventList/${i}`,
    }));
  }
  if (Array.isArray(body.eventList)) {
    return (body.eventList as { [key: string]: JsonValue }[]).map((event, i) => ({
      event,
      pointer: `/epcisBody/eventList/${i}`,
    }));
  }
  return body.event === undefined ? [] : [{ event: body.event as { [key: string]: JsonValue }, pointer: '/epcisBody/event' }];
}

function problem(status: number, type: string, title: string, detail: string, errors: readonly CaptureError[]): ProblemDetails {
  return { type, title, status, detail, ...(errors.length > 0 ? { errors: [...errors] } : {}) };
}

const invalid = (errors: readonly CaptureError[]): ProblemException =>
  new ProblemException(
    problem(
      400,
      '/problems/invalid-request',
      'The EPCIS document is not valid',
      `${errors.length} error(s); each names its place`,
      errors,
    ),
  );

/**
 * EPCIS 2.0 capture (docs/epcis.md): a document is checked against GS1's schema, each event
 * mapped to the custody steps or the observation it is (capture-mapping.ts), and all its records
 * appended in one Kafka transaction, or none (the standard's "rollback" behaviour). An event
 * whose Event Hash ID is captured already is refused (409) at its pointer; error declarations
 * refer to their event and are not repeats of it.
 */
export class EpcisCapture {
  private readonly logger = new Logger('EpcisCapture');

  constructor(
    private readonly recording: StepRecording,
    private readonly jobs: CaptureJobs,
    private readonly eventIds: HeldEventIds,
    private readonly options: EpcisCaptureOptions,
  ) {}

  async capture(document: unknown, caller: { readonly name: string; readonly party: string }): Promise<CaptureAnswer> {
    const check = checkEpcisJson(document);
    if (!check.ok) throw invalid(check.errors);
    const root = document as { [key: string]: JsonValue };
    const events = eventsOf(root);
    if (events.length === 0) throw invalid([{ pointer: '/epcisBody', detail: 'the document holds no event to capture' }]);
    const hashIds = epcisEventHashIds(root);
    const captured: CapturedEvent[] = events.map((e, i) => ({ ...e, hashId: hashIds[i] as string }));
    const context = root['@context'];
    if (context !== undefined && Buffer.byteLength(JSON.stringify(context)) > MAX_CONTEXT_BYTES) {
      // Each event's first record carries it (docs/epcis.md): a large one multiplies.
      throw invalid([{ pointer: '/@context', detail: `is more than ${MAX_CONTEXT_BYTES} bytes; a capture takes at most that` }]);
    }
    const errors: CaptureError[] = [];
    const mapped = captured.map((event) => {
      try {
        return stepsOfEvent(event, caller.party, context);
      } catch (error) {
        if (!(error instanceof EventMappingError)) throw error;
        errors.push({ pointer: error.pointer, detail: error.message });
        return undefined;
      }
    });
    if (errors.length > 0) throw invalid(errors);
    const repeats = repeatedWithin(captured, mapped);
    if (repeats.length > 0) {
      throw new ProblemException(
        problem(
          409,
          '/problems/epcis-event-repeated',
          'An event is in the document twice',
          'an EPCIS event is captured once',
          repeats,
        ),
      );
    }
    const taken = await this.takenEventIds(captured);
    if (taken.length > 0) {
      throw new ProblemException(
        problem(409, '/problems/epcis-event-id-taken', 'An eventID is another event’s', 'an eventID names one event', taken),
      );
    }
    const steps = mapped.flatMap((m) => (m as { steps: StepToRecord[] }).steps);
    if (steps.length > this.options.maxRecords) {
      throw new ProblemException(
        problem(
          413,
          '/problems/capture-too-large',
          'The document makes too many ledger records',
          `its ${events.length} events make ${steps.length} records; one capture makes at most ${this.options.maxRecords} (CUSTODY_MAX_BATCH_STEPS), one Kafka transaction: split the document`,
          [],
        ),
      );
    }
    // The records' bytes, estimated before anything is sent: the events and contexts they carry,
    // and the envelope, entities and signature each record has besides (docs/ledger-format.md).
    const bytes = steps.reduce(
      (sum, step) => sum + RECORD_OVERHEAD_BYTES + Buffer.byteLength(JSON.stringify(step.members ?? {})),
      0,
    );
    if (bytes > this.options.maxRecordBytes) {
      throw new ProblemException(
        problem(
          413,
          '/problems/capture-too-large',
          'The document makes too many bytes of ledger records',
          `its events make about ${bytes} bytes of records; one capture makes at most ${this.options.maxRecordBytes} (LEDGER_MAX_BATCH_BYTES), one Kafka transaction: split the document`,
          [],
        ),
      );
    }
    const id = randomUUID();
    const createdAt = new Date();
    await this.jobs.start(id, caller, createdAt, events.length);
    const running = this.record(id, steps, captured, mapped as { steps: StepToRecord[]; custody: boolean }[], caller.name);
    const waited = await Promise.race([
      running,
      new Promise<undefined>((resolve) =>
        setTimeout(() => {
          resolve(undefined);
        }, this.options.answerWithinMs).unref(),
      ),
    ]);
    if (waited !== undefined) return waited;
    // Still running: its outcome goes to the job (record() writes it), the answer is 202 now.
    running.catch(() => undefined);
    const job: CaptureJob = {
      captureID: id,
      createdAt: createdAt.toISOString(),
      finishedAt: null,
      running: true,
      success: null,
      captureErrorBehaviour: 'rollback',
      eventCount: events.length,
      errors: [],
      events: [],
    };
    return { job };
  }

  private async record(
    id: string,
    steps: readonly StepToRecord[],
    captured: readonly CapturedEvent[],
    mapped: readonly { steps: StepToRecord[]; custody: boolean }[],
    actor: string,
  ): Promise<CaptureAnswer> {
    let recorded: RecordedStep[];
    try {
      // The request digest marks the records as one capture's: a record id captured already
      // by another request is refused by the writer at the head (docs/epcis.md, "Repeats").
      recorded = await this.recording.record(steps, actor, { scope: 'epcis', key: id, requestDigest: `epcis-capture:${id}` });
    } catch (error) {
      if (outcomeUnknown(error)) {
        // It may have landed: the job says so, and the client sends the document again.
        await this.settle(id, captured.length, null, [{ pointer: '', detail: OUTCOME_UNKNOWN }], []);
        throw error;
      }
      const failed = this.failure(error, captured, mapped);
      if (!failed) {
        await this.settle(id, captured.length, false, [{ pointer: '', detail: (error as Error).message }], []);
        throw error;
      }
      return { job: await this.settle(id, captured.length, false, failed.errors ?? [], []), problem: failed };
    }
    let next = 0;
    const results = captured.map((event, i): CapturedEventResult => {
      const { steps: own, custody } = mapped[i] as { steps: StepToRecord[]; custody: boolean };
      const records = recorded.slice(next, next + own.length);
      next += own.length;
      return {
        eventID: eventIdOf(event.event, event.hashId),
        hashId: event.hashId,
        recordedAs: custody ? 'custody' : 'observation',
        records: records.map((r) => ({ eventId: r.eventId, eventType: r.eventType, subject: r.subject, receipt: r.receipt })),
      };
    });
    return { job: await this.settle(id, captured.length, true, [], results) };
  }

  /**
   * The events whose eventID another event holds already (one of another Event Hash ID, or a step
   * rendered under its urn:uuid): an eventID names one event, and its error declarations. Read from
   * the query's read model, so a capture racing another of the same id may pass (docs/epcis.md).
   */
  private async takenEventIds(captured: readonly CapturedEvent[]): Promise<CaptureError[]> {
    const held = await this.eventIds.held([...new Set(captured.map((event) => eventIdOf(event.event, event.hashId)))]);
    if (held.length === 0) return [];
    return captured.flatMap((event) => {
      const eventID = eventIdOf(event.event, event.hashId);
      const own = (row: HeldEventId) =>
        row.recordEventId === epcisRecordEventId(event.hashId, 0, row.declarationTime ?? undefined);
      const other = held.find((row) => row.eventId === eventID && !own(row));
      return other
        ? [{ pointer: `${event.pointer}/eventID`, detail: `${eventID} is the eventID of another event in the ledger` }]
        : [];
    });
  }

  /**
   * The job, finished with its outcome. When its row cannot be written (the database away), the
   * answer still tells the outcome, and the row stays `running`: the events are in the ledger.
   */
  private async settle(
    id: string,
    eventCount: number,
    success: boolean | null,
    errors: readonly CaptureError[],
    events: readonly CapturedEventResult[],
  ): Promise<CaptureJob> {
    try {
      return await this.jobs.finish(id, success, errors, events);
    } catch (error) {
      this.logger.warn(
        `capture ${id} finished (success ${String(success)}), but its job row was not written: ${(error as Error).message}`,
      );
      const now = new Date().toISOString();
      return {
        captureID: id,
        createdAt: now,
        finishedAt: now,
        running: false,
        success,
        captureErrorBehaviour: 'rollback',
        eventCount,
        errors,
        events,
      };
    }
  }

  /** The problem a refusal of the ledger is for this capture, with the events it names; undefined for an unexpected error. */
  private failure(
    error: unknown,
    captured: readonly CapturedEvent[],
    mapped: readonly { steps: StepToRecord[] }[],
  ): (ProblemDetails & { errors?: CaptureError[] }) | undefined {
    const pointerOf = new Map<string, string>();
    for (const [i, m] of mapped.entries())
      for (const step of m.steps) pointerOf.set(step.eventId as string, captured[i]?.pointer as string);
    const repeated = (ids: readonly string[]): CaptureError[] =>
      [...new Set(ids.map((eventId) => pointerOf.get(eventId)).filter((p): p is string => p !== undefined))].map((pointer) => ({
        pointer,
        detail: 'this event (its Event Hash ID) is captured already',
      }));
    // Refused by the writer here, or by the writer's instance (docs/scaling.md, "Forwarding").
    const recordedIds =
      error instanceof EventIdConflictError
        ? error.recorded
        : error instanceof ProblemException && error.problem.type === '/problems/idempotency-key-reused'
          ? ((error.problem.recordedEvents as string[] | undefined) ?? [])
          : undefined;
    if (recordedIds !== undefined) {
      const errors = repeated(recordedIds);
      return problem(
        409,
        '/problems/epcis-event-captured',
        'An event is captured already',
        'nothing of this document was recorded',
        errors,
      );
    }
    if (error instanceof EventInFlightError) {
      return {
        ...problem(
          409,
          '/problems/epcis-event-in-flight',
          'An event is being captured by another request',
          'another capture of the same event is being recorded; nothing of this document was recorded',
          repeated([error.eventId]),
        ),
        retryable: true,
      };
    }
    if (error instanceof RuleViolation) {
      return {
        ...problem(
          409,
          '/problems/rule-violated',
          'A custody rule was broken',
          `${error.message}; nothing of this document was recorded`,
          [{ pointer: error.pointer ?? '', detail: error.message }],
        ),
        rule: error.rule,
      };
    }
    if (error instanceof ProblemException) return error.problem;
    return undefined;
  }
}

/**
 * Two events of one document with one Event Hash ID (an error declaration is not a repeat of its
 * event), or with one eventID and other hashes (an eventID names one event and its declarations).
 */
function repeatedWithin(
  captured: readonly CapturedEvent[],
  mapped: readonly ({ steps: StepToRecord[] } | undefined)[],
): CaptureError[] {
  const seen = new Set<string>();
  const hashOfId = new Map<string, string>();
  const errors: CaptureError[] = [];
  for (const [i, event] of captured.entries()) {
    const id = mapped[i]?.steps[0]?.eventId as string;
    const eventID = eventIdOf(event.event, event.hashId);
    const earlierHash = hashOfId.get(eventID);
    if (seen.has(id)) {
      errors.push({
        pointer: event.pointer,
        detail: `the same event (Event Hash ID ${event.hashId}) is earlier in the document`,
      });
    } else if (earlierHash !== undefined && earlierHash !== event.hashId) {
      errors.push({
        pointer: `${event.pointer}/eventID`,
        detail: `${eventID} is the eventID of another event earlier in the document`,
      });
    }
    seen.add(id);
    if (earlierHash === undefined) hashOfId.set(eventID, event.hashId);
  }
  return errors;
}

/** An eventID in the query's read model, with the ledger record of its event (and its declaration time, for an error declaration). */
export interface HeldEventId {
  readonly eventId: string;
  readonly recordEventId: string;
  readonly declarationTime: string | null;
}

/** Which of these eventIDs the ledger's events hold already (epcis_events). */
export class HeldEventIds {
  constructor(private readonly dataSource: DataSource) {}

  held(eventIds: readonly string[]): Promise<HeldEventId[]> {
    return this.dataSource.query(
      `SELECT event_id AS "eventId", record_event_id::text AS "recordEventId",
              event->'errorDeclaration'->>'declarationTime' AS "declarationTime"
         FROM epcis_events WHERE event_id = ANY($1::text[])`,
      [eventIds],
    );
  }
}

/** Where capture jobs are kept: PostgreSQL (epcis_capture_jobs), so any instance answers for them. */
export class CaptureJobs {
  constructor(private readonly dataSource: DataSource) {}

  async start(id: string, caller: { name: string; party: string }, createdAt: Date, eventCount: number): Promise<void> {
    await this.dataSource.query(
      'INSERT INTO epcis_capture_jobs (id, party, caller, created_at, running, event_count) VALUES ($1, $2, $3, $4, true, $5)',
      [id, caller.party, caller.name, createdAt, eventCount],
    );
  }

  async finish(
    id: string,
    success: boolean | null,
    errors: readonly CaptureError[],
    events: readonly CapturedEventResult[],
  ): Promise<CaptureJob> {
    // A data-modifying WITH, so the driver answers rows as for a SELECT.
    const rows: JobRow[] = await this.dataSource.query(
      `WITH finished AS (
         UPDATE epcis_capture_jobs SET running = false, success = $2, finished_at = now(), errors = $3, events = $4
         WHERE id = $1 RETURNING *)
       SELECT * FROM finished`,
      [id, success, JSON.stringify(errors), JSON.stringify(events)],
    );
    return jobOf(rows[0] as JobRow);
  }

  /** The job, when it exists and the party is the one that captured it. */
  async find(id: string, party: string): Promise<CaptureJob | undefined> {
    const rows: JobRow[] = await this.dataSource.query('SELECT * FROM epcis_capture_jobs WHERE id = $1 AND party = $2', [
      id,
      party,
    ]);
    return rows[0] ? jobOf(rows[0]) : undefined;
  }
}

interface JobRow {
  id: string;
  created_at: Date;
  finished_at: Date | null;
  running: boolean;
  success: boolean | null;
  event_count: number;
  errors: CaptureError[];
  events: CapturedEventResult[];
}

function jobOf(row: JobRow): CaptureJob {
  return {
    captureID: row.id,
    createdAt: row.created_at.toISOString(),
    finishedAt: row.finished_at ? row.finished_at.toISOString() : null,
    running: row.running,
    success: row.success,
    captureErrorBehaviour: 'rollback',
    eventCount: row.event_count,
    errors: row.errors,
    events: row.events,
  };
}

import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { type StepRecording, type StepToRecord } from '../custody/custody-api.js';
import { StepRecorder } from '../custody/step-recorder.js';
import { ProblemException } from '../infrastructure/http/problem-details.js';
import { AppendOutcomeUnknownError, EventIdConflictError } from '../ledger/ledger-errors.js';
import { epcisRecordEventId } from './capture-mapping.js';
import { type CaptureError, type CaptureJobs, EpcisCapture, type HeldEventIds } from './epcis-capture.js';
import { epcisEventHashIds } from './event-hash.js';

const PARTY = '4012345000009';
const event = (serial: string) => ({
  type: 'ObjectEvent',
  eventTime: '2026-12-01T10:00:00Z',
  eventTimeZoneOffset: '+00:00',
  epcList: [`urn:epc:id:sgtin:4012345.011111.${serial}`],
  action: 'OBSERVE',
  bizStep: 'storing',
});
const document = {
  '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: '2026-12-01T10:00:00Z',
  epcisBody: { eventList: [event('A'), event('B'), event('C')] },
};
const [, second] = epcisEventHashIds(document);
/** No eventID is held yet (the read-model side is tested end to end in test/e2e/epcis-capture.e2e.ts). */
const NO_EVENT_IDS = { held: () => Promise.resolve([]) } as unknown as HeldEventIds;
const OPTIONS = { maxRecords: 1000, maxRecordBytes: 2_000_000, answerWithinMs: 5000 };

/** Capture jobs kept in memory (the port's PostgreSQL side is tested end to end in test/e2e/epcis-capture.e2e.ts). */
function memoryJobs() {
  const finished: { success: boolean | null; errors: readonly CaptureError[] }[] = [];
  const jobs = {
    start: () => Promise.resolve(),
    finish: (id: string, success: boolean | null, errors: readonly CaptureError[]) => {
      finished.push({ success, errors });
      return Promise.resolve({ captureID: id, success, errors, running: false });
    },
  } as unknown as CaptureJobs;
  return { jobs, finished };
}

/** A capture whose recording refuses with `error`, and what it recorded in the job. */
async function refusedWith(error: Error | ((steps: readonly StepToRecord[]) => Error)) {
  let steps: readonly StepToRecord[] = [];
  const recording: StepRecording = {
    record: (given) => {
      steps = given;
      return Promise.reject(error instanceof Error ? error : error(given));
    },
  };
  const { jobs, finished } = memoryJobs();
  const answer = await new EpcisCapture(recording, jobs, NO_EVENT_IDS, OPTIONS).capture(document, {
    name: 'maker',
    party: PARTY,
  });
  return { answer, steps, finished };
}

describe('EPCIS capture refusals', () => {
  it('names the event whose record the writer has already, refused here or by the writer of another instance', async () => {
    const recordedId = epcisRecordEventId(second!, 0);
    const expected = [{ pointer: '/epcisBody/eventList/1', detail: 'this event (its Event Hash ID) is captured already' }];
    const here = await refusedWith(new EventIdConflictError(recordedId, 'recorded for a different request', [recordedId]));
    expect(here.answer.problem).toMatchObject({ status: 409, type: '/problems/epcis-event-captured', errors: expected });
    expect(here.finished).toEqual([{ success: false, errors: expected }]);
    const forwarded = await refusedWith(
      new ProblemException({
        type: '/problems/idempotency-key-reused',
        title: 'reused',
        status: 422,
        detail: 'reused',
        recordedEvents: [recordedId],
      }),
    );
    expect(forwarded.answer.problem).toMatchObject({ status: 409, errors: expected });
  });

  it('answers a broken rule at the pointer of its event, decided by the recorder, and makes record ids of the hashes', async () => {
    // The real recorder over a ledger that holds only A: the inspection of C breaks a rule.
    let recorded: readonly StepToRecord[] = [];
    const ledger = {
      statesOf: (ids: readonly string[]) =>
        Promise.resolve(
          new Map<string, unknown>(
            ids.map((id) => [
              id,
              id.endsWith('/21/A')
                ? { kind: 'product', status: 'active', holder: PARTY, location: PARTY, shipment: null, quantity: null }
                : undefined,
            ]),
          ),
        ),
      appendAll: () => Promise.reject(new Error('a refused document is not appended')),
      recorded: () => Promise.resolve(undefined),
    };
    const recorder = new StepRecorder(ledger, {
      occurredAtSkewMs: 300_000,
      clock: { now: () => new Date() },
      newEventId: randomUUID,
    });
    const recording: StepRecording = {
      record: (steps, actor, idempotency) => {
        recorded = steps;
        return recorder.record(steps, actor, idempotency);
      },
    };
    const inspected = {
      ...document,
      epcisBody: {
        eventList: [
          event('A'),
          {
            ...event('C'),
            bizStep: 'inspecting',
            disposition: 'conformant',
            readPoint: { id: 'urn:epc:id:sgln:4012345.00001.0' },
          },
        ],
      },
    };
    const answer = await new EpcisCapture(recording, memoryJobs().jobs, NO_EVENT_IDS, OPTIONS).capture(inspected, {
      name: 'maker',
      party: PARTY,
    });
    expect(recorded.map((s) => s.pointer)).toEqual(['/epcisBody/eventList/0', '/epcisBody/eventList/1']);
    expect(recorded[0]!.eventId).toBe(epcisRecordEventId(epcisEventHashIds(inspected)[0]!, 0));
    expect(answer.problem).toMatchObject({
      status: 409,
      rule: 'unknown-entity',
      errors: [{ pointer: '/epcisBody/eventList/1', detail: '/01/04012345111118/21/C is not in the ledger' }],
    });
  });

  it('refuses an event twice in one document before anything is recorded', async () => {
    const twice = { ...document, epcisBody: { eventList: [event('A'), event('B'), event('A')] } };
    const recording: StepRecording = { record: () => Promise.reject(new Error('nothing may be recorded')) };
    const capture = new EpcisCapture(recording, memoryJobs().jobs, NO_EVENT_IDS, OPTIONS);
    await expect(capture.capture(twice, { name: 'maker', party: PARTY })).rejects.toMatchObject({
      problem: {
        status: 409,
        errors: [{ pointer: '/epcisBody/eventList/2', detail: expect.stringContaining('earlier in the document') }],
      },
    });
    // One eventID for two events (other EPCs, other hashes): the second is refused at its eventID.
    const shared = {
      ...document,
      epcisBody: {
        eventList: [
          { ...event('A'), eventID: 'urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427' },
          { ...event('B'), eventID: 'urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427' },
        ],
      },
    };
    await expect(capture.capture(shared, { name: 'maker', party: PARTY })).rejects.toMatchObject({
      problem: {
        status: 409,
        errors: [{ pointer: '/epcisBody/eventList/1/eventID', detail: expect.stringContaining('another event earlier') }],
      },
    });
    const tooMany = new EpcisCapture(recording, memoryJobs().jobs, NO_EVENT_IDS, { ...OPTIONS, maxRecords: 2 });
    await expect(tooMany.capture(document, { name: 'maker', party: PARTY })).rejects.toMatchObject({ problem: { status: 413 } });
    const tooBig = new EpcisCapture(recording, memoryJobs().jobs, NO_EVENT_IDS, { ...OPTIONS, maxRecordBytes: 1500 });
    await expect(tooBig.capture(document, { name: 'maker', party: PARTY })).rejects.toMatchObject({
      problem: { status: 413, detail: expect.stringContaining('LEDGER_MAX_BATCH_BYTES') },
    });
  });

  it('answers a capture still recording after answerWithinMs as running, and finishes its job when it lands', async () => {
    let land: (recorded: never[]) => void = () => undefined;
    const recording: StepRecording = { record: () => new Promise((resolve) => (land = resolve)) };
    const { jobs, finished } = memoryJobs();
    const capture = new EpcisCapture(recording, jobs, NO_EVENT_IDS, { ...OPTIONS, answerWithinMs: 20 });
    const answer = await capture.capture(document, { name: 'maker', party: PARTY });
    expect(answer.job).toMatchObject({ running: true, success: null, finishedAt: null, eventCount: 3 });
    expect(finished).toEqual([]);
    land([]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(finished).toEqual([{ success: true, errors: [] }]);
  });

  it('leaves a capture whose commit was not confirmed neither failed nor succeeded, and answers the 503', async () => {
    const recording: StepRecording = { record: () => Promise.reject(new AppendOutcomeUnknownError('no answer to the commit')) };
    const { jobs, finished } = memoryJobs();
    const capture = new EpcisCapture(recording, jobs, NO_EVENT_IDS, OPTIONS);
    await expect(capture.capture(document, { name: 'maker', party: PARTY })).rejects.toBeInstanceOf(AppendOutcomeUnknownError);
    expect(finished).toEqual([{ success: null, errors: [{ pointer: '', detail: expect.stringContaining('may be recorded') }] }]);
  });
});

import { describe, expect, it } from '@jest/globals';
import { RuleViolation, type StepRecording, type StepToRecord } from '../custody/custody-api.js';
import { ProblemException } from '../infrastructure/http/problem-details.js';
import { EventIdConflictError } from '../ledger/ledger-errors.js';
import { epcisRecordEventId } from './capture-mapping.js';
import { type CaptureError, type CaptureJobs, EpcisCapture } from './epcis-capture.js';
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

/** Capture jobs kept in memory (the port's PostgreSQL side is tested end to end in test/e2e/epcis-capture.e2e.ts). */
function memoryJobs() {
  const finished: { success: boolean; errors: readonly CaptureError[] }[] = [];
  const jobs = {
    start: () => Promise.resolve(),
    finish: (id: string, success: boolean, errors: readonly CaptureError[]) => {
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
  const answer = await new EpcisCapture(recording, jobs, { maxRecords: 1000, answerWithinMs: 5000 }).capture(document, {
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

  it('answers a broken rule at the pointer of its event, and records one step per event with ids from their hashes', async () => {
    const { answer, steps } = await refusedWith(
      (given: readonly StepToRecord[]) => new RuleViolation('unknown-entity', 'C is not in the ledger', given[2]!.pointer),
    );
    expect(steps.map((s) => s.pointer)).toEqual(['/epcisBody/eventList/0', '/epcisBody/eventList/1', '/epcisBody/eventList/2']);
    expect(steps[1]!.eventId).toBe(epcisRecordEventId(second!, 0));
    expect(answer.problem).toMatchObject({
      status: 409,
      rule: 'unknown-entity',
      errors: [{ pointer: '/epcisBody/eventList/2', detail: 'C is not in the ledger' }],
    });
  });

  it('refuses an event twice in one document before anything is recorded', async () => {
    const twice = { ...document, epcisBody: { eventList: [event('A'), event('B'), event('A')] } };
    const recording: StepRecording = { record: () => Promise.reject(new Error('nothing may be recorded')) };
    const capture = new EpcisCapture(recording, memoryJobs().jobs, { maxRecords: 1000, answerWithinMs: 5000 });
    await expect(capture.capture(twice, { name: 'maker', party: PARTY })).rejects.toMatchObject({
      problem: {
        status: 409,
        errors: [{ pointer: '/epcisBody/eventList/2', detail: expect.stringContaining('earlier in the document') }],
      },
    });
    const tooMany = new EpcisCapture(recording, memoryJobs().jobs, { maxRecords: 2, answerWithinMs: 5000 });
    await expect(tooMany.capture(document, { name: 'maker', party: PARTY })).rejects.toMatchObject({ problem: { status: 413 } });
  });
});

import { describe, expect, it } from '@jest/globals';
import { ForwardNotSentError, ForwardOutcomeUnknownError } from '../cluster/forwarding.js';
import { ProblemException } from '../infrastructure/http/problem-details.js';
import {
  AppendOutcomeUnknownError,
  AppendRejectedError,
  LedgerUnavailableError,
  WriterClosedError,
  WriterFencedAfterCommitError,
  WriterFencedError,
} from '../ledger/ledger-errors.js';
import { NotTheWriterError } from '../ledger/ledger-writer.js';
import type { RecordedStep, StepToRecord } from './step-recorder.js';
import { type ForwardAnswer, type ForwardedSteps, StepRouter, type StepRecording } from './step-routing.js';

const step: StepToRecord = {
  command: { type: 'commission', product: '/01/09506000134352/21/A', owner: 'o', location: 'l', details: {} },
  occurredAt: '2026-12-03T10:00:00Z',
  pointer: '',
};

const recorded = (by: string): RecordedStep[] => [
  {
    eventId: by,
    eventType: 'product.commissioned',
    subject: '/01/09506000134352/21/A',
    receipt: { ledgerId: 'l', partition: 0, offset: '1', sequence: 1, hash: 'h', checkpointSize: 2 },
  },
];

/** A router over a fake placement: `here` and `owners` change as the test says; sends go to `answers`. */
function router(options: {
  here?: () => boolean;
  owners: (string | undefined)[];
  answers?: ((address: string, request: ForwardedSteps) => ForwardAnswer | Error)[];
  local?: () => Promise<RecordedStep[]>;
  placementWaitMs?: number;
}) {
  const sent: string[] = [];
  const refreshes: boolean[] = [];
  let owner = 0;
  let answer = 0;
  const local: StepRecording = { record: options.local ?? (() => Promise.resolve(recorded('local'))) };
  const routed = new StepRouter(
    local,
    {
      writesHere: options.here ?? (() => false),
      addressOf: (_partition, refresh) => {
        refreshes.push(refresh);
        return Promise.resolve(options.owners[Math.min(owner++, options.owners.length - 1)]);
      },
    },
    (address, request) => {
      sent.push(address);
      const answers = options.answers ?? [];
      const next = answers[Math.min(answer++, answers.length - 1)];
      const result = next ? next(address, request) : { recorded: recorded(address) };
      return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
    },
    { partitions: 1, self: 'me:1', placementWaitMs: options.placementWaitMs ?? 2000, retryDelayMs: 1 },
  );
  return { routed, sent, refreshes };
}

describe('StepRouter', () => {
  it('records here when this instance writes the partition, and forwards when another does', async () => {
    const here = router({ here: () => true, owners: ['other:1'] });
    expect(await here.routed.record([step], 'maker')).toEqual(recorded('local'));
    expect(here.sent).toEqual([]);
    const there = router({ owners: ['other:1'] });
    expect(await there.routed.record([step], 'maker', { scope: 'maker', key: 'k', requestDigest: 'd' })).toEqual(
      recorded('other:1'),
    );
    expect(there.sent).toEqual(['other:1']);
  });

  it('sends what the writer’s instance needs to record it as if it came there: partition, steps, caller and key', async () => {
    let seen: ForwardedSteps | undefined;
    const { routed } = router({
      owners: ['other:1'],
      answers: [
        (_a, request) => {
          seen = request;
          return { recorded: recorded('x') };
        },
      ],
    });
    await routed.record([step], 'maker', { scope: 'maker', key: 'k', requestDigest: 'd' });
    expect(seen).toEqual({
      partition: 0,
      steps: [step],
      actor: 'maker',
      idempotency: { scope: 'maker', key: 'k', requestDigest: 'd' },
    });
  });

  it('gives the writer’s refusal back as the same problem', async () => {
    const problem = { type: '/problems/rule-violated', title: 'A custody rule was broken', status: 409, detail: 'x', rule: 'r' };
    const { routed } = router({ owners: ['other:1'], answers: [() => ({ problem })] });
    const error = await routed.record([step], 'maker').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemException);
    expect((error as ProblemException).problem).toEqual(problem);
  });

  it('sends a write that was never sent, or not taken, to the writer the group places next (asking Kafka again)', async () => {
    const { routed, sent, refreshes } = router({
      owners: ['dead:1', 'moved:1', 'new:1'],
      answers: [() => new ForwardNotSentError('refused'), () => ({ notWriter: true }), () => ({ recorded: recorded('new') })],
    });
    expect(await routed.record([step], 'maker')).toEqual(recorded('new'));
    expect(sent).toEqual(['dead:1', 'moved:1', 'new:1']);
    expect(refreshes).toEqual([false, true, true]);
  });

  it('waits while the partition has no writer or the directory names this instance, then records', async () => {
    let calls = 0;
    const { routed, sent } = router({ here: () => ++calls > 3, owners: [undefined, 'me:1'] });
    expect(await routed.record([step], 'maker')).toEqual(recorded('local'));
    expect(sent).toEqual([]);
  });

  it('takes a write refused here because the writer was just released to the next writer', async () => {
    let here = true;
    const { routed, sent } = router({
      here: () => here,
      owners: ['next:1'],
      local: () => {
        here = false;
        return Promise.reject(new WriterClosedError('closing'));
      },
    });
    expect(await routed.record([step], 'maker')).toEqual(recorded('next:1'));
    expect(sent).toEqual(['next:1']);
    const released = router({ here: () => here, owners: ['next:1'], local: () => Promise.reject(new NotTheWriterError(0)) });
    here = true;
    const answer = released.routed.record([step], 'maker');
    here = false;
    expect(await answer).toEqual(recorded('next:1'));
  });

  it('sends a write refused here by a fence before its commit to the next writer, but not one fenced after its commit', async () => {
    let here = true;
    const fencedBefore = router({
      here: () => here,
      owners: ['next:1'],
      local: () => {
        here = false;
        return Promise.reject(new WriterFencedError('taken over'));
      },
    });
    expect(await fencedBefore.routed.record([step], 'maker')).toEqual(recorded('next:1'));
    here = true;
    const fencedAfter = router({
      here: () => here,
      owners: ['next:1'],
      local: () => Promise.reject(new WriterFencedAfterCommitError('taken over after the commit was sent')),
    });
    await expect(fencedAfter.routed.record([step], 'maker')).rejects.toBeInstanceOf(WriterFencedAfterCommitError);
    expect(fencedAfter.sent).toEqual([]);
  });

  it('answers outcome-unknown when a forwarded write got no answer: it is not sent twice', async () => {
    const { routed, sent } = router({ owners: ['other:1'], answers: [() => new ForwardOutcomeUnknownError('closed')] });
    await expect(routed.record([step], 'maker')).rejects.toBeInstanceOf(AppendOutcomeUnknownError);
    expect(sent).toEqual(['other:1']);
  });

  it('refuses, without sending it anywhere, a request whose entities live in different partitions', async () => {
    const sent: string[] = [];
    const routed = new StepRouter(
      { record: () => Promise.resolve(recorded('local')) },
      { writesHere: () => false, addressOf: () => Promise.resolve('other:1') },
      (address) => {
        sent.push(address);
        return Promise.resolve({ recorded: recorded(address) });
      },
      { partitions: 64, self: 'me:1', placementWaitMs: 100, retryDelayMs: 1 },
    );
    const products = Array.from({ length: 20 }, (_, i) => `/01/09506000134352/21/P${i}`);
    const pack: StepToRecord = {
      command: { type: 'pack', shipment: '/00/106141410000000012', products, party: 'p', location: 'l' },
      occurredAt: '2026-12-03T10:00:00Z',
      pointer: '',
    };
    await expect(routed.record([pack], 'maker')).rejects.toThrow(/map to \d+ different partitions/);
    await expect(
      routed.record([step, { ...step, command: { ...step.command, product: products[1]! } as typeof step.command }], 'maker'),
    ).rejects.toBeInstanceOf(AppendRejectedError);
    expect(sent).toEqual([]);
  });

  it('gives up with ledger-unavailable when no writer is placed in time', async () => {
    const { routed } = router({ owners: [undefined], placementWaitMs: 30 });
    await expect(routed.record([step], 'maker')).rejects.toBeInstanceOf(LedgerUnavailableError);
  });
});

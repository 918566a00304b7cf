import { describe, expect, it } from '@jest/globals';
import { RuleViolation } from './custody/custody-decider.js';
import { toProblem } from './infrastructure/http/problem-details.js';
import {
  AppendOutcomeUnknownError,
  AppendRejectedError,
  LedgerIntegrityError,
  LedgerUnavailableError,
  WriterFencedAfterCommitError,
  WriterFencedError,
} from './ledger/ledger-errors.js';
import { custodianProblems } from './problems.js';

const incident = () => 'incident-1';
const problemOf = (error: unknown, instance = '/x') => toProblem(error, instance, incident, custodianProblems);

describe("the capabilities' errors as problems", () => {
  it('answers a broken custody rule with 409 naming the rule', () => {
    expect(problemOf(new RuleViolation('not-holder', '/01/x is held by A, not by B'), '/custody/handovers')).toEqual({
      type: '/problems/rule-violated',
      title: 'A custody rule was broken',
      status: 409,
      detail: '/01/x is held by A, not by B',
      rule: 'not-holder',
      instance: '/custody/handovers',
    });
  });

  it('answers a step the ledger cannot record with 422', () => {
    expect(problemOf(new AppendRejectedError('payload/a: undefined is not a JSON value'))).toMatchObject({
      status: 422,
      type: '/problems/unrecordable',
      detail: 'payload/a: undefined is not a JSON value',
    });
  });

  it('answers an unavailable, fenced or uncertain ledger with a retryable 503 that leaks nothing', () => {
    for (const error of [new LedgerUnavailableError('broker 10.0.0.3 down'), new WriterFencedError('taken over')]) {
      const problem = problemOf(error);
      expect(problem).toMatchObject({ status: 503, type: '/problems/ledger-unavailable', retryable: true });
      expect(problem.detail).not.toContain('10.0.0.3');
    }
    // Fenced after the commit was sent: it may have landed, so not "nothing was recorded".
    for (const error of [new AppendOutcomeUnknownError('EndTxn lost'), new WriterFencedAfterCommitError('taken over')]) {
      expect(problemOf(error)).toMatchObject({
        status: 503,
        type: '/problems/outcome-unknown',
        detail: expect.stringMatching(/same Idempotency-Key/),
      });
    }
  });

  it('answers a ledger that no longer verifies with 503 ledger-broken, naming the break, not an incident', () => {
    const problem = problemOf(new LedgerIntegrityError('modified at partition 0, offset 5, sequence 4'));
    expect(problem).toMatchObject({ status: 503, type: '/problems/ledger-broken' });
    expect(problem.detail).toContain('modified at partition 0, offset 5, sequence 4');
    expect(problem).not.toHaveProperty('incident');
    expect(problem).not.toHaveProperty('retryable');
  });
});

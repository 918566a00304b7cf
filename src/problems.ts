import { RuleViolation } from './custody/custody-decider.js';
import type { DomainProblems } from './infrastructure/http/problem-details.js';
import {
  AppendOutcomeUnknownError,
  AppendRejectedError,
  LedgerIntegrityError,
  LedgerUnavailableError,
  WriterClosedError,
  WriterFencedAfterCommitError,
  WriterFencedError,
} from './ledger/ledger-errors.js';

/**
 * Custodian's own problem types (docs/problems.md). A broken custody rule is a 409 naming the
 * rule; a request the ledger cannot record as it is, a 422; a ledger that cannot take appends
 * right now, a 503 the client may retry (with the same Idempotency-Key). The one place where
 * the capabilities' errors become problem+json; the HTTP layer applies it
 * (src/infrastructure/http/problem-details.filter.ts).
 */
export const custodianProblems: DomainProblems = (exception) => {
  if (exception instanceof RuleViolation) {
    return {
      type: '/problems/rule-violated',
      title: 'A custody rule was broken',
      status: 409,
      detail: exception.message,
      rule: exception.rule,
      ...(exception.pointer !== undefined ? { errors: [{ pointer: exception.pointer, detail: exception.message }] } : {}),
    };
  }
  if (exception instanceof AppendRejectedError) {
    return {
      type: '/problems/unrecordable',
      title: 'The step cannot be recorded as it is',
      status: 422,
      detail: exception.message,
    };
  }
  if (exception instanceof AppendOutcomeUnknownError || exception instanceof WriterFencedAfterCommitError) {
    return {
      type: '/problems/outcome-unknown',
      title: 'It is not known whether the step was recorded',
      status: 503,
      detail:
        'The ledger did not confirm the commit. Retry with the same Idempotency-Key: a recorded step is then returned, not recorded twice.',
      retryable: true,
    };
  }
  if (exception instanceof LedgerIntegrityError) {
    return {
      type: '/problems/ledger-broken',
      title: 'The ledger no longer verifies; its writer refuses to extend it',
      status: 503,
      detail: `Nothing was recorded: ${exception.message}. An operator must act (docs/RELIABILITY.md, "A ledger that no longer verifies").`,
    };
  }
  if (exception instanceof WriterFencedError) {
    return {
      type: '/problems/ledger-unavailable',
      title: 'The ledger cannot take steps right now',
      status: 503,
      detail: `Nothing was recorded: ${exception.message}. Retry later.`,
      retryable: true,
    };
  }
  if (exception instanceof LedgerUnavailableError || exception instanceof WriterClosedError) {
    return {
      type: '/problems/ledger-unavailable',
      title: 'The ledger cannot take steps right now',
      status: 503,
      detail: 'Nothing was recorded. Retry later.',
      retryable: true,
    };
  }
  return undefined;
};

import { HttpException, HttpStatus } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { RuleViolation } from '../../custody/custody-decider.js';
import { isDatabaseUnavailable } from '../database/database-errors.js';
import {
  AppendOutcomeUnknownError,
  AppendRejectedError,
  LedgerIntegrityError,
  LedgerUnavailableError,
  WriterClosedError,
  WriterFencedError,
} from '../../ledger/ledger-errors.js';

/**
 * RFC 9457 problem details. Every error response of the API has this shape and the media
 * type application/problem+json. `type` is "about:blank" for plain HTTP errors, where the
 * title is the status phrase; Custodian's own problem types are documented in docs/.
 */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** Where the request was wrong, one entry per field: a JSON pointer and what is wrong. */
  errors?: { pointer: string; detail: string }[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** An error that already knows its problem details (domain rules, validation). */
export class ProblemException extends Error {
  constructor(readonly problem: ProblemDetails) {
    super(problem.detail);
    this.name = 'ProblemException';
  }
}

function statusTitle(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/** Fastify's own errors (body parsing, limits, media types) carry a statusCode and a code. */
function isFrameworkClientError(error: unknown): error is { statusCode: number; code?: string; message: string } {
  if (typeof error !== 'object' || error === null) return false;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

function httpExceptionDetail(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return typeof message === 'string' ? message : exception.message;
}

/** Whether the problem is one of Custodian's own (expected: a rule, an outage), not an unexpected failure. */
export function isDomainProblem(exception: unknown): boolean {
  return exception instanceof ProblemException || domainProblem(exception) !== undefined;
}

/**
 * Maps anything thrown while handling a request to problem details. Server-side failures
 * never leak internals: their detail names only an incident id that the log line carries too.
 */
export function toProblem(exception: unknown, instance: string, incidentId: () => string): ProblemDetails {
  if (exception instanceof ProblemException) return { ...exception.problem, instance };
  const domain = domainProblem(exception);
  if (domain) return { ...domain, instance };
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status < 500) {
      return { type: 'about:blank', title: statusTitle(status), status, detail: httpExceptionDetail(exception), instance };
    }
    return serverProblem(status, instance, incidentId());
  }
  if (isFrameworkClientError(exception)) {
    const status = exception.statusCode;
    return { type: 'about:blank', title: statusTitle(status), status, detail: exception.message, instance };
  }
  return serverProblem(HttpStatus.INTERNAL_SERVER_ERROR, instance, incidentId());
}

/** Seconds a client should wait before retrying a 503 (the Retry-After header). */
export const RETRY_AFTER_SECONDS = 2;

/**
 * Custodian's own problem types (docs/problems.md). A broken custody rule is a 409 naming the
 * rule; a request the ledger cannot record as it is, a 422; a ledger that cannot take appends
 * right now, a 503 the client may retry (with the same Idempotency-Key); a database that cannot
 * be reached, a 503 too (reads answer from it; the ledger does not need it).
 */
function domainProblem(exception: unknown): ProblemDetails | undefined {
  if (exception instanceof RuleViolation) {
    return {
      type: '/problems/rule-violated',
      title: 'A custody rule was broken',
      status: 409,
      detail: exception.message,
      rule: exception.rule,
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
  if (exception instanceof AppendOutcomeUnknownError) {
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
  if (isDatabaseUnavailable(exception)) {
    return {
      type: '/problems/database-unavailable',
      title: 'The read models cannot be reached right now',
      status: 503,
      detail: 'PostgreSQL did not answer. Steps are still recorded in the ledger; retry the read later.',
      retryable: true,
    };
  }
  return undefined;
}

function serverProblem(status: number, instance: string, incident: string): ProblemDetails {
  return {
    type: 'about:blank',
    title: statusTitle(status),
    status,
    detail: `The server could not complete the request. The incident is logged as ${incident}.`,
    instance,
    incident,
  };
}

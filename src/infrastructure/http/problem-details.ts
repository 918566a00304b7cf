import { HttpException, HttpStatus } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { isDatabaseUnavailable } from '../database/database-errors.js';

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

/**
 * The problems the capabilities' own errors are (a broken rule, a ledger that cannot take a
 * step): given by the application (src/problems.ts), which knows them all, so that this layer
 * knows none of them.
 */
export type DomainProblems = (exception: unknown) => ProblemDetails | undefined;

/** A database that cannot be reached: a read cannot be answered, but steps are still recorded. */
function databaseProblem(exception: unknown): ProblemDetails | undefined {
  if (!isDatabaseUnavailable(exception)) return undefined;
  return {
    type: '/problems/database-unavailable',
    title: 'The read models cannot be reached right now',
    status: 503,
    detail: 'PostgreSQL did not answer. Steps are still recorded in the ledger; retry the read later.',
    retryable: true,
  };
}

/** The problem an expected error is (raised on purpose, a domain error, a database outage), or undefined for an unexpected one. */
export function expectedProblem(exception: unknown, domain: DomainProblems): ProblemDetails | undefined {
  if (exception instanceof ProblemException) return exception.problem;
  return domain(exception) ?? databaseProblem(exception);
}

/**
 * Maps anything thrown while handling a request to problem details. Server-side failures
 * never leak internals: their detail names only an incident id that the log line carries too.
 */
export function toProblem(
  exception: unknown,
  instance: string,
  incidentId: () => string,
  domain: DomainProblems = () => undefined,
): ProblemDetails {
  const expected = expectedProblem(exception, domain);
  if (expected) return { ...expected, instance };
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

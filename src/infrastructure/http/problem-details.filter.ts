import { type ArgumentsHost, Catch, type ExceptionFilter, type LoggerService } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import {
  type DomainProblems,
  expectedProblem,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  RETRY_AFTER_SECONDS,
  toProblem,
} from './problem-details.js';

/**
 * Renders a problem and logs unexpected server-side failures with their incident id. An
 * expected 503 (Kafka or PostgreSQL down, a fenced or failed writer) is not logged per request:
 * the part that is down logs its own state changes once.
 */
export function sendProblem(
  exception: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: LoggerService,
  domain: DomainProblems,
): FastifyReply {
  const problem: ProblemDetails = toProblem(exception, request.url, randomUUID, domain);
  if (problem.status >= 500 && !expectedProblem(exception, domain)) {
    const stack = exception instanceof Error ? exception.stack : String(exception);
    logger.error(
      { message: 'request failed', incident: problem.incident, method: request.method, url: request.url },
      stack,
      'HTTP',
    );
  }
  if (problem.status === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}

/** The one place where errors thrown by route handlers become RFC 9457 responses. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(
    private readonly logger: LoggerService,
    private readonly domain: DomainProblems,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.logger, this.domain);
  }
}

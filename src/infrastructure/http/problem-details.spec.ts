import { describe, expect, it } from '@jest/globals';
import { BadRequestException, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { ProblemException, toProblem } from './problem-details.js';

const incident = () => 'incident-1';

describe('toProblem', () => {
  it('keeps the details of a problem the code raised on purpose', () => {
    const problem = { type: '/problems/rule-violated', title: 'Rule violated', status: 409, detail: 'not held' };
    expect(toProblem(new ProblemException(problem), '/x', incident)).toEqual({ ...problem, instance: '/x' });
  });

  it('turns an HTTP exception into a problem with the status phrase as title', () => {
    expect(toProblem(new NotFoundException('Cannot GET /nope'), '/nope', incident)).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'Cannot GET /nope',
      instance: '/nope',
    });
  });

  it('joins a list of messages into one detail', () => {
    const problem = toProblem(new BadRequestException(['a is wrong', 'b is wrong']), '/x', incident);
    expect(problem.detail).toBe('a is wrong; b is wrong');
  });

  it('keeps the status and message of a framework client error such as a too large body', () => {
    const error = Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    expect(toProblem(error, '/x', incident)).toMatchObject({
      status: 413,
      title: 'Payload Too Large',
      detail: 'Request body is too large',
    });
  });

  it('hides the internals of an unexpected error behind an incident id', () => {
    const problem = toProblem(new TypeError('cannot read x of undefined'), '/x', incident);
    expect(problem).toMatchObject({ status: 500, title: 'Internal Server Error', incident: 'incident-1' });
    expect(problem.detail).not.toContain('cannot read');
  });

  it('answers an unreachable database with a retryable 503, not a 500', () => {
    const error = Object.assign(new Error('database "x" is not currently accepting connections'), { code: '55000' });
    expect(toProblem(error, '/products/01/09506000134352/21/A', incident)).toEqual({
      type: '/problems/database-unavailable',
      title: 'The read models cannot be reached right now',
      status: 503,
      detail: 'PostgreSQL did not answer. Steps are still recorded in the ledger; retry the read later.',
      retryable: true,
      instance: '/products/01/09506000134352/21/A',
    });
  });

  it('hides the internals of a 5xx HTTP exception too', () => {
    const problem = toProblem(new ServiceUnavailableException('pool exhausted at 10.0.0.3'), '/x', incident);
    expect(problem).toMatchObject({ status: 503, title: 'Service Unavailable' });
    expect(problem.detail).not.toContain('10.0.0.3');
  });
});

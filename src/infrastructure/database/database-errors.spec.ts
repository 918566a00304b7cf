import { describe, expect, it } from '@jest/globals';
import { isDatabaseUnavailable } from './database-errors.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a database closed to connections', withCode('database "x" is not currently accepting connections', '55000')],
    ['a connection an administrator ended', withCode('terminating connection due to administrator command', '57P01')],
    ['a server starting up', withCode('the database system is starting up', '57P03')],
    ['a connection exception', withCode('connection failure', '08006')],
    ['a connection ended under a query', new Error('Connection terminated unexpectedly')],
    ['a connect that timed out', new Error('timeout exceeded when trying to connect')],
    [
      'TypeORM wrapping the driver error',
      Object.assign(new Error('Query failed'), { driverError: withCode('terminating connection', '57P01') }),
    ],
    ['every address refused', new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], 'connect failed')],
  ])('recognises %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a query error', withCode('relation "x" does not exist', '42P01')],
    ['an unrelated object state error', withCode('cannot do that now', '55000')],
    ['a programming error', new TypeError('cannot read x of undefined')],
    [
      'a Kafka connection error',
      Object.assign(withCode('Connection error: ECONNREFUSED', 'ECONNREFUSED'), { name: 'KafkaJSConnectionError' }),
    ],
    ['not an error', 'ECONNREFUSED'],
  ])('leaves alone %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

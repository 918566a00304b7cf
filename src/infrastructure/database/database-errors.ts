/**
 * Whether an error means the database cannot be reached right now (as opposed to a query that
 * is wrong): a refused, reset or timed-out connection, a server shutting down or starting up,
 * a connection ended by an administrator, a database closed to connections. Such a failure is
 * a 503 the client may retry (docs/problems.md), not a 500: nothing about the request is wrong.
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
]);

/** SQLSTATEs of an unavailable server: class 08 (connection exception) and these. */
const UNAVAILABLE_STATES = new Set([
  '57P01', // admin_shutdown: the connection was terminated (pg_terminate_backend, fast shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '53300', // too_many_connections
]);

/** What node-postgres says, without a code, when a connection ends or cannot be made in time. */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /is not currently accepting connections/,
  /^Client has encountered a connection error and is not queryable/,
];

function unavailable(error: object): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith('08'))) {
    return true;
  }
  return typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message));
}

export function isDatabaseUnavailable(error: unknown): boolean {
  // TypeORM wraps the driver's error (driverError), Node wraps causes, and a connection to a
  // host with several addresses fails with an AggregateError of each attempt.
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    // A Kafka client's connection error is the ledger's, mapped as such (ledger-unavailable).
    if (String((current as { name?: unknown }).name).startsWith('KafkaJS')) return false;
    if (unavailable(current)) return true;
    const { driverError, cause, errors } = current as { driverError?: unknown; cause?: unknown; errors?: unknown };
    pending.push(driverError, cause, ...(Array.isArray(errors) ? (errors as unknown[]) : []));
  }
  return false;
}

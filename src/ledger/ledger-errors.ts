/**
 * One error hierarchy for the ledger, in the manner of kafkajs: every error says whether
 * retrying can help, so callers (HTTP layer, tests, operators) can act on it.
 */
export abstract class LedgerError extends Error {
  abstract readonly retriable: boolean;
}

/** The request cannot become a record as it is (bad ids, payload not canonical JSON, ...). */
export class AppendRejectedError extends LedgerError {
  override name = 'AppendRejectedError';
  readonly retriable = false;
}

/** Kafka did not acknowledge the transaction; nothing of this batch is part of the ledger. */
export class LedgerUnavailableError extends LedgerError {
  override name = 'LedgerUnavailableError';
  readonly retriable = true;
}

/**
 * The commit was sent but its outcome is unknown (the answer was lost), and reading the
 * partition back did not settle it either. The record may be in the ledger: retry with the
 * same eventId, which lets the caller's idempotency find it.
 */
export class AppendOutcomeUnknownError extends LedgerError {
  override name = 'AppendOutcomeUnknownError';
  readonly retriable = true;
}

/** Another writer took over the partition (Kafka fenced our transactional id). */
export class WriterFencedError extends LedgerError {
  override name = 'WriterFencedError';
  readonly retriable = false;
}

/**
 * Another writer fenced this one after its commit was sent: the commit may have landed before
 * the fence (kafkajs resends a commit whose answer was lost). Nothing is read back to settle it
 * (that would fence the new writer in turn); retry with the same eventId, as for
 * AppendOutcomeUnknownError.
 */
export class WriterFencedAfterCommitError extends WriterFencedError {
  override name = 'WriterFencedAfterCommitError';
}

/** The partition read back does not verify; the writer refuses to extend a broken chain. */
export class LedgerIntegrityError extends LedgerError {
  override name = 'LedgerIntegrityError';
  readonly retriable = false;
}

/** The writer is stopping or stopped and takes no more appends. */
export class WriterClosedError extends LedgerError {
  override name = 'WriterClosedError';
  readonly retriable = true;
}

/**
 * An event id that is already in the ledger came again with a different request digest: the
 * caller reused an idempotency key for another request (docs/ledger-format.md, "requestDigest").
 */
export class EventIdConflictError extends LedgerError {
  override name = 'EventIdConflictError';
  readonly retriable = false;

  constructor(
    readonly eventId: string,
    message: string,
    /** The event ids of the request that are recorded already (EPCIS capture names their events). */
    readonly recorded: readonly string[] = [eventId],
  ) {
    super(message);
  }
}

/**
 * The same event id is in the batch being committed right now (two copies of one request
 * raced). Retrying once the first is committed returns its receipt.
 */
export class EventInFlightError extends LedgerError {
  override name = 'EventInFlightError';
  readonly retriable = true;

  constructor(
    readonly eventId: string,
    message: string,
  ) {
    super(message);
  }
}

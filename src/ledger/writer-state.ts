import {
  AppendOutcomeUnknownError,
  LedgerError,
  LedgerIntegrityError,
  LedgerUnavailableError,
  WriterClosedError,
  WriterFencedError,
} from './ledger-errors.js';

/**
 * new: not started; open: takes appends; unavailable: Kafka cannot be reached, the partition
 * is read back in the background; fenced: another writer took the partition over, this one
 * waits until that one is idle and takes it back; failed: the partition does not verify (or
 * changed behind the writer's back), nothing is appended until an operator acts; closed.
 */
export type WriterState = 'new' | 'open' | 'unavailable' | 'fenced' | 'failed' | 'closed';

export interface WriterStatus {
  readonly partition: number;
  readonly state: WriterState;
  /** Why the writer takes no appends (null while open). */
  readonly reason: string | null;
}

interface Transition {
  readonly from: WriterState;
  readonly to: WriterState;
  readonly when: string;
}

/**
 * Every change of state a partition writer makes, each once, with what causes it
 * (docs/ledger-format.md §8, "Writer"). A change not listed is a programming error.
 */
export const WRITER_TRANSITIONS: readonly Transition[] = [
  { from: 'new', to: 'open', when: 'start() verified the partition, or wrote genesis into an empty one' },
  { from: 'new', to: 'failed', when: 'start() found a partition that does not verify (or a genesis not the pinned one)' },
  { from: 'new', to: 'closed', when: 'close() before start()' },
  { from: 'open', to: 'unavailable', when: 'Kafka did not take a transaction, or its outcome could not be read back' },
  { from: 'open', to: 'fenced', when: 'another writer of the partition initialised after this one (WriterFencedError)' },
  { from: 'open', to: 'failed', when: 'a transaction found the partition changed behind the writer, or it read back a break' },
  { from: 'open', to: 'closed', when: 'close()' },
  { from: 'unavailable', to: 'open', when: 'the partition was read back and verified' },
  { from: 'unavailable', to: 'fenced', when: 'reading back found another writer initialised meanwhile' },
  { from: 'unavailable', to: 'failed', when: 'the partition read back does not verify' },
  { from: 'unavailable', to: 'closed', when: 'close(), which also ends the reading back' },
  { from: 'fenced', to: 'open', when: 'no record was appended for a whole interval: the partition was taken back and read' },
  { from: 'fenced', to: 'failed', when: 'the partition taken back does not verify' },
  { from: 'fenced', to: 'closed', when: 'close(), which also ends the waiting to take the partition back' },
  // close() does not interrupt a start() or a transaction under way, and either still ends in
  // its own state. That is how the writer has always behaved; making closed final would be a
  // change of behaviour of its own, not part of writing the states down.
  { from: 'closed', to: 'open', when: 'a start() under way when close() was called finished' },
  { from: 'closed', to: 'failed', when: 'a start() or transaction under way when close() was called found a break' },
];

const allowed = new Set(WRITER_TRANSITIONS.map(({ from, to }) => `${from}>${to}`));

export function isAllowedTransition(from: WriterState, to: WriterState): boolean {
  return allowed.has(`${from}>${to}`);
}

/** A transition the table does not list: a bug in the writer, which no caller can act on. */
export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';

  constructor(
    readonly from: WriterState,
    readonly to: WriterState,
  ) {
    super(`a partition writer cannot go from ${from} to ${to}`);
  }
}

/**
 * The state a failed Kafka operation leaves an open writer in; null when the failure is the
 * batch's own and the writer goes on (kafkajs's `retriable`, for the writer as a whole).
 */
export function stateAfterFailure(failure: LedgerError): 'unavailable' | 'fenced' | 'failed' | null {
  if (failure instanceof WriterFencedError) return 'fenced';
  if (failure instanceof LedgerIntegrityError) return 'failed';
  if (failure instanceof LedgerUnavailableError || failure instanceof AppendOutcomeUnknownError) return 'unavailable';
  return null;
}

/** An error from the log that is not the ledger's own: Kafka did not acknowledge, so a retry can help. */
export function asLedgerError(error: unknown, partition: number): LedgerError {
  if (error instanceof LedgerError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new LedgerUnavailableError(`partition ${partition}: the append was not acknowledged: ${message}`);
}

/** A partition writer's state, with the error that explains it, moved only along WRITER_TRANSITIONS. */
export class WriterStateMachine {
  private current: WriterState = 'new';
  private cause: LedgerError | null = null;

  constructor(
    private readonly partition: number,
    private readonly onStatus?: (status: WriterStatus) => void,
  ) {}

  get state(): WriterState {
    return this.current;
  }

  /** Why the writer takes no appends, or null while it does. */
  get reason(): string | null {
    if (this.current === 'open') return null;
    return this.cause?.message ?? `the writer is ${this.current}`;
  }

  describe(): WriterStatus {
    return { partition: this.partition, state: this.current, reason: this.reason };
  }

  /**
   * Moves to `to`, with the error that explains it (for unavailable, fenced and failed), and
   * tells onStatus once per change. Staying in the state is no transition; only a new cause
   * is told then.
   */
  transition(to: WriterState, cause: LedgerError | null = null): void {
    if (to !== this.current && !isAllowedTransition(this.current, to)) throw new IllegalTransitionError(this.current, to);
    const changed = to !== this.current || cause !== this.cause;
    this.current = to;
    this.cause = cause;
    if (changed) this.onStatus?.(this.describe());
  }

  /** What an append gets while the writer is not open. */
  refusal(): LedgerError {
    return this.cause ?? new WriterClosedError(`the writer of partition ${this.partition} is ${this.current}`);
  }
}

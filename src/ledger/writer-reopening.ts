import type { LedgerError } from './ledger-errors.js';
import type { RecoveredPartition } from './partition-recovery.js';
import type { PartitionLog } from './ports.js';
import { asLedgerError, stateAfterFailure } from './writer-state.js';

export interface ReopeningDelays {
  /** While Kafka is unreachable, the pause between two attempts to read the partition back (default 1000 ms). */
  readonly readBackDelayMs?: number;
  /**
   * A fenced writer looks at the partition after `initial` ms, then at doubling intervals up to
   * `max`, and takes it back once it saw no record appended for a whole interval (default 1,000
   * and 30,000 ms).
   */
  readonly reclaimDelayMs?: { readonly initial: number; readonly max: number };
}

/** What a writer that takes no appends (unavailable, fenced) waits with, to take them again. */
export interface Reopening {
  readonly partition: number;
  readonly log: PartitionLog;
  readonly delays: ReopeningDelays;
  /** Reads the partition back and verifies it. */
  recover(): Promise<RecoveredPartition>;
  /**
   * Whether the writer is still in the state it waits in. A function, not a value: close()
   * may change the state during every await.
   */
  stillWaiting(): boolean;
}

/** How a wait ended: the partition read back, or a failure that calls for another state; null once the writer left the state. */
export type ReopeningOutcome = { readonly recovered: RecoveredPartition } | { readonly failure: LedgerError } | null;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads the partition back, once every readBackDelayMs, until Kafka answers: with the chain it
 * read, or with a failure no retry mends (fenced, or the partition does not verify).
 */
export async function readBackUntilReachable(reopening: Reopening): Promise<ReopeningOutcome> {
  while (reopening.stillWaiting()) {
    try {
      return { recovered: await reopening.recover() };
    } catch (error) {
      const failure = asLedgerError(error, reopening.partition);
      const next = stateAfterFailure(failure);
      if (next === 'fenced' || next === 'failed') return { failure };
      await sleep(reopening.delays.readBackDelayMs ?? 1000);
    }
  }
  return null;
}

/**
 * Looks at the partition's end at doubling intervals until no record was appended for a whole
 * interval (the other writer stopped, or is idle), then fences that writer in turn (open()
 * again) and reads the partition back. Kafka's fencing, not this timing, keeps two writers
 * from forking the chain: whichever initialised last is the only one that can commit.
 */
export async function reclaimWhenIdle(reopening: Reopening): Promise<ReopeningOutcome> {
  const { initial, max } = reopening.delays.reclaimDelayMs ?? { initial: 1000, max: 30_000 };
  let delay = initial;
  let seenEnd: string | null = null;
  while (reopening.stillWaiting()) {
    await sleep(delay);
    if (!reopening.stillWaiting()) return null;
    try {
      const end = await reopening.log.end();
      if (end === seenEnd) return { recovered: await takeBack(reopening) };
      seenEnd = end;
    } catch (error) {
      const failure = asLedgerError(error, reopening.partition);
      if (stateAfterFailure(failure) === 'failed') return { failure };
      seenEnd = null;
    }
    delay = Math.min(delay * 2, max);
  }
  return null;
}

async function takeBack(reopening: Reopening): Promise<RecoveredPartition> {
  await reopening.log.open();
  return reopening.recover();
}

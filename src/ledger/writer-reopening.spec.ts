import { describe, expect, it } from '@jest/globals';
import { LedgerIntegrityError, WriterFencedError } from './ledger-errors.js';
import type { RecoveredPartition } from './partition-recovery.js';
import type { PartitionLog } from './ports.js';
import { readBackUntilReachable, reclaimWhenIdle, type Reopening } from './writer-reopening.js';

const RECOVERED = { head: {} } as RecoveredPartition;

/** A log whose end() answers the given ends in turn (the last one for ever), counting opens. */
function logWithEnds(...ends: string[]): PartitionLog & { opens: number } {
  let i = 0;
  return {
    partition: 0,
    opens: 0,
    open() {
      this.opens += 1;
      return Promise.resolve();
    },
    end: () => Promise.resolve(ends[Math.min(i++, ends.length - 1)] as string),
    readAll: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true, value: undefined }) }) }),
    appendTransaction: () => Promise.reject(new Error('not used')),
    close: () => Promise.resolve(),
  };
}

function reopening(recover: () => Promise<RecoveredPartition>, log = logWithEnds('5'), stillWaiting = () => true): Reopening {
  return { partition: 0, log, delays: { readBackDelayMs: 1, reclaimDelayMs: { initial: 1, max: 4 } }, recover, stillWaiting };
}

describe('reading back while Kafka cannot be reached', () => {
  it('tries again until the partition can be read, and returns what it read', async () => {
    let attempts = 0;
    const recover = () => (++attempts < 3 ? Promise.reject(new Error('broker down')) : Promise.resolve(RECOVERED));
    expect(await readBackUntilReachable(reopening(recover))).toEqual({ recovered: RECOVERED });
    expect(attempts).toBe(3);
  });

  it('stops at a failure no retry mends: fenced, or a partition that does not verify', async () => {
    const fenced = new WriterFencedError('another writer');
    expect(await readBackUntilReachable(reopening(() => Promise.reject(fenced)))).toEqual({ failure: fenced });
    const broken = new LedgerIntegrityError('broken');
    expect(await readBackUntilReachable(reopening(() => Promise.reject(broken)))).toEqual({ failure: broken });
  });

  it('gives up once the writer left the state (closed meanwhile)', async () => {
    let waiting = true;
    const recover = () => {
      waiting = false;
      return Promise.reject(new Error('broker down'));
    };
    expect(await readBackUntilReachable(reopening(recover, logWithEnds('5'), () => waiting))).toBeNull();
  });
});

describe('reclaiming a fenced partition', () => {
  it('takes the partition back once its end did not move for a whole interval, fencing the other writer first', async () => {
    const log = logWithEnds('5', '7', '9', '9');
    expect(await reclaimWhenIdle(reopening(() => Promise.resolve(RECOVERED), log))).toEqual({ recovered: RECOVERED });
    expect(log.opens).toBe(1);
  });

  it('does not take it back while the other writer keeps appending', async () => {
    let looks = 0;
    const log = logWithEnds(...Array.from({ length: 50 }, (_, i) => String(i)));
    const stillWaiting = () => ++looks < 40;
    expect(await reclaimWhenIdle(reopening(() => Promise.resolve(RECOVERED), log, stillWaiting))).toBeNull();
    expect(log.opens).toBe(0);
  });

  it('returns a partition that does not verify as the failure', async () => {
    const broken = new LedgerIntegrityError('broken');
    expect(await reclaimWhenIdle(reopening(() => Promise.reject(broken), logWithEnds('5')))).toEqual({ failure: broken });
  });
});

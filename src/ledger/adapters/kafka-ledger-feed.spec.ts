import { describe, expect, it } from '@jest/globals';
import { KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { retriableKafkaError, startRetrying } from './kafka-ledger-feed.js';

/** The error a group coordinator answers while it loads its offsets, as kafkajs builds it. */
function coordinatorLoading(): Error {
  return new KafkaJSProtocolError({
    message: "The coordinator is loading and hence can't process requests for this group",
    type: 'COORDINATOR_LOAD_IN_PROGRESS',
    code: 14,
    retriable: true,
  } as unknown as Error);
}

/** Starts that crash with the given errors, one per start, then start cleanly. */
function starts(crashes: unknown[]): { start: () => Promise<{ crash: unknown; n: number }>; count: () => number } {
  let n = 0;
  return {
    start: () => Promise.resolve({ crash: crashes[n] ?? null, n: n++ }),
    count: () => n,
  };
}

describe('retriableKafkaError', () => {
  it('is true for what kafkajs itself restarts on, false for the rest', () => {
    expect(retriableKafkaError(coordinatorLoading())).toBe(true);
    expect(retriableKafkaError(new KafkaJSNumberOfRetriesExceeded(new Error('gave up'), { retryCount: 5, retryTime: 100 }))).toBe(
      true,
    );
    expect(retriableKafkaError(new KafkaJSNonRetriableError('topic authorization failed'))).toBe(false);
    expect(retriableKafkaError(new Error('plain'))).toBe(false);
    expect(retriableKafkaError('not an error')).toBe(false);
    // The original cause decides, as in kafkajs.
    const wrapped = new Error('joining failed', { cause: coordinatorLoading() });
    expect(retriableKafkaError(wrapped)).toBe(true);
  });
});

describe('startRetrying', () => {
  const noSleep = { sleep: () => Promise.resolve(), stopped: () => false };

  it('starts again while the start crashes on a retriable error, then returns the start that did not crash', async () => {
    const s = starts([coordinatorLoading(), coordinatorLoading()]);
    const slept: number[] = [];
    const started = await startRetrying(s.start, {
      ...noSleep,
      delaysMs: [10, 20, 30],
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    });
    expect(started).toEqual({ crash: null, n: 2 });
    expect(slept).toEqual([10, 20]);
  });

  it('throws a crash that is not retriable at once', async () => {
    const fatal = new KafkaJSNonRetriableError('topic authorization failed');
    const s = starts([fatal]);
    await expect(startRetrying(s.start, noSleep)).rejects.toBe(fatal);
    expect(s.count()).toBe(1);
  });

  it('throws the last crash once the pauses are used up', async () => {
    const crashes = [coordinatorLoading(), coordinatorLoading(), coordinatorLoading()];
    const s = starts(crashes);
    await expect(startRetrying(s.start, { ...noSleep, delaysMs: [1, 1] })).rejects.toBe(crashes[2]);
    expect(s.count()).toBe(3);
  });

  it('returns quietly when the start crashed after a stop, whatever the error', async () => {
    const s = starts([new KafkaJSNonRetriableError('the consumer was disconnected')]);
    await expect(startRetrying(s.start, { ...noSleep, stopped: () => true })).resolves.toBeNull();
    expect(s.count()).toBe(1);
  });

  it('tries no start again past its time budget, counted from the first', async () => {
    let clock = 0;
    const crashes = [coordinatorLoading(), coordinatorLoading(), coordinatorLoading()];
    const s = starts(crashes);
    const slow = async () => {
      clock += 3_000; // each start takes 3 s (kafkajs retried inside it)
      return s.start();
    };
    await expect(startRetrying(slow, { ...noSleep, delaysMs: [100, 100, 100], budgetMs: 4_000, now: () => clock })).rejects.toBe(
      crashes[1],
    );
    expect(s.count()).toBe(2);
  });

  it('ends a pause as soon as it is interrupted (stop() during the pause)', async () => {
    const s = starts([coordinatorLoading(), coordinatorLoading()]);
    let stopped = false;
    let interrupt: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
    const t0 = Date.now();
    const running = startRetrying(s.start, { stopped: () => stopped, interrupted, delaysMs: [60_000], budgetMs: 120_000 });
    setTimeout(() => {
      stopped = true;
      interrupt();
    }, 20);
    await expect(running).resolves.toBeNull();
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(s.count()).toBe(1);
  });

  it('starts no more once stopped during a pause', async () => {
    const s = starts([coordinatorLoading(), coordinatorLoading()]);
    let stopped = false;
    const started = await startRetrying(s.start, {
      stopped: () => stopped,
      sleep: () => {
        stopped = true;
        return Promise.resolve();
      },
    });
    expect(started).toBeNull();
    expect(s.count()).toBe(1);
  });
});

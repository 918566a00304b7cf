import { describe, expect, it } from '@jest/globals';
import { AppendQueue, type BatchCommitter, type WaitingGroup } from './append-queue.js';
import type { AppendReceipt, AppendRequest } from './ledger-record.js';

/** A group of `size` requests, named for the test; it records how it was answered. */
function group(name: string, size: number): WaitingGroup & { name: string; answer?: string } {
  const requests = Array.from({ length: size }, () => ({}) as AppendRequest);
  const waiting: WaitingGroup & { name: string; answer?: string } = {
    name,
    requests,
    resolve: (receipts: AppendReceipt[]) => (waiting.answer = `${receipts.length} receipts`),
    reject: (error: Error) => (waiting.answer = error.message),
  };
  return waiting;
}

const names = (groups: readonly WaitingGroup[]) => groups.map((g) => (g as ReturnType<typeof group>).name);

/** A committer that holds each batch until released, and records the batches it was handed. */
function heldCommitter() {
  const batches: string[][] = [];
  const releases: (() => void)[] = [];
  let open = true;
  const committer: BatchCommitter = {
    commit: (groups) => {
      batches.push(names(groups));
      return new Promise<void>((resolve) => releases.push(resolve));
    },
    settled: () => Promise.resolve(),
    takesAppends: () => open,
    refusal: () => new Error('the writer is closed'),
  };
  return {
    committer,
    batches,
    release: async () => {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    },
    close: () => (open = false),
  };
}

/** A queue whose committer never finishes the first batch, so that what is added later waits. */
function queueHoldingFirstBatch(maxBatch: number, maxBatchBytes?: number) {
  const held = heldCommitter();
  const queue = new AppendQueue({ maxBatch, ...(maxBatchBytes ? { maxBatchBytes } : {}) }, held.committer);
  queue.add(group('in-flight', 1));
  return { queue, ...held };
}

describe('AppendQueue', () => {
  it('hands the first group over at once, and the groups that arrive meanwhile as the next batch (group commit)', async () => {
    const { queue, batches, release } = queueHoldingFirstBatch(100);
    expect(batches).toEqual([['in-flight']]);
    queue.add(group('a', 1));
    queue.add(group('b', 2));
    expect(batches).toHaveLength(1);
    await release();
    expect(batches).toEqual([['in-flight'], ['a', 'b']]);
    await release();
    await queue.idle();
  });

  it('takes groups in order up to maxBatch appends, never splitting one', () => {
    const { queue } = queueHoldingFirstBatch(5);
    for (const [name, size] of [
      ['a', 2],
      ['b', 2],
      ['c', 2],
      ['d', 3],
    ] as const) {
      queue.add(group(name, size));
    }
    expect(names(queue.takeBatch())).toEqual(['a', 'b']);
    expect(names(queue.takeBatch())).toEqual(['c', 'd']);
    expect(queue.takeBatch()).toEqual([]);
  });

  it('takes a group larger than maxBatch alone, as a group is never split', () => {
    const { queue } = queueHoldingFirstBatch(3);
    queue.add(group('small', 1));
    queue.add(group('large', 5));
    queue.add(group('after', 1));
    expect(names(queue.takeBatch())).toEqual(['small']);
    expect(names(queue.takeBatch())).toEqual(['large']);
    expect(names(queue.takeBatch())).toEqual(['after']);
  });

  it('puts groups left out of a transaction back first, in their order, ahead of later ones', () => {
    const { queue } = queueHoldingFirstBatch(10);
    queue.add(group('a', 1));
    queue.add(group('b', 1));
    const taken = queue.takeBatch();
    queue.add(group('later', 1));
    queue.putBack(taken);
    expect(names(queue.takeBatch())).toEqual(['a', 'b', 'later']);
  });

  it('keeps room for the checkpoint: a group over the room waits for the next batch, or alone is too large', () => {
    const queue = new AppendQueue({ maxBatch: 10, maxBatchBytes: 10_000 }, heldCommitter().committer);
    expect(queue.roomBytes).toBe(10_000 - 2048);
    expect(queue.place(queue.roomBytes, false)).toBe('in-batch');
    expect(queue.place(queue.roomBytes + 1, false)).toBe('next-batch');
    expect(queue.place(queue.roomBytes + 1, true)).toBe('too-large');
    expect(new AppendQueue({ maxBatch: 1 }, heldCommitter().committer).roomBytes).toBe(900_000 - 2048);
  });

  it('refuses what waits once the writer no longer takes appends', async () => {
    const { queue, batches, release, close } = queueHoldingFirstBatch(100);
    const waiting = group('waiting', 1);
    queue.add(waiting);
    close();
    await release();
    await queue.idle();
    expect(batches).toEqual([['in-flight']]);
    expect(waiting.answer).toBe('the writer is closed');
  });

  it('hands a group that arrives while a batch is in flight over at once (pipelined), and stops only once nothing is in flight', async () => {
    const batches: string[][] = [];
    let land!: () => void;
    let inFlight: Promise<void> | null = null;
    const queue = new AppendQueue(
      { maxBatch: 100 },
      {
        // Each batch is sent and stays in flight until `land`; commit itself resolves at once.
        commit: (groups) => {
          batches.push(names(groups));
          inFlight = new Promise<void>((resolve) => (land = resolve));
          return Promise.resolve();
        },
        settled: () => inFlight ?? Promise.resolve(),
        takesAppends: () => true,
        refusal: () => new Error('the writer is closed'),
      },
    );
    let idle = false;
    queue.add(group('first', 1));
    void queue.idle().then(() => (idle = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([['first']]);
    queue.add(group('while-in-flight', 1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([['first'], ['while-in-flight']]);
    expect(idle).toBe(false);
    land();
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle).toBe(true);
  });

  it('takes groups up to a room in order, and none when the first does not fit', () => {
    const { queue } = queueHoldingFirstBatch(100);
    for (const [name, size] of [
      ['a', 2],
      ['b', 3],
      ['c', 1],
    ] as const)
      queue.add(group(name, size));
    expect(queue.takeUpTo(1)).toEqual([]);
    expect(names(queue.takeUpTo(5))).toEqual(['a', 'b']);
    expect(names(queue.takeUpTo(5))).toEqual(['c']);
  });

  it('rejects every waiting group with an error of its own', () => {
    const { queue } = queueHoldingFirstBatch(100);
    const [a, b] = [group('a', 1), group('b', 1)];
    queue.add(a);
    queue.add(b);
    let n = 0;
    queue.rejectAll(() => new Error(`refusal ${++n}`));
    expect([a.answer, b.answer]).toEqual(['refusal 1', 'refusal 2']);
    expect(queue.takeBatch()).toEqual([]);
  });
});

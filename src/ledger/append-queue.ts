import type { AppendReceipt, AppendRequest } from './ledger-record.js';

/** Requests appended together: all of them in one transaction, in order, or none. */
export interface WaitingGroup {
  readonly requests: readonly AppendRequest[];
  resolve(receipts: AppendReceipt[]): void;
  reject(error: Error): void;
}

export interface AppendQueueLimits {
  /** Most appends one transaction carries (the checkpoint comes on top). */
  readonly maxBatch: number;
  /**
   * Most bytes of records one transaction carries: Kafka refuses a produce request larger than
   * the topic's max.message.bytes (1 MiB by default). A group that would not fit waits for the
   * next transaction; one that fits in none is refused. Default 900,000.
   */
  readonly maxBatchBytes?: number;
}

/** What the queue hands its batches to: the writer, which commits each as one transaction. */
export interface BatchCommitter {
  /**
   * Drafts one batch and sends it, answering every group of it (or putting some back). It may
   * resolve while the batch's transaction is still in flight (a pipelined writer drafts the
   * next batch meanwhile); `settled` waits for that. Groups whose answers waited for that
   * transaction may then be put back (a refusal that rested on it, when it was not committed):
   * that happens before `settled` resolves, so the pump, which waits for it, takes them.
   */
  commit(groups: readonly WaitingGroup[]): Promise<void>;
  /** Resolves once no transaction is in flight. */
  settled(): Promise<void>;
  /** Whether the writer takes appends: while it does not, what waits is refused. */
  takesAppends(): boolean;
  /** What a group gets that the writer no longer takes. */
  refusal(): Error;
}

/** Where a group goes, once its records are drafted after those of the groups before it. */
export type Placement = 'in-batch' | 'next-batch' | 'too-large';

/** Room kept in every transaction for its checkpoint record. */
const CHECKPOINT_RESERVE_BYTES = 2048;

/**
 * The groups waiting for a transaction, handed to the writer one batch at a time: groups that
 * arrive while a batch is being committed form the next one (group commit). The rules that
 * cut batches (docs/ledger-format.md §8, "Groups"): a batch holds at most maxBatch appends and
 * maxBatchBytes of records; a group is never split, so one larger than maxBatch goes alone;
 * a group that would not fit waits for the next batch, ahead of every group that came later.
 * A group's bytes are known only once its records are built, so the draft asks `place`.
 */
export class AppendQueue {
  /** Bytes of records a transaction holds besides its checkpoint. */
  readonly roomBytes: number;
  private readonly waiting: WaitingGroup[] = [];
  private pumping = false;
  /** Who waits for the next group to arrive (the pump, or a batch drafted while another is in flight). */
  private arrivals: (() => void)[] = [];
  private drained: Promise<void> = Promise.resolve();
  /** Each group's place in the order of arrival: what is put back goes where it came. */
  private readonly arrivalOf = new WeakMap<WaitingGroup, number>();
  private arrived = 0;

  constructor(
    private readonly limits: AppendQueueLimits,
    private readonly committer: BatchCommitter,
  ) {
    this.roomBytes = (limits.maxBatchBytes ?? 900_000) - CHECKPOINT_RESERVE_BYTES;
  }

  /** Queues a group, and starts committing batches unless a batch is being committed already. */
  add(group: WaitingGroup): void {
    this.arrivalOf.set(group, this.arrived++);
    this.waiting.push(group);
    if (!this.pumping) {
      this.pumping = true;
      this.drained = this.pump();
    } else {
      for (const arrived of this.arrivals.splice(0)) arrived();
    }
  }

  /** Resolves when the next group arrives while the pump runs (a batch drafted meanwhile takes it, if it has room). */
  arrival(): Promise<'arrived'> {
    return new Promise((resolve) => {
      this.arrivals.push(() => {
        resolve('arrived');
      });
    });
  }

  /** Resolves once no batch is being committed. */
  idle(): Promise<void> {
    return this.drained;
  }

  /**
   * Commits batches until none waits and none is in flight. A group that arrives while a batch
   * is in flight is handed over at once, to be drafted on it (a pipelined writer); a batch that
   * fails puts the one drafted after it back. `pumping` is cleared in the same tick as the last
   * look at the queue, so a group can never be left waiting with no pump running.
   */
  private async pump(): Promise<void> {
    try {
      for (;;) {
        if (this.waiting.length > 0 && this.committer.takesAppends()) {
          await this.committer.commit(this.takeBatch());
          continue;
        }
        // Nothing to hand over: wait until nothing is in flight, or a group arrives meanwhile.
        const idle = await Promise.race([this.committer.settled().then(() => 'idle' as const), this.arrival()]);
        if (idle === 'idle' && (this.waiting.length === 0 || !this.committer.takesAppends())) break;
      }
      if (!this.committer.takesAppends()) this.rejectAll(() => this.committer.refusal());
    } finally {
      this.pumping = false;
    }
  }

  /** The waiting groups that fit in maxBatch appends, in order; at least one (a group larger than maxBatch goes alone). */
  takeBatch(): WaitingGroup[] {
    const fitting = this.takeUpTo(this.limits.maxBatch);
    return fitting.length > 0 ? fitting : this.waiting.splice(0, 1);
  }

  /** The waiting groups, in order, that fit together in `room` appends (none when the first does not). */
  takeUpTo(room: number): WaitingGroup[] {
    let count = 0;
    let take = 0;
    for (const group of this.waiting) {
      if (count + group.requests.length > room) break;
      count += group.requests.length;
      take += 1;
    }
    return this.waiting.splice(0, take);
  }

  /**
   * Whether a group whose records bring the batch to `bytes` goes in it, waits for the next
   * one (groups before it are in this one), or fits in no transaction (`first`: it is alone).
   */
  place(bytes: number, first: boolean): Placement {
    if (bytes <= this.roomBytes) return 'in-batch';
    return first ? 'too-large' : 'next-batch';
  }

  /**
   * Groups taken but left out of the transaction go back where they arrived: ahead of every
   * group that came later. Groups put back by two batches (a refusal withdrawn from one, the
   * batch drafted on it) keep their order of arrival between them too.
   */
  putBack(groups: readonly WaitingGroup[]): void {
    const last = groups.at(-1);
    if (!last) return;
    // Both are in order of arrival (the queue always is): they need merging only when they overlap.
    const first = this.waiting[0];
    this.waiting.unshift(...groups);
    const order = (group: WaitingGroup) => this.arrivalOf.get(group) ?? -1;
    if (first && order(first) < order(last)) this.waiting.sort((a, b) => order(a) - order(b));
  }

  /** Empties the queue, rejecting each group with the error `refusal` gives it. */
  rejectAll(refusal: () => Error): void {
    for (const group of this.waiting.splice(0)) group.reject(refusal());
  }
}

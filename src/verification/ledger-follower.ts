import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readHere, type RecordReader } from '../ledger/chain-verifier.js';
import type { LedgerFeed, SnapshotStore, StoredEntry } from '../ledger/ports.js';
import { baseOf, FollowedPartition, type FollowerSnapshotEvent, type WantedProofs } from './followed-partition.js';
import type { LedgerReading, LedgerSource } from './partition-scan.js';
import { PhaseTimings } from './phase-timings.js';

export type { FollowerSnapshotEvent, WantedProofs } from './followed-partition.js';

/** Where a partition's records are in the topic now: from `start` (earlier ones were deleted) to `end`. */
export interface PartitionOffsets {
  readonly start: string;
  readonly end: string;
}

export interface LedgerFollowerOptions {
  readonly source: LedgerSource;
  /** The ledger topic, read_committed (the projector's kind of feed, a group of its own). */
  readonly feed: LedgerFeed;
  /**
   * The partition's offsets now. The end is the high watermark: it may include a transaction
   * not committed yet, which the follower then waits for (read_committed, it sees its records
   * or skips them once the transaction ends).
   */
  readonly offsets: (partition: number) => Promise<PartitionOffsets>;
  /**
   * The writer's snapshots (docs/ledger-format.md §11): with them and `readFrom`, a partition
   * is followed from its newest snapshot that checks out against the topic, not from offset 0,
   * and moves on to a newer one after `rebaseAfter` records.
   */
  readonly snapshots?: SnapshotStore;
  /** The partition's committed entries from an offset to its end now (read_committed). */
  readonly readFrom?: (partition: number, offset: string) => AsyncIterable<StoredEntry>;
  readonly onSnapshot?: (event: FollowerSnapshotEvent) => void;
  /**
   * Records followed past the base after which the follower starts again from the writer's
   * newest snapshot (default 50,000): what it keeps of each record stays that many at most.
   */
  readonly rebaseAfter?: number;
  /** A directory for the spill files (created; the files are deleted on stop). */
  readonly spillDir: string;
  /** How long a reading waits for the follower to reach the end before giving up (null). */
  readonly catchUpWaitMs: number;
  readonly retryMs?: number;
  readonly onError?: (error: Error) => void;
  /** Where records are decoded and hashed (default: on this thread); closed by stop(). */
  readonly reader?: RecordReader;
  /** Called last by stop(): to release what `offsets` uses. */
  readonly onStop?: () => Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Offsets behind the end beyond which a reading does not wait (the follower verifies some 30,000 a second). */
const MAX_LAG_TO_WAIT = 50_000n;

/** The value of `work`, or null when it fails or takes longer than `ms`. */
async function within<T>(ms: number, work: Promise<T>, onError: (error: Error) => void): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => {
      resolve(null);
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } catch (error) {
    onError(error as Error);
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A verified view of every partition of the ledger, kept by following the topic
 * (docs/attestation-format.md §1): every record is verified once, as it arrives, exactly as a
 * full read verifies it, and indexed by entity. An attestation then asks for the view at the
 * topic's end as it is at that moment: it waits only for the tail written since, not for a read
 * of the whole partition. With the writer's snapshots (§1.1), a start follows each partition
 * from its newest snapshot that checks out against the topic and the ledger key, and reads what
 * the snapshot covers from its store, held against what it signs; without one, from offset 0.
 * The full audit still reads everything again. Whenever the view cannot stand for a full read
 * (not caught up yet, records deleted from the topic, another genesis pin, a spill file or a
 * snapshot store that changed), `reading` answers null and the attestation reads the partition
 * in full.
 */
export class LedgerFollower {
  private readonly partitions: FollowedPartition[] = [];
  /** Each partition's push under way (the feed awaits one at a time). */
  private readonly pushing: (Promise<void> | null)[] = [];
  /** Partitions moving to a newer base, and the size below which each is not tried again. */
  /** Rebases under way, by partition: stop() waits for them before it ends the reader. */
  private readonly rebasing = new Map<number, Promise<void>>();
  private readonly rebaseAt: number[] = [];
  private generation = 0;
  private starting: Promise<void> | null = null;
  /** Partitions replaced by a rebase, closed a minute later or on stop. */
  private readonly retired = new Set<FollowedPartition>();
  private directory: string | null = null;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private following: Promise<void> | null = null;

  constructor(private readonly options: LedgerFollowerOptions) {}

  /**
   * Starts following: resolves once every partition has its base (the topic is then read in the
   * background). Readings that come before wait for it, as for the tail.
   */
  start(): Promise<void> {
    this.starting ??= this.begin();
    return this.starting;
  }

  private async begin(): Promise<void> {
    const { source, spillDir } = this.options;
    // Spill files of an earlier process of this ledger that was killed before it could delete
    // them. (A process still running keeps reading its own: an open file outlives its name.)
    const ledgerDir = join(spillDir, 'verifier', source.ledgerId);
    rmSync(ledgerDir, { recursive: true, force: true });
    mkdirSync(ledgerDir, { recursive: true, mode: 0o700 });
    const directory = mkdtempSync(join(ledgerDir, 'run-'));
    this.directory = directory;
    for (let partition = 0; partition < source.partitions; partition++) {
      const pin = await source.genesisPin(partition);
      const base = await baseOf(this.options, partition, pin);
      this.partitions.push(
        new FollowedPartition(partition, source, pin, this.spillFile(partition), base, this.options.reader ?? readHere),
      );
    }
    this.following = this.follow();
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.options.feed.run(
          new Map(this.partitions.map((p) => [p.partition, p.fetchedTo.toString()])),
          (partition, entries) => this.push(partition, entries),
          (partition, fetchedTo) => {
            const followed = this.partitions[partition];
            if (followed && BigInt(fetchedTo) > followed.fetchedTo) followed.fetchedTo = BigInt(fetchedTo);
          },
        );
      } catch (error) {
        this.options.onError?.(error as Error);
      }
      // stop() may have come while the feed ran (a read TypeScript would narrow away).
      if (!this.isStopped()) await sleep(this.options.retryMs ?? 1000);
    }
  }

  private isStopped(): boolean {
    return this.stopped;
  }

  private spillFile(partition: number): string {
    this.generation += 1;
    return join(this.directory ?? '.', `partition-${partition}.${this.generation}.records`);
  }

  private push(partition: number, entries: readonly StoredEntry[]): Promise<void> {
    const followed = this.partitions[partition];
    if (!followed) return Promise.resolve();
    const pushing = followed.push(entries).finally(() => {
      if (this.pushing[partition] === pushing) this.pushing[partition] = null;
    });
    this.pushing[partition] = pushing;
    const after = this.options.rebaseAfter ?? 50_000;
    if (
      this.options.snapshots &&
      followed.size - followed.first >= after &&
      followed.size >= (this.rebaseAt[partition] ?? 0) &&
      !this.rebasing.has(partition)
    ) {
      this.rebaseAt[partition] = followed.size + Math.ceil(after / 2);
      this.rebasing.set(
        partition,
        this.rebase(partition, followed)
          .catch((error: unknown) => this.options.onError?.(error as Error))
          .finally(() => {
            this.rebasing.delete(partition);
          }),
      );
    }
    return pushing;
  }

  /**
   * Starts the partition again from the writer's newest snapshot, off the feed: a new followed
   * partition reads and verifies the topic from the snapshot on until it stands where the one
   * in use stands, then takes its place between two runs of the feed (which then goes on with
   * it). What the old one kept of each record is let go; it answers the readings under way.
   */
  private async rebase(partition: number, current: FollowedPartition): Promise<void> {
    const { readFrom, source } = this.options;
    if (!readFrom) return;
    const stored = await this.options.snapshots?.partition(partition).latest();
    // Not worth it unless the newest snapshot lets go of half of what is kept.
    if (!stored || stored.body.treeSize + 1 - current.first < (current.size - current.first) / 2) return;
    const pin = await source.genesisPin(partition);
    const base = await baseOf(this.options, partition, pin);
    if (!base) return;
    const next = new FollowedPartition(partition, source, pin, this.spillFile(partition), base, this.options.reader ?? readHere);
    let placed = false;
    try {
      for (;;) {
        let chunk: StoredEntry[] = [];
        for await (const entry of readFrom(partition, next.pushedUpTo.toString())) {
          if (this.isStopped()) return;
          chunk.push(entry);
          if (chunk.length >= 2_000) {
            await next.push(chunk);
            chunk = [];
          }
        }
        await next.push(chunk);
        if (this.isStopped() || this.partitions[partition] !== current || !next.healthy) return;
        await this.pushing[partition];
        // Between two runs of the feed, with nothing read that the new one lacks: take its place.
        if (this.pushing[partition] === null && next.pushedUpTo >= current.pushedUpTo) {
          next.fetchedTo = [current.fetchedTo, next.fetchedTo, next.pushedUpTo].reduce((a, b) => (a > b ? a : b));
          this.partitions[partition] = next;
          placed = true;
          this.rebaseAt[partition] = next.size + (this.options.rebaseAfter ?? 50_000);
          // Readings under way keep the old one a little longer.
          this.retired.add(current);
          setTimeout(() => {
            if (this.retired.delete(current)) current.close();
          }, 60_000).unref();
          return;
        }
      }
    } finally {
      if (!placed) next.close();
    }
  }

  /**
   * The verified view of the partition, up to at least the end the topic has now, with the
   * entity's records; null when it cannot stand for a full read of the partition now.
   * `wanted`: the proofs the attestation will give.
   */
  async reading(
    partition: number,
    subject: string,
    wanted: WantedProofs = { inclusion: true, fromSizes: [] },
    phases: PhaseTimings = new PhaseTimings(),
  ): Promise<LedgerReading | null> {
    const deadline = Date.now() + this.options.catchUpWaitMs;
    const report = (error: Error) => this.options.onError?.(error);
    if (
      !this.starting ||
      !(await within(
        this.options.catchUpWaitMs,
        this.starting.then(() => true),
        report,
      ))
    )
      return null;
    const followed = this.partitions[partition];
    if (!followed) return null;
    // Read before the offsets are asked for: the follower may fetch more while they are.
    const read = followed.fetchedTo;
    // The genesis pin is asked for meanwhile (PostgreSQL and Kafka, one round trip each, at once).
    const pinning = phases.time('pin', () =>
      within(
        this.options.catchUpWaitMs,
        this.options.source.genesisPin(partition).then((pin) => ({ pin })),
        report,
      ),
    );
    const offsets = await phases.time('offsets', () =>
      within(this.options.catchUpWaitMs, this.options.offsets(partition), report),
    );
    if (!offsets) return null;
    const end = BigInt(offsets.end);
    // Records deleted from the start, or a topic now shorter than what was read: the view no
    // longer describes the topic; a full read says what happened.
    if (BigInt(offsets.start) > 0n || end < read) return null;
    // Far behind (still reading a long partition after a start): more than a few seconds of
    // verification to wait for, after which the attestation would read the partition anyway.
    if (end - followed.fetchedTo > MAX_LAG_TO_WAIT) return null;
    const caughtUp = await phases.time('catch-up', async () => {
      while (followed.fetchedTo < end && !followed.verifier.failure) {
        if (Date.now() >= deadline) return false;
        await sleep(2);
      }
      return true;
    });
    if (!caughtUp) return null;
    const pinned = await pinning;
    if (!pinned || !followed.agreesWith(pinned.pin)) return null;
    try {
      return await phases.time('view', () => followed.reading(subject, wanted));
    } catch (error) {
      // The spill file or the snapshot's store no longer holds what was verified: read the partition instead.
      report(error as Error);
      return null;
    }
  }

  /** How far each partition is followed: for health and benchmarks. */
  progress(): { partition: number; fetchedTo: string; verified: number; from: number }[] {
    return this.partitions.map((p) => ({
      partition: p.partition,
      fetchedTo: p.fetchedTo.toString(),
      verified: p.size,
      // The first record verified from the topic (the ones before: the base snapshot's).
      from: p.first,
    }));
  }

  /** Stops following and lets go of what it kept; once (a second call waits for the first). */
  stop(): Promise<void> {
    this.stopping ??= this.end();
    return this.stopping;
  }

  private async end(): Promise<void> {
    this.stopped = true;
    try {
      await this.options.feed.stop();
      await this.following;
      await Promise.all(this.rebasing.values());
    } finally {
      for (const followed of [...this.partitions, ...this.retired]) followed.close();
      this.retired.clear();
      if (this.directory) rmSync(this.directory, { recursive: true, force: true });
      await this.options.reader?.close?.();
      await this.options.onStop?.();
    }
  }
}

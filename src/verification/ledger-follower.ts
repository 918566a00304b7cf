import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ChainVerifier } from '../ledger/chain-verifier.js';
import type { Hash } from '../ledger/hashing.js';
import type { StoredRecord } from '../ledger/ledger-record.js';
import { MerkleProofs } from '../ledger/merkle-tree.js';
import type { StoredEntry } from '../ledger/ports.js';
import { decodeRecord } from '../ledger/record-codec.js';
import type { LedgerFeed } from '../ledger/ports.js';
import type { LedgerReading, LedgerSource } from './partition-scan.js';
import { RecordSpill } from './record-spill.js';

/** One partition as followed: verified record by record, indexed by entity, bytes spilled. */
class FollowedPartition {
  readonly verifier: ChainVerifier;
  readonly proofs: MerkleProofs;
  /** The offset after the last fetched entry or transaction marker. */
  fetchedTo = 0n;
  /** The offset after the last entry pushed: an entry Kafka delivers again is not pushed twice. */
  private pushedTo = 0n;
  private readonly spill: RecordSpill;
  private readonly offsets: number[] = [];
  private readonly byEntity = new Map<string, number[]>();
  /** Bytes of records read but not yet covered by a checkpoint, by offset. */
  private readonly unverified = new Map<string, Uint8Array>();
  private genesis: StoredRecord | null = null;

  constructor(
    readonly partition: number,
    source: LedgerSource,
    /** The genesis pin the verifier started with. */
    private pin: Hash | null,
    spillFile: string,
  ) {
    this.verifier = new ChainVerifier({
      ledgerId: source.ledgerId,
      partition,
      verifier: source.ledgerKey,
      genesisHash: pin ?? undefined,
    });
    const hashes = this.verifier.recordHashes;
    this.proofs = new MerkleProofs((i) => hashes.at(i), 0);
    this.spill = new RecordSpill(spillFile);
  }

  push(entries: readonly StoredEntry[]): void {
    const verified: Uint8Array[] = [];
    for (const entry of entries) {
      if (this.verifier.failure) break;
      const offset = BigInt(entry.offset);
      if (offset < this.pushedTo) continue;
      this.pushedTo = offset + 1n;
      this.unverified.set(entry.offset, entry.value);
      const result = this.verifier.push(entry.offset, entry.value);
      if ('break' in result) break;
      for (const stored of result.verified) {
        const bytes = this.unverified.get(stored.offset);
        if (!bytes) throw new Error(`verified record at offset ${stored.offset} was never read`);
        this.unverified.delete(stored.offset);
        verified.push(bytes);
        const sequence = stored.record.sequence;
        this.offsets[sequence] = Number(stored.offset);
        if (sequence === 0) this.genesis = stored;
        for (const { id } of stored.record.entities) {
          const list = this.byEntity.get(id);
          if (list) list.push(sequence);
          else this.byEntity.set(id, [sequence]);
        }
      }
    }
    // A broken chain takes no more records; what it held back will never be verified.
    if (this.verifier.failure) this.unverified.clear();
    this.spill.append(verified);
    const size = this.verifier.recordHashes.length;
    this.proofs.grow(size);
    // Hash the new Merkle nodes now, a few per record, so that no attestation has to hash the
    // whole tree on the event loop the first time it proves something.
    this.proofs.root(size);
  }

  /**
   * Whether this view stands for what a full read with the current pin would verify: the
   * verifier held the genesis against this pin, or took a genesis that turns out to be the pin.
   */
  agreesWith(pin: Hash | null): boolean {
    if (pin === this.pin) return true;
    if (this.pin !== null || pin === null || this.genesis?.hash !== pin) return false;
    this.pin = pin;
    return true;
  }

  reading(subject: string): LedgerReading {
    return {
      partition: this.partition,
      problem: this.verifier.peekEnd(),
      size: this.verifier.recordHashes.length,
      proofs: this.proofs,
      checkpoint: this.verifier.head().lastCheckpoint,
      genesis: this.genesis,
      history: (this.byEntity.get(subject) ?? []).map((sequence) => this.stored(sequence)),
    };
  }

  /** A verified record read back from the spill file, hashed again against the verified hash. */
  private stored(sequence: number): StoredRecord {
    const { record, hash } = decodeRecord(this.spill.read(sequence));
    const verified = this.verifier.recordHashes.at(sequence);
    if (hash !== verified) {
      throw new Error(`the verifier's record cache does not hold the verified record ${sequence}: ${hash} is not ${verified}`);
    }
    return { partition: this.partition, offset: String(this.offsets[sequence]), record, hash };
  }

  close(): void {
    this.spill.close();
  }
}

/** Where a partition's records are in the topic now: from `start` (earlier ones were deleted) to `end`. */
export interface PartitionOffsets {
  readonly start: string;
  readonly end: string;
}

export interface LedgerFollowerOptions {
  readonly source: LedgerSource;
  /** The ledger topic from offset 0, read_committed (the projector's kind of feed, a group of its own). */
  readonly feed: LedgerFeed;
  /**
   * The partition's offsets now. The end is the high watermark: it may include a transaction
   * not committed yet, which the follower then waits for (read_committed, it sees its records
   * or skips them once the transaction ends).
   */
  readonly offsets: (partition: number) => Promise<PartitionOffsets>;
  /** A directory for the spill files (created; the files are deleted on stop). */
  readonly spillDir: string;
  /** How long a reading waits for the follower to reach the end before giving up (null). */
  readonly catchUpWaitMs: number;
  readonly retryMs?: number;
  readonly onError?: (error: Error) => void;
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
 * of the whole partition. The view starts from offset 0 on every start of the process, so
 * nothing but the topic itself is trusted across restarts; the full audit still reads
 * everything again. Whenever the view cannot stand for a full read (not caught up yet, records
 * deleted from the topic, another genesis pin, a spill file that changed), `reading` answers
 * null and the attestation reads the partition in full.
 */
export class LedgerFollower {
  private readonly partitions: FollowedPartition[] = [];
  private directory: string | null = null;
  private stopped = false;
  private following: Promise<void> | null = null;

  constructor(private readonly options: LedgerFollowerOptions) {}

  async start(): Promise<void> {
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
      this.partitions.push(new FollowedPartition(partition, source, pin, join(directory, `partition-${partition}.records`)));
    }
    this.following = this.follow();
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.options.feed.run(
          new Map(this.partitions.map((p) => [p.partition, p.fetchedTo.toString()])),
          (partition, entries) => {
            this.partitions[partition]?.push(entries);
            return Promise.resolve();
          },
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

  /**
   * The verified view of the partition, up to at least the end the topic has now, with the
   * entity's records; null when it cannot stand for a full read of the partition now.
   */
  async reading(partition: number, subject: string): Promise<LedgerReading | null> {
    const followed = this.partitions[partition];
    if (!followed) return null;
    const deadline = Date.now() + this.options.catchUpWaitMs;
    const report = (error: Error) => this.options.onError?.(error);
    // Read before the offsets are asked for: the follower may fetch more while they are.
    const read = followed.fetchedTo;
    const offsets = await within(this.options.catchUpWaitMs, this.options.offsets(partition), report);
    if (!offsets) return null;
    const end = BigInt(offsets.end);
    // Records deleted from the start, or a topic now shorter than what was read: the view no
    // longer describes the topic; a full read says what happened.
    if (BigInt(offsets.start) > 0n || end < read) return null;
    // Far behind (still reading a long partition after a start): more than a few seconds of
    // verification to wait for, after which the attestation would read the partition anyway.
    if (end - followed.fetchedTo > MAX_LAG_TO_WAIT) return null;
    while (followed.fetchedTo < end && !followed.verifier.failure) {
      if (Date.now() >= deadline) return null;
      await sleep(2);
    }
    const pinned = await within(
      Math.max(1, deadline - Date.now()),
      this.options.source.genesisPin(partition).then((pin) => ({ pin })),
      report,
    );
    if (!pinned || !followed.agreesWith(pinned.pin)) return null;
    try {
      return followed.reading(subject);
    } catch (error) {
      // The spill file no longer holds what was verified: read the partition instead.
      report(error as Error);
      return null;
    }
  }

  /** How far each partition is followed: for health and benchmarks. */
  progress(): { partition: number; fetchedTo: string; verified: number }[] {
    return this.partitions.map((p) => ({
      partition: p.partition,
      fetchedTo: p.fetchedTo.toString(),
      verified: p.verifier.recordHashes.length,
    }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    try {
      await this.options.feed.stop();
      await this.following;
    } finally {
      for (const followed of this.partitions) followed.close();
      if (this.directory) rmSync(this.directory, { recursive: true, force: true });
      await this.options.onStop?.();
    }
  }
}

import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type ChainBreak, ChainVerifier } from '../ledger/chain-verifier.js';
import type { Hash } from '../ledger/hashing.js';
import type { StoredRecord } from '../ledger/ledger-record.js';
import { MerkleProofs } from '../ledger/merkle-tree.js';
import type { StoredEntry } from '../ledger/ports.js';
import { decodeRecord } from '../ledger/record-codec.js';
import type { LedgerFeed } from '../projection/projector.js';
import type { LedgerReading, LedgerSource } from './partition-scan.js';
import { RecordSpill } from './record-spill.js';

/**
 * The first problem of a followed partition, in the order a full read with the pin finds them:
 * a break, the genesis against a pin (which may have appeared after the follower started),
 * records no checkpoint covers, a pinned partition without records.
 */
function firstProblem(
  verifier: ChainVerifier,
  partition: number,
  pin: Hash | null,
  genesis: StoredRecord | null,
): ChainBreak | null {
  if (verifier.failure) return verifier.failure;
  if (pin && genesis && genesis.hash !== pin) {
    return {
      partition,
      kind: 'genesis',
      offset: genesis.offset,
      sequence: 0,
      expected: pin,
      found: genesis.hash,
      message: 'the genesis record is not the pinned one: the partition was rewritten from genesis',
    };
  }
  const end = verifier.peekEnd();
  if (end || !pin || genesis) return end;
  return {
    partition,
    kind: 'genesis',
    offset: '0',
    sequence: null,
    expected: pin,
    found: 'an empty partition',
    message: 'the partition holds no verified record although its genesis is pinned: its history was deleted',
  };
}

/** One partition as followed: verified record by record, indexed by entity, bytes spilled. */
class FollowedPartition {
  readonly verifier: ChainVerifier;
  readonly proofs: MerkleProofs;
  /** The offset after the last fetched entry or transaction marker. */
  fetchedTo = 0n;
  private readonly spill: RecordSpill;
  private readonly offsets: number[] = [];
  private readonly byEntity = new Map<string, number[]>();
  /** Bytes of records read but not yet covered by a checkpoint, by offset. */
  private readonly unverified = new Map<string, Uint8Array>();
  private genesis: StoredRecord | null = null;

  constructor(
    readonly partition: number,
    source: LedgerSource,
    pin: Hash | null,
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
    this.proofs.grow(this.verifier.recordHashes.length);
  }

  reading(subject: string, pin: Hash | null): LedgerReading {
    const size = this.verifier.recordHashes.length;
    return {
      partition: this.partition,
      problem: firstProblem(this.verifier, this.partition, pin, this.genesis),
      size,
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

export interface LedgerFollowerOptions {
  readonly source: LedgerSource;
  /** The ledger topic from offset 0, read_committed (the projector's kind of feed, a group of its own). */
  readonly feed: LedgerFeed;
  /** The partition's end now, read_committed: a reading covers at least what it holds. */
  readonly endOffset: (partition: number) => Promise<string>;
  /** A directory for the spill files (created; the files are deleted on stop). */
  readonly spillDir: string;
  /** How long a reading waits for the follower to reach the end before giving up (null). */
  readonly catchUpWaitMs: number;
  readonly retryMs?: number;
  readonly onError?: (error: Error) => void;
  /** Called last by stop(): to release what endOffset uses. */
  readonly onStop?: () => Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A verified view of every partition of the ledger, kept by following the topic
 * (docs/attestation-format.md §1): every record is verified once, as it arrives, exactly as a
 * full read verifies it, and indexed by entity. An attestation then asks for the view at the
 * topic's end as it is at that moment: it waits only for the tail written since, not for a read
 * of the whole partition. The view starts from offset 0 on every start of the process, so
 * nothing but the topic itself is trusted across restarts; the full audit still reads
 * everything again.
 */
export class LedgerFollower {
  private readonly partitions: FollowedPartition[] = [];
  private directory: string | null = null;
  private stopped = false;
  private following: Promise<void> | null = null;

  constructor(private readonly options: LedgerFollowerOptions) {}

  async start(): Promise<void> {
    const { source, spillDir } = this.options;
    mkdirSync(spillDir, { recursive: true, mode: 0o700 });
    // Spill files of an earlier process that was killed before it could delete them. (A process
    // still running keeps reading its own: an open file outlives its name.)
    const prefix = `verifier-${source.ledgerId}-`;
    for (const stale of readdirSync(spillDir).filter((name) => name.startsWith(prefix))) {
      rmSync(join(spillDir, stale), { recursive: true, force: true });
    }
    const directory = mkdtempSync(join(spillDir, prefix));
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
   * entity's records; null when the follower does not get there within catchUpWaitMs (it is
   * still reading a long partition after a start, or the broker is out of reach).
   */
  async reading(partition: number, subject: string): Promise<LedgerReading | null> {
    const followed = this.partitions[partition];
    if (!followed) return null;
    const end = BigInt(await this.options.endOffset(partition));
    const deadline = Date.now() + this.options.catchUpWaitMs;
    while (followed.fetchedTo < end && !followed.verifier.failure) {
      if (Date.now() >= deadline) return null;
      await sleep(5);
    }
    const pin = await this.options.source.genesisPin(partition);
    try {
      return followed.reading(subject, pin);
    } catch (error) {
      // The spill file no longer holds what was verified: read the partition instead.
      this.options.onError?.(error as Error);
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
    await this.options.feed.stop();
    await this.following;
    for (const followed of this.partitions) followed.close();
    if (this.directory) rmSync(this.directory, { recursive: true, force: true });
    await this.options.onStop?.();
  }
}

import { ChainVerifier, type ChainBreak } from '../ledger/chain-verifier.js';
import type { CheckpointVerifier } from '../ledger/checkpoint-note.js';
import type { Hash } from '../ledger/hashing.js';
import type { StoredRecord } from '../ledger/ledger-record.js';
import type { StoredEntry } from '../ledger/ports.js';
import type { PostgresReadModels } from './postgres-read-models.js';
import { foldBatch } from './read-model-changes.js';

/** Where the projector gets the ledger from: entries of one partition, in offset order, from an offset on. */
export interface LedgerFeed {
  /** Calls `onBatch` for each run of entries, awaiting it before the next; resolves once stopped. */
  run(
    from: ReadonlyMap<number, string>,
    onBatch: (partition: number, entries: readonly StoredEntry[]) => Promise<void>,
  ): Promise<void>;
  /** Goes back (or forward) to `offset` in the partition: the next batch starts there. */
  seek(partition: number, offset: string): void;
  stop(): Promise<void>;
}

export interface PartitionProjection {
  readonly partition: number;
  /** projecting: keeping up; quarantined: a record did not verify, the partition stands still. */
  readonly status: 'projecting' | 'quarantined';
  readonly nextOffset: string;
  readonly nextSequence: number;
  readonly problem: ChainBreak | null;
}

export interface ProjectorOptions {
  readonly ledgerId: string;
  readonly partitions: number;
  readonly verifier: CheckpointVerifier;
  readonly genesisOf: (partition: number) => Promise<Hash | null>;
  readonly store: PostgresReadModels;
  readonly feed: LedgerFeed;
  readonly onQuarantine?: (problem: ChainBreak) => void;
  /** A batch could not be written (database down, another projector moved first); it is retried. */
  readonly onRetry?: (partition: number, error: unknown) => void;
  /** How long to wait before retrying a batch that could not be written. */
  readonly retryDelayMs?: number;
}

interface PartitionState {
  verifier: ChainVerifier;
  /** The stored position: what the next batch moves from (null: none stored yet). */
  stored: string | null;
  status: 'projecting' | 'quarantined';
  problem: ChainBreak | null;
  nextOffset: string;
  nextSequence: number;
  /** The offset after the last entry the verifier has seen. */
  readTo: string;
}

/**
 * Builds the read models from the ledger (docs/projection.md). Every record is verified as an
 * auditor verifies it before it is projected; each batch of verified records is written with the
 * projector's position in one PostgreSQL transaction, so a restart resumes exactly where the
 * last commit ended. A record that does not verify goes to quarantine and its partition stops.
 */
export class Projector {
  private readonly states = new Map<number, PartitionState>();
  /** The last position stored for each partition, to go back to when its state is dropped. */
  private readonly lastStored = new Map<number, string | null>();
  private running: Promise<void> | null = null;

  constructor(private readonly options: ProjectorOptions) {}

  status(): PartitionProjection[] {
    return [...this.states.entries()].map(([partition, state]) => ({
      partition,
      status: state.status,
      nextOffset: state.nextOffset,
      nextSequence: state.nextSequence,
      problem: state.problem,
    }));
  }

  /** Loads the positions and starts following the ledger; resolves once it follows. */
  async start(): Promise<void> {
    const from = new Map<number, string>();
    for (let partition = 0; partition < this.options.partitions; partition++) {
      const state = await this.load(partition);
      this.states.set(partition, state);
      this.lastStored.set(partition, state.stored);
      from.set(partition, state.nextOffset);
    }
    this.running = this.options.feed.run(from, (partition, entries) => this.project(partition, entries));
  }

  /** The partition's state as stored: a verifier resumed from the stored head. */
  private async load(partition: number): Promise<PartitionState> {
    {
      const position = await this.options.store.position(partition);
      const genesis = await this.options.genesisOf(partition);
      const verifier = new ChainVerifier({
        ledgerId: this.options.ledgerId,
        partition,
        verifier: this.options.verifier,
        ...(genesis ? { genesisHash: genesis } : {}),
        ...(position ? { resumeFrom: position.head } : {}),
      });
      return {
        verifier,
        stored: position?.nextOffset ?? null,
        status: 'projecting',
        problem: null,
        nextOffset: position?.nextOffset ?? '0',
        nextSequence: position?.head.nextSequence ?? 0,
        readTo: position?.nextOffset ?? '0',
      };
    }
  }

  async stop(): Promise<void> {
    await this.options.feed.stop();
    await this.running;
  }

  /** Resolves when the feed stops (by stop(), or by failing). */
  get done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /**
   * Projects a run of entries. If it cannot be written, the partition's state is dropped (its
   * verifier has seen the entries already) and the feed goes back to the stored position; the
   * state is loaded again from the store with the next run.
   */
  private async project(partition: number, entries: readonly StoredEntry[]): Promise<void> {
    let state = this.states.get(partition);
    try {
      if (!state) {
        state = await this.load(partition);
        this.states.set(partition, state);
      }
      if (state.status === 'quarantined') return;
      // Entries the verifier has seen already are skipped. (Offsets have gaps, where Kafka keeps
      // transaction markers, so a gap says nothing; the feed drops runs fetched before a seek.)
      const fresh = entries.filter((entry) => BigInt(entry.offset) >= BigInt(state?.readTo ?? '0'));
      if (fresh.length > 0) await this.projectEntries(partition, state, fresh);
    } catch (error) {
      this.options.onRetry?.(partition, error);
      await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs ?? 1000));
      this.states.delete(partition);
      this.options.feed.seek(partition, state?.stored ?? this.lastStored.get(partition) ?? '0');
    }
  }

  private async projectEntries(partition: number, state: PartitionState, entries: readonly StoredEntry[]): Promise<void> {
    const verified: StoredRecord[] = [];
    for (const entry of entries) {
      state.readTo = (BigInt(entry.offset) + 1n).toString();
      const result = state.verifier.push(entry.offset, entry.value);
      if ('break' in result) {
        await this.flush(partition, state, verified);
        const raw = entries.find((e) => e.offset === result.break.offset)?.value ?? null;
        await this.options.store.quarantine(result.break, raw);
        state.status = 'quarantined';
        state.problem = result.break;
        this.options.onQuarantine?.(result.break);
        return;
      }
      verified.push(...result.verified);
    }
    await this.flush(partition, state, verified);
  }

  private async flush(partition: number, state: PartitionState, verified: readonly StoredRecord[]): Promise<void> {
    if (verified.length === 0) return;
    const ids = [...new Set(verified.flatMap((stored) => stored.record.entities.map((entity) => entity.id)))];
    const changes = foldBatch(verified, await this.options.store.rows(ids));
    const head = state.verifier.head();
    await this.options.store.apply(partition, changes, state.stored, head);
    state.stored = head.nextOffset ?? state.stored;
    this.lastStored.set(partition, state.stored);
    state.nextOffset = head.nextOffset ?? state.nextOffset;
    state.nextSequence = head.nextSequence;
  }
}

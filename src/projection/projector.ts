import {
  ChainVerifier,
  type ChainBreak,
  type EntityHeads,
  entityIdsOf,
  type Finding,
  readHere,
  type RecordReader,
  type WaitingRecord,
} from '../ledger/chain-verifier.js';
import type { CheckpointVerifier } from '../ledger/checkpoint-note.js';
import type { Hash } from '../ledger/hashing.js';
import type { StoredRecord } from '../ledger/ledger-record.js';
import type { LedgerFeed, StoredEntry } from '../ledger/ports.js';
import type { PostgresReadModels } from './postgres-read-models.js';
import { foldBatch } from './read-model-changes.js';

export type ProjectionStatus = 'projecting' | 'retrying' | 'quarantined';

export interface PartitionProjection {
  readonly partition: number;
  /**
   * projecting: keeping up; retrying: a batch could not be written, or the feed failed (the
   * broker is down), and it is being retried; quarantined: a record did not verify, the
   * partition stands still.
   */
  readonly status: ProjectionStatus;
  readonly nextOffset: string;
  readonly nextSequence: number;
  /** The offset after the last entry fetched (markers included): the projection has seen the topic to here. */
  readonly fetchedTo: string;
  /** Whether entries were read that no checkpoint covers yet (they wait in the verifier). */
  readonly pending: boolean;
  readonly problem: ChainBreak | null;
  readonly error: string | null;
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
  /** The feed failed (the broker went away); it is started again after a pause. */
  readonly onFailure?: (error: unknown) => void;
  /** How long to wait before retrying a batch that could not be written. */
  readonly retryDelayMs?: number;
  /** Where records are decoded and hashed (default: on this thread); closed by stop(). */
  readonly reader?: RecordReader;
}

/**
 * The entity heads the projector's verifier checks links against: read from the store
 * (projection_entity_heads, written with every batch) for the entities of the entries about to
 * be pushed, and let go once a batch is written and no record waits for its checkpoint, so the
 * projector's memory does not grow with the number of entities.
 */
class StoredHeads implements EntityHeads {
  private readonly heads = new Map<string, Hash>();
  /** Entities looked up and found to have no record yet. */
  private readonly none = new Set<string>();

  constructor(
    private readonly store: PostgresReadModels,
    private readonly partition: number,
  ) {}

  get(entityId: string): Hash | undefined {
    return this.heads.get(entityId);
  }

  set(entityId: string, hash: Hash): void {
    this.heads.set(entityId, hash);
    this.none.delete(entityId);
  }

  /** Reads the heads of the entities these records name that are not known yet. */
  async load(read: readonly (WaitingRecord | Finding)[]): Promise<void> {
    const wanted = new Set<string>();
    for (const id of entityIdsOf(read)) if (!this.heads.has(id) && !this.none.has(id)) wanted.add(id);
    if (wanted.size === 0) return;
    const found = await this.store.entityHeads(this.partition, [...wanted]);
    for (const id of wanted) {
      const head = found.get(id);
      if (head === undefined) this.none.add(id);
      else this.heads.set(id, head);
    }
  }

  /** Forgets every head: the store holds them all (nothing waits for a checkpoint). */
  clear(): void {
    this.heads.clear();
    this.none.clear();
  }
}

interface PartitionState {
  verifier: ChainVerifier;
  heads: StoredHeads;
  /** The stored position: what the next batch moves from (null: none stored yet). */
  stored: string | null;
  status: ProjectionStatus;
  problem: ChainBreak | null;
  error: string | null;
  nextOffset: string;
  nextSequence: number;
  /** The offset after the last entry the verifier has seen. */
  readTo: string;
  fetchedTo: string;
  /** Bytes of the entries the verifier holds until a checkpoint covers them, for quarantine. */
  held: Map<string, Uint8Array>;
  /** The state must be loaded from the store again before the next entry. */
  stale: boolean;
}

/**
 * Builds the read models from the ledger (docs/projection.md). Every record is verified as an
 * auditor verifies it before it is projected; each batch of verified records is written with the
 * projector's position in one PostgreSQL transaction, so a restart resumes exactly where the
 * last commit ended. A record that does not verify goes to quarantine and its partition stops.
 */
export class Projector {
  private readonly states = new Map<number, PartitionState>();
  private running: Promise<void> | null = null;
  private failure: string | null = null;
  private stopping = false;

  constructor(private readonly options: ProjectorOptions) {}

  status(): PartitionProjection[] {
    return [...this.states.entries()].map(([partition, state]) => ({
      partition,
      status: this.failure && state.status !== 'quarantined' ? 'retrying' : state.status,
      nextOffset: state.nextOffset,
      nextSequence: state.nextSequence,
      fetchedTo: state.fetchedTo,
      pending: BigInt(state.readTo) > BigInt(state.nextOffset),
      problem: state.problem,
      error: this.failure ?? state.error,
    }));
  }

  /** Loads the positions and starts following the ledger; resolves once it follows. */
  async start(): Promise<void> {
    this.stopping = false;
    await this.follow();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    try {
      await this.options.feed.stop();
      // A restart of the feed may be under way: wait until the last one has ended.
      let running = this.running;
      while (running) {
        await running;
        running = this.running === running ? null : this.running;
      }
    } finally {
      await this.options.reader?.close?.();
    }
  }

  /** Loads every partition's state and follows the feed from there; after a failure, again. */
  private async follow(): Promise<void> {
    const from = new Map<number, string>();
    for (let partition = 0; partition < this.options.partitions; partition++) {
      const state = await this.load(partition);
      const previous = this.states.get(partition);
      if (previous?.status === 'quarantined') {
        from.set(partition, previous.nextOffset);
        continue;
      }
      this.states.set(partition, state);
      from.set(partition, state.nextOffset);
    }
    this.failure = null;
    // stop() may have come while the state loaded: then nothing is to be followed.
    if (this.stopping) return;
    this.running = this.options.feed
      .run(
        from,
        (partition, entries) => this.project(partition, entries),
        (partition, fetchedTo) => {
          const state = this.states.get(partition);
          if (state && BigInt(fetchedTo) > BigInt(state.fetchedTo)) state.fetchedTo = fetchedTo;
        },
      )
      .catch((error: unknown) => this.recover(error));
  }

  private async recover(error: unknown): Promise<void> {
    this.failure = error instanceof Error ? error.message : String(error);
    this.options.onFailure?.(error);
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 5 * (this.options.retryDelayMs ?? 1000)));
      if (this.stopping) return;
      try {
        await this.options.feed.stop();
        await this.follow();
        return;
      } catch (again) {
        this.failure = again instanceof Error ? again.message : String(again);
      }
    }
  }

  /** Resolves when the feed stops (by stop(), or by failing). */
  get done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** The partition's state as stored: a verifier resumed from the stored head. */
  private async load(partition: number): Promise<PartitionState> {
    const position = await this.options.store.position(partition);
    const genesis = await this.options.genesisOf(partition);
    const heads = new StoredHeads(this.options.store, partition);
    const verifier = new ChainVerifier({
      ledgerId: this.options.ledgerId,
      partition,
      verifier: this.options.verifier,
      ...(genesis ? { genesisHash: genesis } : {}),
      ...(position ? { resumeFrom: position.head } : {}),
      entityHeads: heads,
    });
    const offset = position?.nextOffset ?? '0';
    return {
      verifier,
      heads,
      stored: position?.nextOffset ?? null,
      status: 'projecting',
      problem: null,
      error: null,
      nextOffset: offset,
      nextSequence: position?.head.nextSequence ?? 0,
      readTo: offset,
      fetchedTo: offset,
      held: new Map(),
      stale: false,
    };
  }

  /**
   * Projects a run of entries. If it cannot be written, the partition is loaded again from the
   * store (its verifier has seen the entries already) and the feed goes back to the position
   * just loaded; while the store cannot be read, the partition waits, marked retrying.
   */
  private async project(partition: number, entries: readonly StoredEntry[]): Promise<void> {
    const state = this.states.get(partition);
    if (!state || state.status === 'quarantined') return;
    if (state.stale) {
      await this.reload(partition, state);
      return;
    }
    try {
      // Entries the verifier has seen already are skipped. (Offsets have gaps, where Kafka keeps
      // transaction markers, so a gap says nothing; the feed drops runs fetched before a seek.)
      const fresh = entries.filter((entry) => BigInt(entry.offset) >= BigInt(state.readTo));
      if (fresh.length > 0) await this.projectEntries(partition, state, fresh);
    } catch (error) {
      this.options.onRetry?.(partition, error);
      state.status = 'retrying';
      state.error = error instanceof Error ? error.message : String(error);
      await this.reload(partition, state);
    }
  }

  private async reload(partition: number, state: PartitionState): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs ?? 1000));
    try {
      const loaded = await this.load(partition);
      loaded.fetchedTo = state.fetchedTo;
      loaded.status = state.status;
      loaded.error = state.error;
      this.states.set(partition, loaded);
      this.options.feed.seek(partition, loaded.nextOffset);
    } catch (error) {
      state.stale = true;
      state.status = 'retrying';
      state.error = error instanceof Error ? error.message : String(error);
      this.options.feed.seek(partition, state.stored ?? '0');
    }
  }

  private async projectEntries(partition: number, state: PartitionState, entries: readonly StoredEntry[]): Promise<void> {
    // Each record is decoded once: for the heads to load, then by the verifier.
    const read = await (this.options.reader ?? readHere).read(entries);
    await state.heads.load(read);
    const verified: StoredRecord[] = [];
    for (const [i, entry] of entries.entries()) {
      state.readTo = (BigInt(entry.offset) + 1n).toString();
      state.held.set(entry.offset, entry.value);
      const result = state.verifier.pushRead(read[i] as WaitingRecord | Finding);
      if ('break' in result) {
        await this.flush(partition, state, verified);
        await this.options.store.quarantine(result.break, state.held.get(result.break.offset) ?? null);
        state.status = 'quarantined';
        state.problem = result.break;
        this.options.onQuarantine?.(result.break);
        return;
      }
      for (const stored of result.verified) state.held.delete(stored.offset);
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
    state.nextOffset = head.nextOffset ?? state.nextOffset;
    state.nextSequence = head.nextSequence;
    state.status = 'projecting';
    state.error = null;
    // Checkpoints release every record before them; anything older than the position is done.
    for (const offset of state.held.keys()) if (BigInt(offset) < BigInt(state.nextOffset)) state.held.delete(offset);
    // Written: the store holds every head, unless a record still waits for its checkpoint.
    if (state.held.size === 0) state.heads.clear();
  }
}

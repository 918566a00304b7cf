import { canonicalBytes, canonicalBytesAt, CanonicalJsonError } from './canonical-json.js';
import type { ChainHead } from './chain-verifier.js';
import type { CheckpointSigner } from './checkpoint-note.js';
import type { Hash } from './hashing.js';
import { AppendRejectedError } from './ledger-errors.js';
import { type AppendReceipt, type AppendRequest, type EntityStateModel, FORMAT_VERSION } from './ledger-record.js';
import { LedgerUnavailableError, WriterClosedError } from './ledger-errors.js';
import { PartitionWriter, type WriterState, type WriterStats, type WriterStatus } from './partition-writer.js';
import { partitionOf } from './partitioning.js';
import type { PartitionRecoveryOptions } from './partition-recovery.js';
import type { Clock, GenesisPins, PartitionLog, SnapshotStore } from './ports.js';
import { assertLedgerRecord, RecordFormatError } from './record-codec.js';

export interface LedgerWriterOptions {
  readonly ledgerId: string;
  readonly partitions: number;
  readonly signer: CheckpointSigner;
  readonly pins: GenesisPins;
  readonly clock: Clock;
  readonly maxBatch: number;
  /** Most bytes of records per transaction (PartitionWriterOptions.maxBatchBytes). */
  readonly maxBatchBytes?: number;
  /** Largest canonical payload accepted, in bytes. */
  readonly maxPayloadBytes: number;
  readonly openPartition: (partition: number) => PartitionLog;
  readonly configuredGenesis?: ReadonlyMap<number, Hash>;
  readonly newEventId?: () => string;
  readonly stateModel?: EntityStateModel;
  /** PartitionWriterOptions.readBackDelayMs. */
  readonly readBackDelayMs?: number;
  /** PartitionWriterOptions.reclaimDelayMs. */
  readonly reclaimDelayMs?: { readonly initial: number; readonly max: number };
  /** Told every change of a partition writer's state (PartitionWriterOptions.onStatus). */
  readonly onStatus?: (status: WriterStatus) => void;
  /** Where the writers' snapshots are kept (docs/ledger-format.md §11); in memory when not given. */
  readonly snapshots?: SnapshotStore;
  /** PartitionWriterOptions.snapshotRecords and snapshotIntervalMs. */
  readonly snapshotRecords?: number;
  readonly snapshotIntervalMs?: number;
  /** PartitionRecoveryOptions.stateCacheEntries. */
  readonly stateCacheEntries?: number;
  /** Told what became of each snapshot (PartitionRecoveryOptions.onSnapshot). */
  readonly onSnapshot?: PartitionRecoveryOptions['onSnapshot'];
  /**
   * Whether a fenced writer takes its partition back once the other writer is idle (true, one
   * instance), or leaves it to whoever Kafka's group placed it with (false, several instances:
   * docs/scaling.md).
   */
  readonly reclaimWhenFenced?: boolean;
}

/** A partition's writer as this process sees it: its state, or `elsewhere` when another instance writes it. */
export interface PartitionPlacement {
  readonly partition: number;
  readonly state: WriterState | 'elsewhere';
  readonly reason: string | null;
}

/** Appends to a partition whose writer runs in another instance (or in none right now). */
export class NotTheWriterError extends LedgerUnavailableError {
  override name = 'NotTheWriterError';

  constructor(readonly partition: number) {
    super(`partition ${partition} is written by another instance`);
  }
}

/**
 * Writers for the partitions of one ledger this process writes; routes each append by its
 * first entity. One instance writes every partition (start); with several, Kafka's group
 * places each partition's writer in one of them (take, release: src/cluster/writer-placement.ts).
 */
export class LedgerWriter {
  private readonly writers: (PartitionWriter | null)[];
  /** The writers being started or closed, by partition: take and release wait for the one before. */
  private readonly changing = new Map<number, Promise<unknown>>();

  constructor(private readonly options: LedgerWriterOptions) {
    this.writers = Array.from({ length: options.partitions }, () => null);
  }

  private create(partition: number): PartitionWriter {
    const { options } = this;
    return new PartitionWriter({
      ledgerId: options.ledgerId,
      partition,
      partitions: options.partitions,
      signer: options.signer,
      log: options.openPartition(partition),
      pins: options.pins,
      clock: options.clock,
      maxBatch: options.maxBatch,
      maxBatchBytes: options.maxBatchBytes,
      configuredGenesis: options.configuredGenesis?.get(partition),
      newEventId: options.newEventId,
      stateModel: options.stateModel,
      readBackDelayMs: options.readBackDelayMs,
      reclaimDelayMs: options.reclaimDelayMs,
      reclaimWhenFenced: options.reclaimWhenFenced,
      onStatus: options.onStatus,
      snapshots: options.snapshots?.partition(partition),
      snapshotRecords: options.snapshotRecords,
      snapshotIntervalMs: options.snapshotIntervalMs,
      stateCacheEntries: options.stateCacheEntries,
      onSnapshot: options.onSnapshot,
    });
  }

  /** Starts every partition's writer; a partition that does not verify is null (its writer failed). */
  async start(): Promise<(ChainHead | null)[]> {
    return Promise.all(this.writers.map((_, partition) => this.take(partition)));
  }

  /**
   * Starts the partition's writer in this process (fencing any other: Kafka's transactional
   * id), from its newest snapshot; resolves with its head (null: the partition does not verify).
   */
  take(partition: number): Promise<ChainHead | null> {
    return this.change(partition, async () => {
      const present = this.writers[partition];
      if (present) return present.headOrNull();
      const writer = this.create(partition);
      this.writers[partition] = writer;
      try {
        return await writer.start();
      } catch (error) {
        // Not started (Kafka or PostgreSQL did not answer, another writer fenced this one): not held.
        this.writers[partition] = null;
        await writer.close().catch(() => undefined);
        throw error;
      }
    });
  }

  /**
   * Stops the partition's writer here: its batch in flight ends, what waits is refused, and a
   * last snapshot is taken unless `snapshot` is false (the partition moves to a writer that runs
   * already, which may have loaded the last snapshot: docs/scaling.md §2).
   */
  release(partition: number, options: { readonly snapshot?: boolean } = {}): Promise<void> {
    return this.change(partition, async () => {
      const writer = this.writers[partition];
      if (!writer) return;
      this.writers[partition] = null;
      await writer.close(options);
    });
  }

  /** The partitions this process writes (their writers may still be starting). */
  held(): number[] {
    return this.writers.flatMap((writer, partition) => (writer ? [partition] : []));
  }

  private change<T>(partition: number, work: () => Promise<T>): Promise<T> {
    const before = this.changing.get(partition) ?? Promise.resolve();
    const next = before.then(work, work);
    this.changing.set(
      partition,
      next.catch(() => undefined),
    );
    return next;
  }

  async close(): Promise<void> {
    await Promise.all(this.writers.map((_, partition) => this.release(partition)));
  }

  /** Each partition's snapshot of what was committed since its last (PartitionWriter.snapshotNow). */
  async snapshotNow(): Promise<void> {
    await Promise.all(this.present().map((writer) => writer.snapshotNow()));
  }

  private present(): PartitionWriter[] {
    return this.writers.filter((writer): writer is PartitionWriter => writer !== null);
  }

  private writerOf(partition: number): PartitionWriter {
    const writer = this.writers[partition];
    if (!writer) throw new NotTheWriterError(partition);
    return writer;
  }

  /** These entities' states after the last committed record of their partitions, by the state model (undefined: none). */
  async statesOf(entityIds: readonly string[]): Promise<Map<string, unknown>> {
    const byWriter = new Map<PartitionWriter, string[]>();
    for (const id of new Set(entityIds)) {
      const writer = this.writerOf(partitionOf(id, this.options.partitions));
      const ids = byWriter.get(writer);
      if (ids) ids.push(id);
      else byWriter.set(writer, [id]);
    }
    const states = new Map<string, unknown>();
    for (const [writer, ids] of byWriter) for (const [id, state] of await writer.committedStates(ids)) states.set(id, state);
    return states;
  }

  /** Each partition's head, or null where this process holds none (it failed to verify the partition, or another instance writes it). */
  heads(): (ChainHead | null)[] {
    return this.writers.map((writer) => writer?.headOrNull() ?? null);
  }

  statuses(): string[] {
    return this.describe().map((placement) => placement.state);
  }

  /** Each partition writer's state, and why it takes no appends where it does not; `elsewhere` where another instance writes it. */
  describe(): (WriterStatus | PartitionPlacement)[] {
    return this.writers.map(
      (writer, partition) =>
        writer?.describe() ?? { partition, state: 'elsewhere', reason: 'another instance writes this partition' },
    );
  }

  /** Batches and appends over the partitions this process writes. */
  stats(): { batches: number; appends: number } {
    return this.present().reduce(
      (sum, w) => ({ batches: sum.batches + w.stats.batches, appends: sum.appends + w.stats.appends }),
      { batches: 0, appends: 0 },
    );
  }

  /** Each partition's stats, by partition (none yet where this process does not write it). */
  partitionStats(): WriterStats[] {
    return this.writers.map((writer) => writer?.stats ?? { batches: 0, appends: 0, committedEnd: null });
  }

  /** Checks the request, then resolves with its receipt once Kafka committed it. */
  append(request: AppendRequest): Promise<AppendReceipt> {
    return this.appendAll([request]).then((receipts) => receipts[0] as AppendReceipt);
  }

  /**
   * Appends the requests in order as consecutive records of one transaction, or none of them
   * (batch capture). They must all go to one partition: a Kafka transaction spans partitions,
   * but each partition has its own writer and chain.
   */
  appendAll(requests: readonly AppendRequest[]): Promise<AppendReceipt[]> {
    let partition: number;
    try {
      const partitions = new Set(requests.map((request) => this.validate(request)));
      if (partitions.size !== 1) {
        throw new AppendRejectedError(
          partitions.size === 0 ? 'nothing to append' : 'the records of one group must all go to one partition',
        );
      }
      partition = [...partitions][0] as number;
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new AppendRejectedError(String(error)));
    }
    const writer = this.writers[partition];
    return writer ? writer.appendAll(requests) : Promise.reject(new NotTheWriterError(partition));
  }

  /**
   * The receipts of a request recorded already, found by its event ids and request digest;
   * undefined when it is not recorded. Every partition is asked, so that a key reused for a
   * request about an entity of another partition is refused too (PartitionWriter.recorded);
   * with several instances, every partition this one writes (docs/scaling.md).
   */
  async recorded(eventIds: readonly string[], requestDigest: string): Promise<AppendReceipt[] | undefined> {
    for (const writer of this.present()) {
      let receipts: AppendReceipt[] | undefined;
      try {
        receipts = await writer.recorded(eventIds, requestDigest);
      } catch (error) {
        // A writer still starting here (a takeover) holds no state yet: its own batch checks the
        // event ids against its index when the request reaches it.
        if (error instanceof WriterClosedError) continue;
        throw error;
      }
      if (receipts) return receipts;
    }
    return undefined;
  }

  /**
   * Refuses, before anything is queued, every request that could not become a record that
   * verifies: the request is built into a record with placeholder positions and checked as
   * the reader checks it (types, formats, canonical JSON, depth), whatever the caller's types
   * claimed. Returns the partition.
   */
  private validate(request: AppendRequest): number {
    const reject = (problem: string): never => {
      throw new AppendRejectedError(problem);
    };
    const entityIds: unknown = request.entityIds;
    if (!Array.isArray(entityIds) || entityIds.length === 0) reject('a record must touch at least one entity (entityIds)');
    if (typeof request.eventType !== 'string' || request.eventType.startsWith('ledger.')) {
      reject(`eventType ${JSON.stringify(request.eventType)} is reserved for the ledger`);
    }
    const provisional = {
      formatVersion: FORMAT_VERSION,
      ledgerId: 'validation',
      partition: 0,
      sequence: 0,
      previousHash: null,
      eventId: request.eventId,
      eventType: request.eventType,
      entities: (entityIds as unknown[]).map((id) => ({ id, previousHash: null })),
      occurredAt: request.occurredAt,
      recordedAt: '2000-01-01T00:00:00.000Z',
      actor: request.actor,
      payload: request.payload,
    };
    let size = 0;
    try {
      assertLedgerRecord(provisional);
      // Every member in canonical JSON (the payload, the bulk of a record, serialised once).
      size = canonicalBytesAt(request.payload, ['payload']).length;
      canonicalBytes({ ...provisional, payload: null });
    } catch (error) {
      if (error instanceof RecordFormatError || error instanceof CanonicalJsonError) reject(error.message);
      throw error;
    }
    if (size > this.options.maxPayloadBytes)
      reject(`the payload is ${size} bytes; at most ${this.options.maxPayloadBytes} are allowed`);
    const partitions = new Set(request.entityIds.map((id) => partitionOf(id, this.options.partitions)));
    if (partitions.size > 1) {
      reject(`the entities map to ${partitions.size} different partitions; one record's entities must share a partition`);
    }
    return partitionOf(request.entityIds[0] as string, this.options.partitions);
  }
}

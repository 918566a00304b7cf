import { randomUUID } from 'node:crypto';
import { AppendQueue, type AppendQueueLimits, type WaitingGroup } from './append-queue.js';
import { BatchDraft } from './batch-draft.js';
import type { ChainHead } from './chain-verifier.js';
import { ChainDraft, type DraftedRecord, logEntry } from './chain-draft.js';
import type { Hash } from './hashing.js';
import type { IdempotencyIndex } from './idempotency-index.js';
import type { AppendReceipt, AppendRequest } from './ledger-record.js';
import {
  AppendOutcomeUnknownError,
  type LedgerError,
  LedgerIntegrityError,
  LedgerUnavailableError,
  WriterClosedError,
} from './ledger-errors.js';
import { MemorySnapshotStore } from './memory-snapshots.js';
import { type PartitionRecoveryOptions, type RecoveredPartition, recoverPartition } from './partition-recovery.js';
import { type Lease, type PartitionState, SnapshotDeferredError } from './partition-state.js';
import type { Clock, GenesisPins, PartitionSnapshots } from './ports.js';
import { StateTreeIntegrityError } from './state-tree.js';
import {
  readBackUntilReachable,
  reclaimWhenIdle,
  type Reopening,
  type ReopeningDelays,
  type ReopeningOutcome,
} from './writer-reopening.js';
import { asLedgerError, stateAfterFailure, type WriterState, WriterStateMachine, type WriterStatus } from './writer-state.js';

export type { WriterState, WriterStatus } from './writer-state.js';

/**
 * What a partition writer works with: the partition's log and verification (recovery), the
 * limits of a batch (the queue), the delays of its waits to take appends again, and the rest.
 */
export interface PartitionWriterOptions
  extends Omit<PartitionRecoveryOptions, 'snapshots' | 'snapshotRecords'>, AppendQueueLimits, ReopeningDelays {
  /** Where the partition's snapshots are kept; in this process's memory when not given. */
  readonly snapshots?: PartitionSnapshots;
  /** Records committed between two snapshots (10,000 by default). */
  readonly snapshotRecords?: number;
  /** The longest time a committed record waits for a snapshot (60 s by default). */
  readonly snapshotIntervalMs?: number;
  /**
   * Records committed and in no snapshot yet (held in memory) from which appends wait for the
   * snapshot being written: 4 × snapshotRecords by default.
   */
  readonly snapshotBacklog?: number;
  /** The longest a batch waits for a snapshot that does not end, once (30 s by default). */
  readonly snapshotBacklogWaitMs?: number;
  readonly partitions: number;
  readonly pins: GenesisPins;
  readonly clock: Clock;
  /** A genesis hash the operator pinned in configuration, checked besides the stored pin. */
  readonly configuredGenesis?: Hash;
  /** Event ids of the writer's own records (genesis, checkpoints); random UUIDs by default. */
  readonly newEventId?: () => string;
  /** Told every change of the writer's state, with the reason for an unhealthy one. */
  readonly onStatus?: (status: WriterStatus) => void;
  /** Whether a fenced writer takes its partition back once the other is idle (true by default; LedgerWriterOptions). */
  readonly reclaimWhenFenced?: boolean;
}

export interface WriterStats {
  readonly batches: number;
  readonly appends: number;
  /** The offset after the last checkpoint this writer committed (null before its first). */
  readonly committedEnd: string | null;
}

/**
 * The only component that appends to one ledger partition (docs/ledger-format.md §8, "Writer").
 * Appends that arrive while a transaction is in flight form the next batch (group commit:
 * AppendQueue); each batch is drafted on a copy of the head (BatchDraft), ends with a signed
 * checkpoint and is one Kafka transaction. A caller's receipt resolves only after Kafka
 * acknowledged the commit. Its states and their changes: writer-state.ts.
 */
export class PartitionWriter {
  private head: ChainHead | null = null;
  private needsRecovery = true;
  private readonly machine: WriterStateMachine;
  /** The loop that reads the partition back while it is unavailable, or takes it back when fenced. */
  private readingBack: Promise<void> = Promise.resolve();
  private readonly queue: AppendQueue;
  private batches = 0;
  private appends = 0;
  private committedEnd: string | null = null;
  /** Each entity's head and state and the idempotency index, on disk with a bounded part in memory. */
  private state: PartitionState | null = null;
  /** Committed records with a request digest (kept in the state). */
  private index: IdempotencyIndex | null = null;
  /** The batch sent and not committed yet, which the next one is drafted on (at most one). */
  private inFlight: InFlightBatch | null = null;
  /** Entities a draft read without having them loaded: loaded with the next batch's. */
  private unloaded = new Set<string>();
  private lastSnapshotAt = 0;
  /**
   * After a snapshot was deferred (its row held by another session, or a larger one stored):
   * the count of records in no snapshot before which none is tried again, unless the interval
   * passed. Each try waits for the row and works over all that is held, so not one a batch.
   */
  private snapshotRetry: { readonly state: PartitionState; readonly at: number } | null = null;
  /** Looks for a snapshot due by time while no batch comes to take it (snapshotWhenIdle). */
  private idleSnapshots: NodeJS.Timeout | null = null;
  /** Set when the state on disk was found not to be what its snapshot commits to: the next recovery reads the whole partition. */
  private distrusted: string | null = null;
  private readonly newEventId: () => string;
  private readonly recovery: PartitionRecoveryOptions;

  constructor(private readonly options: PartitionWriterOptions) {
    this.newEventId = options.newEventId ?? randomUUID;
    this.recovery = {
      ...options,
      snapshots: options.snapshots ?? new MemorySnapshotStore().partition(options.partition),
      snapshotRecords: options.snapshotRecords ?? 10_000,
    };
    this.machine = new WriterStateMachine(options.partition, options.onStatus);
    this.queue = new AppendQueue(options, {
      commit: (groups) => this.commit(groups),
      settled: () => this.settled(),
      takesAppends: () => this.machine.state === 'open',
      refusal: () => this.machine.refusal(),
    });
  }

  get stats(): WriterStats {
    return { batches: this.batches, appends: this.appends, committedEnd: this.committedEnd };
  }

  get status(): WriterState {
    return this.machine.state;
  }

  /** Why the writer takes no appends, or null while it does. */
  get reason(): string | null {
    return this.machine.reason;
  }

  /** The writer's state, and why it takes no appends when it does not. */
  describe(): WriterStatus {
    return this.machine.describe();
  }

  /**
   * Fences other writers, verifies the partition, writes and pins genesis when it is empty.
   * A partition that does not verify leaves the writer failed (it refuses appends and says why)
   * rather than failing the start: reads and attestations go on, and report the break.
   */
  async start(): Promise<ChainHead | null> {
    await this.options.log.open();
    try {
      await this.recoverAtStart();
    } catch (error) {
      if (!(error instanceof LedgerIntegrityError)) throw error;
      this.machine.transition('failed', error);
      return null;
    }
    this.machine.transition('open');
    const interval = this.options.snapshotIntervalMs ?? 60_000;
    this.idleSnapshots ??= setInterval(
      () => {
        this.snapshotWhenIdle();
      },
      Math.max(interval / 4, 25),
    ).unref();
    return this.currentHead();
  }

  /** These entities' states after the last committed record (undefined: no record of it). */
  async committedStates(entityIds: readonly string[]): Promise<Map<string, unknown>> {
    const state = this.currentState();
    const lease = await this.loaded(state, entityIds, []);
    try {
      return new Map(entityIds.map((id) => [id, state.stateOf(id)]));
    } finally {
      lease.release();
    }
  }

  /**
   * The receipts of committed records with these event ids, when `requestDigest` names the
   * same request that recorded them: a retry is answered from the ledger, not recorded again
   * (IdempotencyIndex.recorded).
   */
  async recorded(eventIds: readonly string[], requestDigest: string): Promise<AppendReceipt[] | undefined> {
    const state = this.currentState();
    const lease = await this.loaded(state, [], eventIds);
    try {
      return (this.index as IdempotencyIndex).recorded(eventIds, requestDigest);
    } finally {
      lease.release();
    }
  }

  /**
   * Loads state for a read outside a batch. State on disk that is not what its snapshot commits
   * to makes the partition unavailable until it is read in full again: nothing is decided on it.
   */
  private async loaded(
    state: PartitionState,
    entityIds: readonly string[],
    eventIds: readonly string[],
  ): Promise<{ release(): void }> {
    try {
      return await state.load(entityIds, eventIds);
    } catch (error) {
      if (!(error instanceof StateTreeIntegrityError)) throw error;
      this.distrusted = error.message;
      const unavailable = new LedgerUnavailableError(
        `partition ${this.options.partition}: the writer's state on disk does not verify (${error.message}); it is read again from the ledger`,
      );
      this.needsRecovery = true;
      this.afterFailure(unavailable);
      throw unavailable;
    }
  }

  private currentState(): PartitionState {
    if (!this.state) throw new WriterClosedError('the writer has not started');
    return this.state;
  }

  currentHead(): ChainHead {
    if (!this.head) throw new WriterClosedError('the writer has not started');
    return this.head;
  }

  /** The head the writer holds, or null before it read its partition (or when it failed to). */
  headOrNull(): ChainHead | null {
    return this.head;
  }

  append(request: AppendRequest): Promise<AppendReceipt> {
    return this.appendAll([request]).then((receipts) => receipts[0] as AppendReceipt);
  }

  /**
   * Appends the requests in order as consecutive records of one transaction, or none of them:
   * a request that is refused (precondition, duplicate, unbuildable) refuses the whole group.
   */
  appendAll(requests: readonly AppendRequest[]): Promise<AppendReceipt[]> {
    if (this.machine.state !== 'open') return Promise.reject(this.machine.refusal());
    if (requests.length === 0) return Promise.resolve([]);
    return new Promise<AppendReceipt[]>((resolve, reject) => {
      this.queue.add({ requests, resolve, reject });
    });
  }

  /**
   * Writes a snapshot of what was committed since the last one, now, and waits for it (at most
   * 10 s: a store that does not answer must not hold a shutdown). Appends go on meanwhile. The
   * application calls it as it begins to shut down, while PostgreSQL is still there, so that the
   * next start verifies no tail.
   */
  async snapshotNow(): Promise<void> {
    const state = this.state;
    if (!state || this.machine.state === 'failed' || this.needsRecovery) return;
    await Promise.race([state.settled(), delay(CLOSING_SNAPSHOT_WAIT_MS)]);
    if (!state.busy && state.unsnapshotted > 0 && state.closeForSnapshot()) {
      await Promise.race([this.snapshot(state), delay(CLOSING_SNAPSHOT_WAIT_MS)]);
    }
  }

  /**
   * Takes no more appends, lets the batch in flight finish, rejects what still waits, and writes
   * a last snapshot of what was committed since the one before (snapshotNow), so that the next
   * start reads only what is written after it.
   */
  async close(options: { readonly snapshot?: boolean } = {}): Promise<void> {
    if (this.idleSnapshots) clearInterval(this.idleSnapshots);
    this.idleSnapshots = null;
    const failed = this.machine.state === 'failed';
    if (!failed) this.machine.transition('closed');
    await this.queue.idle();
    await this.readingBack;
    this.queue.rejectAll(() => this.machine.refusal());
    if (!failed && options.snapshot !== false) await this.snapshotNow();
    await Promise.race([this.state?.settled(), delay(CLOSING_SNAPSHOT_WAIT_MS)]);
    await this.options.log.close();
  }

  /** Recovers the head from the partition, checked against the pinned genesis; writes genesis into an empty one. */
  private async recoverAtStart(): Promise<void> {
    const { pins, ledgerId, partition, configuredGenesis } = this.options;
    const pinned = await pins.get(ledgerId, partition);
    if (pinned && configuredGenesis && pinned !== configuredGenesis) {
      throw new LedgerIntegrityError(
        `partition ${partition}: the configured genesis ${configuredGenesis} differs from the pinned ${pinned}`,
      );
    }
    this.adopt(await recoverPartition(this.recovery, configuredGenesis ?? pinned ?? undefined));
    // With a pin, an empty partition does not verify: recoverPartition() has thrown already.
    const { genesisHash } = this.currentHead();
    if (genesisHash === null) await this.writeGenesis();
    else if (!pinned) await pins.pin(ledgerId, partition, genesisHash);
  }

  private async writeGenesis(): Promise<void> {
    const { ledgerId, partition, partitions, signer, pins, clock, log } = this.options;
    const draft = new ChainDraft(this.currentHead(), ledgerId, partition, clock.now().toISOString());
    const genesis = draft.genesis(partitions, signer, this.newEventId());
    const checkpoint = draft.checkpoint(signer);
    const drafted = [genesis, checkpoint];
    const offsets = await log.appendTransaction(drafted.map((record) => logEntry(record, this.partitionKey())));
    this.head = draft.head();
    this.applied(drafted, offsets);
    this.snapshotIfDue();
    this.committedEnd = endAfter(offsets);
    await pins.pin(ledgerId, partition, genesis.hash);
  }

  /** Reads the partition back and verifies it, from the genesis the writer holds (recoverPartition). */
  private async recover(watch?: ReadonlySet<Hash>): Promise<RecoveredPartition> {
    // A snapshot being written by the state given up is the one to start from.
    await this.state?.settled();
    const recovered = await recoverPartition(this.recovery, this.head?.genesisHash ?? undefined, watch, this.distrusted);
    this.distrusted = null;
    return recovered;
  }

  /** Takes a partition read back (and verified) as the writer's head, state and index. */
  private adopt(recovered: RecoveredPartition): void {
    this.head = recovered.head;
    this.state = recovered.state;
    this.index = recovered.index;
    this.needsRecovery = false;
    this.lastSnapshotAt = Date.now();
  }

  /** Committed records go into the state. */
  private applied(records: readonly DraftedRecord[], offsets: readonly (string | undefined)[]): void {
    const state = this.currentState();
    const { partition, stateModel } = this.options;
    records.forEach(({ record, hash, bytes }, i) => {
      state.applied({ partition, offset: offsets[i] as string, record, hash }, bytes, stateModel);
    });
  }

  /**
   * Takes a snapshot when one is due, of everything committed so far: called once a batch is in
   * the state and in the idempotency index, as the snapshot closes the layer they went into.
   */
  private snapshotIfDue(): void {
    const state = this.currentState();
    const retryAt = this.snapshotRetry?.state === state ? this.snapshotRetry.at : 0;
    const due =
      state.unsnapshotted >= Math.max(this.recovery.snapshotRecords, retryAt) ||
      Date.now() - this.lastSnapshotAt >= (this.options.snapshotIntervalMs ?? 60_000);
    if (due && !state.busy && state.closeForSnapshot()) void this.snapshot(state);
  }

  /**
   * A snapshot is looked for after each committed batch; a writer that went quiet after a burst
   * commits none, and its last records would wait in memory, in no snapshot, until the next
   * append or a clean close. This takes the snapshot once `snapshotIntervalMs` has passed.
   */
  private snapshotWhenIdle(): void {
    // A batch in flight looks itself once committed; one that failed may be reconciling (reading the partition back).
    if (this.machine.state !== 'open' || this.needsRecovery || this.inFlight || !this.state || this.state.unsnapshotted === 0)
      return;
    this.snapshotIfDue();
  }

  /**
   * Writes a snapshot (in the background: the promise is for close(), and never rejects); a
   * failure leaves what it would have written for the next one.
   */
  private snapshot(state: PartitionState): Promise<void> {
    const genesis = this.head?.genesisHash;
    if (!genesis) return Promise.resolve();
    this.lastSnapshotAt = Date.now();
    const { partition, onSnapshot, signer } = this.options;
    return state.takeSnapshot(signer, genesis).then(
      (taken) => {
        this.snapshotRetry = null;
        if (taken) onSnapshot?.({ kind: 'taken', partition, treeSize: taken.treeSize });
      },
      (error: unknown) => {
        if (error instanceof SnapshotDeferredError) {
          this.snapshotRetry = { state, at: state.unsnapshotted + this.recovery.snapshotRecords };
        }
        onSnapshot?.({ kind: 'failed', partition, reason: error instanceof Error ? error.message : String(error) });
      },
    );
  }

  /**
   * One batch, one transaction: every group taken is answered by its receipts, a refusal, or
   * the failure. Pipelined (docs/ledger-format.md §8, "Pipeline"): while the batch before is in
   * flight, this one is drafted on the head that one leaves, and takes the groups that arrive
   * meanwhile as long as it has room (batches grow with the queue); once that one is committed
   * it is signed and sent, and the call resolves with this one in flight. When the batch before
   * fails, nothing of this one was sent or answered: every group of it is put back, to be drafted
   * again on the partition read back.
   */
  private async commit(taken: readonly WaitingGroup[]): Promise<void> {
    // The writer may have stopped taking appends while this batch waited: it is not sent.
    if ((await this.snapshotsCaughtUp()) && this.machine.state !== 'open') {
      this.queue.putBack(taken);
      return;
    }
    // The partition is never read back under a transaction in flight.
    if (this.needsRecovery) await this.settled();
    const previous = this.inFlight;
    const groups = [...taken];
    let batch: BatchDraft | null = null;
    // What the draft answers at once waits: a refusal may rest on records not committed yet,
    // those of the batch before and those of this batch's groups drafted before it.
    const held = new HeldAnswers(() => (batch?.accepted.length ?? 0) > 0);
    const leases: Lease[] = [];
    try {
      if (this.needsRecovery) this.adopt(await this.recover());
      leases.push(await this.load(groups, [...this.unloaded]));
      this.unloaded = new Set();
      // The batch before may have been committed meanwhile: then this one is drafted on the committed head.
      batch = this.newBatch(this.inFlight);
      let rest = batch.draftGroups(held.hold(groups));
      while (previous) {
        const room = rest.length > 0 ? 0 : this.options.maxBatch - batch.appends;
        const next = await Promise.race([previous.done, ...(room > 0 ? [this.queue.arrival()] : [])]);
        if (next !== 'arrived') {
          if (!next) {
            this.queue.putBack(groups);
            return;
          }
          break;
        }
        const more = this.queue.takeUpTo(room);
        if (more.length === 0) continue;
        groups.push(...more);
        leases.push(await this.load(more, []));
        rest = batch.draftGroups(held.hold(more));
      }
      for (const id of batch.unloaded) this.unloaded.add(id);
      this.queue.putBack(held.originals(rest));
      // The batch before is committed: what rests on it is told. Refusals that may rest on this
      // batch's own records are told once it is committed, and decided again when it is not.
      held.release();
      if (batch.accepted.length === 0) return;
      batch.seal(this.options.signer);
      const flight: InFlightBatch = {
        head: batch.chain.pendingHead(),
        states: batch.draftedStates,
        eventIds: batch.draftedEventIds,
        done: this.send(batch, leases.splice(0))
          .then(
            (committed) => {
              if (committed) held.deliver();
              else this.queue.putBack(held.withdraw());
              return committed;
            },
            (error: unknown) => {
              this.queue.putBack(held.withdraw());
              throw error;
            },
          )
          .finally(() => {
            if (this.inFlight === flight) this.inFlight = null;
          }),
      };
      this.inFlight = flight;
    } catch (error) {
      if (previous) await previous.done;
      // Nothing of this batch was sent. Answers the draft gave and released are settled; the
      // failure answers the others, refusals held for this batch included.
      const unanswered = held.released ? [...(batch?.accepted.map(({ group }) => group) ?? []), ...held.withdraw()] : groups;
      await this.commitFailed(error, null, unanswered);
    } finally {
      for (const lease of leases) lease.release();
    }
  }

  /**
   * What is committed and in no snapshot yet stays in memory (the state's layers, the records'
   * bytes). A writer that commits faster than its snapshots are written would hold more and
   * more: from `snapshotBacklog` records on, the next batch waits for the snapshot being
   * written, so appends go at the pace of the snapshots (docs/ledger-format.md §11). A snapshot
   * that failed is not waited for: the next one takes its records. One that does not end (a
   * database that does not answer) is waited for at most SNAPSHOT_BACKLOG_WAIT_MS, once: appends
   * then go on without it. Whether the batch waited.
   */
  private async snapshotsCaughtUp(): Promise<boolean> {
    const backlog = this.options.snapshotBacklog ?? 4 * this.recovery.snapshotRecords;
    const state = this.state;
    let waited = false;
    while (state && this.state === state && state.unsnapshotted >= backlog) {
      const writing = state.writing;
      if (!writing || writing === this.snapshotGivenUp) break;
      waited = true;
      const ended = await Promise.race([
        writing.then(() => true),
        delay(this.options.snapshotBacklogWaitMs ?? SNAPSHOT_BACKLOG_WAIT_MS).then(() => false),
      ]);
      if (!ended) this.snapshotGivenUp = writing;
    }
    return waited;
  }

  /** A snapshot waited for too long (snapshotsCaughtUp): appends no longer wait for it. */
  private snapshotGivenUp: Promise<void> | null = null;

  /** Loads the entities and event ids of these groups (and `also`), from disk into memory until the batch is committed. */
  private load(groups: readonly WaitingGroup[], also: readonly string[]): Promise<Lease> {
    const requests = groups.flatMap((group) => group.requests);
    return this.currentState().load(
      [...requests.flatMap((request) => request.entityIds), ...also],
      requests.map((request) => request.eventId),
    );
  }

  /** Sends a sealed batch as one transaction and answers its groups: true once committed (and taken as the head) on the plain path. */
  private async send(batch: BatchDraft, leases: readonly Lease[]): Promise<boolean> {
    try {
      const offsets = await this.options.log.appendTransaction(batch.logEntries(this.partitionKey()));
      this.head = batch.chain.head();
      this.applied([...batch.accepted.flatMap((group) => group.records), batch.checkpoint as DraftedRecord], offsets);
      this.committed(batch, offsets);
      // After the index took the batch: a snapshot closes the layer its entries went into.
      this.snapshotIfDue();
      return true;
    } catch (error) {
      await this.commitFailed(
        error,
        batch,
        batch.accepted.map(({ group }) => group),
      );
      return false;
    } finally {
      for (const lease of leases) lease.release();
    }
  }

  /** Resolves once no batch is in flight (AppendQueue waits for it before it stops). */
  private async settled(): Promise<void> {
    while (this.inFlight) await this.inFlight.done;
  }

  /** A batch drafted on the head the batch in flight leaves (or the committed one), against the states it leaves and the index. */
  private newBatch(pending: InFlightBatch | null): BatchDraft {
    const { ledgerId, partition, clock, stateModel } = this.options;
    const chain = new ChainDraft(pending?.head ?? this.currentHead(), ledgerId, partition, clock.now().toISOString());
    const state = this.currentState();
    const committedStates = pending
      ? { get: (id: string) => (pending.states.has(id) ? pending.states.get(id) : state.stateOf(id)) }
      : { get: (id: string) => state.stateOf(id) };
    return new BatchDraft(chain, {
      committedStates,
      index: this.index as IdempotencyIndex,
      stateModel,
      queue: this.queue,
      ...(pending ? { inFlightEventIds: pending.eventIds } : {}),
    });
  }

  /** The key of the writer's own records (genesis, checkpoints). */
  private partitionKey(): string {
    return `ledger:${this.options.ledgerId}:${this.options.partition}`;
  }

  /** Answers the batch's groups with their receipts, and indexes their records. */
  private committed(batch: BatchDraft, offsets: readonly (string | undefined)[]): void {
    const { ledgerId, partition } = this.options;
    const checkpointSize = (batch.checkpoint as DraftedRecord).record.sequence;
    this.committedEnd = endAfter(offsets);
    this.batches += 1;
    let i = 0;
    for (const { group, records } of batch.accepted) {
      const receipts = records.map((drafted) => {
        const { record, hash } = drafted;
        const receipt = { ledgerId, partition, offset: offsets[i++] as string, sequence: record.sequence, hash, checkpointSize };
        this.index?.committed(record, receipt);
        return receipt;
      });
      this.appends += receipts.length;
      group.resolve(receipts);
    }
  }

  /**
   * The transaction failed. Sent but not confirmed, it is reconciled with what the partition
   * holds; else nothing of it landed, and the groups still unanswered get the failure.
   */
  private async commitFailed(error: unknown, batch: BatchDraft | null, unanswered: readonly WaitingGroup[]): Promise<void> {
    // State on disk that is not what its snapshot commits to: the next recovery reads the whole partition.
    if (error instanceof StateTreeIntegrityError) this.distrusted = error.message;
    const failure = asLedgerError(error, this.options.partition);
    if (failure instanceof AppendOutcomeUnknownError && batch?.checkpoint) {
      await this.reconcile(batch, batch.checkpoint, failure);
      return;
    }
    // Not committed, but re-read the head before the next batch all the same.
    this.needsRecovery = true;
    // A partition changed behind the writer fails it even when close() came meanwhile.
    if (failure instanceof LedgerIntegrityError) this.machine.transition('failed', failure);
    else this.afterFailure(failure);
    for (const group of unanswered) group.reject(failure);
  }

  /**
   * The commit was sent but not confirmed. The transaction landed whole or not at all: read
   * the partition back and answer the callers from what is there. Only when that read fails
   * too do they get AppendOutcomeUnknownError.
   */
  private async reconcile(batch: BatchDraft, checkpoint: DraftedRecord, unknown: AppendOutcomeUnknownError): Promise<void> {
    const { accepted } = batch;
    // Closing because Kafka's group moved the partition: reading back would fence its new writer.
    if (this.machine.state === 'closed' && this.options.reclaimWhenFenced === false) {
      this.needsRecovery = true;
      for (const { group } of accepted) group.reject(unknown);
      return;
    }
    const records = accepted.flatMap((group) => group.records);
    try {
      const recovered = await this.recover(new Set([...records.map((drafted) => drafted.hash), checkpoint.hash]));
      this.adopt(recovered);
      const { found } = recovered;
      const checkpointOffset = found.get(checkpoint.hash);
      if (checkpointOffset !== undefined) {
        this.committed(batch, [...records.map((drafted) => found.get(drafted.hash)), checkpointOffset]);
        return;
      }
      const notCommitted = new LedgerUnavailableError(
        `partition ${this.options.partition}: the transaction was not committed (${unknown.message})`,
      );
      for (const { group } of accepted) group.reject(notCommitted);
    } catch (error) {
      this.needsRecovery = true;
      for (const { group } of accepted) group.reject(unknown);
      this.afterFailure(asLedgerError(error, this.options.partition));
    }
  }

  /** What a failed Kafka operation does to an open writer (stateAfterFailure); a batch's own failure leaves it open. */
  private afterFailure(failure: LedgerError): void {
    if (this.machine.state !== 'open') return;
    const next = stateAfterFailure(failure);
    if (next === 'fenced') this.fenced(failure);
    else if (next === 'failed') this.machine.transition('failed', failure);
    else if (next === 'unavailable') this.unreachable(failure);
  }

  /**
   * Kafka did not take a transaction, or could not be read: every later append would wait out
   * the same retries (seconds each) only to fail too. Until the partition is read back, refuse
   * appends at once (nothing is recorded, a retry is safe) and read it back in the background.
   */
  private unreachable(cause: LedgerError): void {
    const outage = new LedgerUnavailableError(
      `partition ${this.options.partition} cannot be reached (${cause.message}); nothing was recorded`,
    );
    this.machine.transition('unavailable', outage);
    this.readingBack = this.readBack();
  }

  /** Reads the partition back until Kafka answers, then takes appends again on the chain it found. */
  private async readBack(): Promise<void> {
    const stillUnavailable = () => this.machine.state === 'unavailable';
    const outcome = await readBackUntilReachable(this.reopening(stillUnavailable));
    if (outcome && stillUnavailable()) this.reopen(outcome);
  }

  /**
   * Another writer took the partition over (a second instance started against the same
   * ledger). Kafka's fencing keeps this one from appending, so there is no fork; it refuses
   * appends, and takes the partition back once the other writer is idle (reclaimWhenIdle), unless
   * Kafka's group places the writers (several instances): then it waits to be released.
   */
  private fenced(failure: LedgerError): void {
    this.machine.transition('fenced', failure);
    this.needsRecovery = true;
    if (this.options.reclaimWhenFenced !== false) this.readingBack = this.reclaim();
  }

  private async reclaim(): Promise<void> {
    const stillFenced = () => this.machine.state === 'fenced';
    const outcome = await reclaimWhenIdle(this.reopening(stillFenced));
    if (outcome && stillFenced()) this.reopen(outcome);
  }

  private reopening(stillWaiting: () => boolean): Reopening {
    const { partition, log } = this.options;
    return { partition, log, delays: this.options, recover: () => this.recover(), stillWaiting };
  }

  /** Takes appends again on the partition read back, or leaves for the state a failure calls for. */
  private reopen(outcome: NonNullable<ReopeningOutcome>): void {
    if ('recovered' in outcome) {
      this.adopt(outcome.recovered);
      this.machine.transition('open');
    } else if (stateAfterFailure(outcome.failure) === 'fenced') {
      this.fenced(outcome.failure);
    } else {
      this.machine.transition('failed', outcome.failure);
    }
  }
}

/** A batch sent and not committed yet: what the next batch is drafted on. */
interface InFlightBatch {
  /** The head it leaves, its entity heads over the committed ones (ChainDraft.pendingHead). */
  readonly head: ChainHead;
  /** The entity states it leaves. */
  readonly states: ReadonlyMap<string, unknown>;
  readonly eventIds: ReadonlySet<string>;
  /** True once committed and answered; false when it failed (the batch drafted on it is put back). */
  readonly done: Promise<boolean>;
}

/**
 * What the draft of a batch answers at once (a refusal, a replay) may rest on records not
 * committed yet: those of the batch in flight before it, and, for a refusal, those of the groups
 * drafted before it in the same batch (`restsOnBatch`: the batch has accepted groups). Answers
 * are held while the batch is drafted; `release` tells them once the batch before is committed,
 * but for refusals drafted after a group of this batch, which wait until this batch is committed
 * (`deliver`) or, when it is not, are withdrawn: their groups are decided again. After `release`
 * answers (receipts, failures) go straight through.
 */
class HeldAnswers {
  private readonly answers: (() => void)[] = [];
  private readonly refusals: { readonly group: WaitingGroup; readonly tell: () => void }[] = [];
  private readonly original = new Map<WaitingGroup, WaitingGroup>();
  released = false;

  constructor(private readonly restsOnBatch: () => boolean) {}

  /** Stand-ins for these groups, whose answers wait for `release`. */
  hold(groups: readonly WaitingGroup[]): WaitingGroup[] {
    return groups.map((group) => {
      const held: WaitingGroup = {
        requests: group.requests,
        resolve: (receipts) => {
          this.tell(() => {
            group.resolve(receipts);
          });
        },
        reject: (error) => {
          const tell = () => {
            group.reject(error);
          };
          if (!this.released && this.restsOnBatch()) this.refusals.push({ group, tell });
          else this.tell(tell);
        },
      };
      this.original.set(held, group);
      return held;
    });
  }

  private tell(answer: () => void): void {
    if (this.released) answer();
    else this.answers.push(answer);
  }

  /** Tells the answers held but the refusals that rest on the batch; later ones go straight through. */
  release(): void {
    this.released = true;
    for (const answer of this.answers.splice(0)) answer();
  }

  /** Tells the refusals held: the records they may rest on are committed. */
  deliver(): void {
    for (const { tell } of this.refusals.splice(0)) tell();
  }

  /** The groups whose refusals are still held, untold: they are to be decided again. */
  withdraw(): WaitingGroup[] {
    return this.refusals.splice(0).map(({ group }) => group);
  }

  /** The groups themselves, for these held ones (to put back into the queue). */
  originals(held: readonly WaitingGroup[]): WaitingGroup[] {
    return held.map((group) => this.original.get(group) ?? group);
  }
}

/** How long close() waits for its last snapshot: the next start reads a longer tail when it does not finish. */
const CLOSING_SNAPSHOT_WAIT_MS = 10_000;

/** The longest a batch waits for a snapshot that does not end before appends go on without it (snapshotsCaughtUp). */
const SNAPSHOT_BACKLOG_WAIT_MS = 30_000;

/** Resolves after `ms`, holding no process open. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** The offset after the last of a transaction's records. */
function endAfter(offsets: readonly (string | undefined)[]): string {
  return (BigInt(offsets.at(-1) ?? '-1') + 1n).toString();
}

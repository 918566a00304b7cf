import { randomUUID } from 'node:crypto';
import { AppendQueue, type AppendQueueLimits, type WaitingGroup } from './append-queue.js';
import { BatchDraft } from './batch-draft.js';
import type { ChainHead } from './chain-verifier.js';
import { ChainDraft, type DraftedRecord, logEntry } from './chain-draft.js';
import type { Hash } from './hashing.js';
import { IdempotencyIndex } from './idempotency-index.js';
import type { AppendReceipt, AppendRequest } from './ledger-record.js';
import {
  AppendOutcomeUnknownError,
  type LedgerError,
  LedgerIntegrityError,
  LedgerUnavailableError,
  WriterClosedError,
} from './ledger-errors.js';
import { type PartitionRecoveryOptions, type RecoveredPartition, recoverPartition } from './partition-recovery.js';
import type { Clock, GenesisPins } from './ports.js';
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
export interface PartitionWriterOptions extends PartitionRecoveryOptions, AppendQueueLimits, ReopeningDelays {
  readonly partitions: number;
  readonly pins: GenesisPins;
  readonly clock: Clock;
  /** A genesis hash the operator pinned in configuration, checked besides the stored pin. */
  readonly configuredGenesis?: Hash;
  /** Event ids of the writer's own records (genesis, checkpoints); random UUIDs by default. */
  readonly newEventId?: () => string;
  /** Told every change of the writer's state, with the reason for an unhealthy one. */
  readonly onStatus?: (status: WriterStatus) => void;
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
  /** Each entity's state after the last committed record, by the state model. */
  private entityStates = new Map<string, unknown>();
  /** Committed records with a request digest. */
  private index = new IdempotencyIndex();
  private readonly newEventId: () => string;

  constructor(private readonly options: PartitionWriterOptions) {
    this.newEventId = options.newEventId ?? randomUUID;
    this.machine = new WriterStateMachine(options.partition, options.onStatus);
    this.queue = new AppendQueue(options, {
      commit: (groups) => this.commit(groups),
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
    return this.currentHead();
  }

  /** An entity's state after the last committed record (undefined: no record of it). */
  committedState(entityId: string): unknown {
    return this.entityStates.get(entityId);
  }

  /**
   * The receipts of committed records with these event ids, when `requestDigest` names the
   * same request that recorded them: a retry is answered from the ledger, not recorded again
   * (IdempotencyIndex.recorded).
   */
  recorded(eventIds: readonly string[], requestDigest: string): AppendReceipt[] | undefined {
    return this.index.recorded(eventIds, requestDigest);
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

  /** Takes no more appends, lets the batch in flight finish, and rejects what still waits. */
  async close(): Promise<void> {
    if (this.machine.state !== 'failed') this.machine.transition('closed');
    await this.queue.idle();
    await this.readingBack;
    this.queue.rejectAll(() => this.machine.refusal());
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
    this.adopt(await recoverPartition(this.options, configuredGenesis ?? pinned ?? undefined));
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
    const offsets = await log.appendTransaction([genesis, checkpoint].map((drafted) => logEntry(drafted, this.partitionKey())));
    this.head = draft.head();
    this.committedEnd = endAfter(offsets);
    await pins.pin(ledgerId, partition, genesis.hash);
  }

  /** Reads the partition back and verifies it, from the genesis the writer holds (recoverPartition). */
  private recover(watch?: ReadonlySet<Hash>): Promise<RecoveredPartition> {
    return recoverPartition(this.options, this.head?.genesisHash ?? undefined, watch);
  }

  /** Takes a partition read back (and verified) as the writer's head, entity states and index. */
  private adopt(recovered: RecoveredPartition): void {
    this.head = recovered.head;
    this.entityStates = recovered.states;
    this.index = recovered.index;
    this.needsRecovery = false;
  }

  /** One batch, one transaction: every group taken is answered by its receipts, a refusal, or the failure. */
  private async commit(groups: readonly WaitingGroup[]): Promise<void> {
    let batch: BatchDraft | null = null;
    try {
      if (this.needsRecovery) this.adopt(await this.recover());
      batch = this.newBatch();
      this.queue.putBack(batch.draftGroups(groups));
      if (batch.accepted.length === 0) return;
      batch.seal(this.options.signer);
      const offsets = await this.options.log.appendTransaction(batch.logEntries(this.partitionKey()));
      this.head = batch.chain.head();
      for (const [id, state] of batch.draftedStates) this.entityStates.set(id, state);
      this.committed(batch, offsets);
    } catch (error) {
      // Groups answered or put back by the draft are settled; the failure answers the others.
      const unanswered = batch ? batch.accepted.map(({ group }) => group) : groups;
      await this.commitFailed(asLedgerError(error, this.options.partition), batch, unanswered);
    }
  }

  /** A batch drafted on a copy of the head, against the committed states and index. */
  private newBatch(): BatchDraft {
    const { ledgerId, partition, clock, stateModel } = this.options;
    const chain = new ChainDraft(this.currentHead(), ledgerId, partition, clock.now().toISOString());
    return new BatchDraft(chain, { committedStates: this.entityStates, index: this.index, stateModel, queue: this.queue });
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
        this.index.committed(record, receipt);
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
  private async commitFailed(failure: LedgerError, batch: BatchDraft | null, unanswered: readonly WaitingGroup[]): Promise<void> {
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
   * appends, and takes the partition back once the other writer is idle (reclaimWhenIdle).
   */
  private fenced(failure: LedgerError): void {
    this.machine.transition('fenced', failure);
    this.needsRecovery = true;
    this.readingBack = this.reclaim();
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

/** The offset after the last of a transaction's records. */
function endAfter(offsets: readonly (string | undefined)[]): string {
  return (BigInt(offsets.at(-1) ?? '-1') + 1n).toString();
}

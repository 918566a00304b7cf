import { randomUUID } from 'node:crypto';
import { ChainVerifier, type ChainBreak, type ChainHead } from './chain-verifier.js';
import {
  checkpointEventId,
  CheckpointSigner,
  CheckpointVerifier,
  checkpointOrigin,
  type SignedCheckpoint,
} from './checkpoint-note.js';
import type { Hash } from './hashing.js';
import {
  type AppendReceipt,
  type AppendRequest,
  CHECKPOINT_EVENT,
  FORMAT_VERSION,
  GENESIS_EVENT,
  type GenesisPayload,
  type EntityStateModel,
  type LedgerRecord,
  WRITER_ACTOR,
} from './ledger-record.js';
import {
  AppendOutcomeUnknownError,
  AppendRejectedError,
  LedgerError,
  LedgerIntegrityError,
  LedgerUnavailableError,
  WriterClosedError,
  WriterFencedError,
} from './ledger-errors.js';
import type { MerkleTree } from './merkle-tree.js';
import type { Clock, GenesisPins, LogEntry, PartitionLog } from './ports.js';
import { encodeRecord } from './record-codec.js';

export interface PartitionWriterOptions {
  readonly ledgerId: string;
  readonly partition: number;
  readonly partitions: number;
  readonly signer: CheckpointSigner;
  readonly log: PartitionLog;
  readonly pins: GenesisPins;
  readonly clock: Clock;
  /** Most appends one transaction carries (the checkpoint comes on top). */
  readonly maxBatch: number;
  /** A genesis hash the operator pinned in configuration, checked besides the stored pin. */
  readonly configuredGenesis?: Hash;
  /** Event ids of the writer's own records (genesis, checkpoints); random UUIDs by default. */
  readonly newEventId?: () => string;
  /** How entity state follows from records, for preconditions; none keeps no state. */
  readonly stateModel?: EntityStateModel;
}

interface Waiting {
  readonly request: AppendRequest;
  resolve(receipt: AppendReceipt): void;
  reject(error: Error): void;
}

interface Built {
  readonly record: LedgerRecord;
  readonly bytes: Uint8Array;
  readonly hash: Hash;
}

export interface WriterStats {
  readonly batches: number;
  readonly appends: number;
  /** The offset after the last checkpoint this writer committed (null before its first). */
  readonly committedEnd: string | null;
}

/** A batch being built on a copy of the head; the head changes only once Kafka committed. */
class Draft {
  readonly built: Built[] = [];
  private nextSequence: number;
  private headHash: Hash | null;
  private readonly tree: MerkleTree;
  private readonly entityHeads = new Map<string, Hash>();

  constructor(
    private readonly base: ChainHead,
    private readonly ledgerId: string,
    private readonly partition: number,
    private readonly recordedAt: string,
    private readonly newEventId: () => string,
  ) {
    this.nextSequence = base.nextSequence;
    this.headHash = base.headHash;
    this.tree = base.tree.clone();
  }

  add(
    fields: Pick<LedgerRecord, 'eventId' | 'eventType' | 'occurredAt' | 'actor' | 'payload'>,
    entityIds: readonly string[],
  ): Built {
    const record: LedgerRecord = {
      formatVersion: FORMAT_VERSION,
      ledgerId: this.ledgerId,
      partition: this.partition,
      sequence: this.nextSequence,
      previousHash: this.headHash,
      eventId: fields.eventId,
      eventType: fields.eventType,
      entities: entityIds.map((id) => ({ id, previousHash: this.entityHeads.get(id) ?? this.base.entityHeads.get(id) ?? null })),
      occurredAt: fields.occurredAt,
      recordedAt: this.recordedAt,
      actor: fields.actor,
      payload: fields.payload,
    };
    const { bytes, hash } = encodeRecord(record);
    for (const id of entityIds) this.entityHeads.set(id, hash);
    this.tree.append(hash);
    this.headHash = hash;
    this.nextSequence += 1;
    const built = { record, bytes, hash };
    this.built.push(built);
    return built;
  }

  /** Ends the batch with a checkpoint over every record before it, signed. */
  checkpoint(signer: CheckpointSigner): Built {
    const signed = signer.sign({
      origin: checkpointOrigin(this.ledgerId, this.partition),
      treeSize: this.tree.size,
      rootHash: this.tree.root(),
      headHash: this.headHash ?? '',
      time: this.recordedAt,
    });
    return this.add(
      {
        eventId: checkpointEventId(signed),
        eventType: CHECKPOINT_EVENT,
        occurredAt: this.recordedAt,
        actor: WRITER_ACTOR,
        payload: { ...signed },
      },
      [],
    );
  }

  head(): ChainHead {
    const last = this.built.at(-1);
    const entityHeads = new Map(this.base.entityHeads);
    for (const [id, hash] of this.entityHeads) entityHeads.set(id, hash);
    return {
      nextSequence: this.nextSequence,
      headHash: this.headHash,
      genesisHash: this.base.genesisHash ?? (this.built[0]?.record.sequence === 0 ? this.built[0].hash : null),
      tree: this.tree,
      entityHeads,
      lastCheckpoint:
        last?.record.eventType === CHECKPOINT_EVENT
          ? (last.record.payload as unknown as SignedCheckpoint)
          : this.base.lastCheckpoint,
      nextOffset: null,
    };
  }
}

function describeBreak(problem: ChainBreak): string {
  const where = `partition ${problem.partition}, offset ${problem.offset}, sequence ${problem.sequence ?? '?'}`;
  const entity = problem.entityId ? `, entity ${problem.entityId}` : '';
  const diff = problem.expected !== undefined ? ` (expected ${problem.expected}, found ${problem.found ?? '?'})` : '';
  return `${problem.kind} at ${where}${entity}: ${problem.message}${diff}`;
}

/**
 * The only component that appends to one ledger partition (docs/ledger-format.md, "Writer").
 * Appends that arrive while a transaction is in flight form the next batch (group commit);
 * every batch ends with a signed checkpoint and is one Kafka transaction. A caller's receipt
 * resolves only after Kafka acknowledged the commit.
 */
export class PartitionWriter {
  private head: ChainHead | null = null;
  private needsRecovery = true;
  private state: 'new' | 'open' | 'fenced' | 'failed' | 'closed' = 'new';
  private failure: LedgerError | null = null;
  private readonly queue: Waiting[] = [];
  private pumping = false;
  private drained: Promise<void> = Promise.resolve();
  private batches = 0;
  private appends = 0;
  private committedEnd: string | null = null;
  /** Each entity's state after the last committed record, by the state model. */
  private entityStates = new Map<string, unknown>();

  private readonly newEventId: () => string;

  constructor(private readonly options: PartitionWriterOptions) {
    this.newEventId = options.newEventId ?? randomUUID;
  }

  get stats(): WriterStats {
    return { batches: this.batches, appends: this.appends, committedEnd: this.committedEnd };
  }

  get status(): string {
    return this.state;
  }

  /** Fences other writers, verifies the partition, writes and pins genesis when it is empty. */
  async start(): Promise<ChainHead> {
    const { log, pins, ledgerId, partition, configuredGenesis } = this.options;
    await log.open();
    const pinned = await pins.get(ledgerId, partition);
    if (pinned && configuredGenesis && pinned !== configuredGenesis) {
      throw new LedgerIntegrityError(
        `partition ${partition}: the configured genesis ${configuredGenesis} differs from the pinned ${pinned}`,
      );
    }
    const { head, states } = await this.recover(configuredGenesis ?? pinned ?? undefined);
    this.entityStates = states;
    this.head = head;
    this.needsRecovery = false;
    // With a pin, an empty partition does not verify: recover() has thrown already.
    if (head.genesisHash === null) await this.writeGenesis();
    else if (!pinned) await pins.pin(ledgerId, partition, head.genesisHash);
    this.state = 'open';
    return this.currentHead();
  }

  /** An entity's state after the last committed record (undefined: no record of it). */
  committedState(entityId: string): unknown {
    return this.entityStates.get(entityId);
  }

  currentHead(): ChainHead {
    if (!this.head) throw new WriterClosedError('the writer has not started');
    return this.head;
  }

  append(request: AppendRequest): Promise<AppendReceipt> {
    if (this.state !== 'open') return Promise.reject(this.unavailable());
    return new Promise<AppendReceipt>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (!this.pumping) {
        this.pumping = true;
        this.drained = this.pump();
      }
    });
  }

  /** Takes no more appends, lets the batch in flight finish, and rejects what still waits. */
  async close(): Promise<void> {
    if (this.state === 'open' || this.state === 'new') this.state = 'closed';
    await this.drained;
    for (const waiting of this.queue.splice(0)) waiting.reject(this.unavailable());
    await this.options.log.close();
  }

  private unavailable(): LedgerError {
    if (this.failure) return this.failure;
    return new WriterClosedError(`the writer of partition ${this.options.partition} is ${this.state}`);
  }

  /**
   * Commits batches until the queue is empty. `pumping` is cleared in the same tick as the
   * last look at the queue, so an append can never be left waiting with no pump running.
   */
  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0 && this.state === 'open') {
        const batch = this.queue.splice(0, this.options.maxBatch);
        await this.commit(batch);
      }
      if (this.state !== 'open') for (const waiting of this.queue.splice(0)) waiting.reject(this.unavailable());
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Reads the partition back and verifies it; returns its head, and the offsets of the
   * records among `watch` (by hash) that it found.
   */
  private async recover(
    genesisHash: Hash | undefined,
    watch: ReadonlySet<Hash> = new Set(),
  ): Promise<{ head: ChainHead; found: Map<Hash, string>; states: Map<string, unknown> }> {
    const { ledgerId, partition, signer, log } = this.options;
    const verifier = new ChainVerifier({
      ledgerId,
      partition,
      verifier: new CheckpointVerifier(signer.keyName, signer.publicKey),
      genesisHash,
    });
    const found = new Map<Hash, string>();
    const states = new Map<string, unknown>();
    const model = this.options.stateModel;
    for await (const entry of log.readAll()) {
      const result = verifier.push(entry.offset, entry.value);
      if ('break' in result) throw new LedgerIntegrityError(`refusing to extend a broken chain: ${describeBreak(result.break)}`);
      for (const stored of result.verified) {
        if (watch.has(stored.hash)) found.set(stored.hash, stored.offset);
        if (model) for (const { id } of stored.record.entities) states.set(id, model.evolve(states.get(id), stored.record, id));
      }
    }
    const end = verifier.end();
    if (end) throw new LedgerIntegrityError(`refusing to extend a broken chain: ${describeBreak(end)}`);
    return { head: verifier.head(), found, states };
  }

  private async writeGenesis(): Promise<void> {
    const { ledgerId, partition, partitions, signer, pins } = this.options;
    const now = this.options.clock.now().toISOString();
    const draft = new Draft(this.currentHead(), ledgerId, partition, now, this.newEventId);
    const payload: GenesisPayload = {
      ledgerId,
      partition,
      partitions,
      hash: 'sha-256',
      merkleTree: 'rfc9162',
      checkpointSignature: 'ed25519',
      checkpointKey: signer.verifierKey,
    };
    const genesis = draft.add(
      { eventId: this.newEventId(), eventType: GENESIS_EVENT, occurredAt: now, actor: WRITER_ACTOR, payload },
      [],
    );
    const checkpoint = draft.checkpoint(signer);
    const offsets = await this.options.log.appendTransaction(
      [genesis, checkpoint].map((built) => this.entry(built, `ledger:${ledgerId}:${partition}`)),
    );
    this.head = draft.head();
    this.committedEnd = (BigInt(offsets.at(-1) ?? '-1') + 1n).toString();
    await pins.pin(ledgerId, partition, genesis.hash);
  }

  private entry(built: Built, key: string): LogEntry {
    return {
      key,
      value: built.bytes,
      headers: {
        'custodian-format': String(FORMAT_VERSION),
        'custodian-sequence': String(built.record.sequence),
        // A hint for people reading the topic; readers always recompute the hash.
        'custodian-hash': built.hash,
      },
    };
  }

  private async commit(waiting: Waiting[]): Promise<void> {
    const { ledgerId, partition, signer, log } = this.options;
    let batch: Waiting[] = waiting;
    let built: Built[] = [];
    let checkpoint: Built | undefined;
    const drafted = new Map<string, unknown>();
    try {
      if (this.needsRecovery) {
        const recovered = await this.recover(this.head?.genesisHash ?? undefined);
        this.head = recovered.head;
        this.entityStates = recovered.states;
        this.needsRecovery = false;
      }
      const draft = new Draft(this.currentHead(), ledgerId, partition, this.options.clock.now().toISOString(), this.newEventId);
      // Each request on its own: one whose precondition fails, or that cannot become a
      // record, is refused alone. States of this batch stay in `drafted` until Kafka commits.
      const model = this.options.stateModel;
      const stateOf = (id: string): unknown => (drafted.has(id) ? drafted.get(id) : this.entityStates.get(id));
      batch = [];
      for (const request of waiting) {
        try {
          request.request.precondition?.(stateOf);
        } catch (refusal) {
          request.reject(refusal instanceof Error ? refusal : new AppendRejectedError(String(refusal)));
          continue;
        }
        try {
          const record = draft.add(request.request, request.request.entityIds);
          if (model) for (const id of request.request.entityIds) drafted.set(id, model.evolve(stateOf(id), record.record, id));
          built.push(record);
          batch.push(request);
        } catch (error) {
          request.reject(
            new AppendRejectedError(`the record cannot be built: ${error instanceof Error ? error.message : String(error)}`),
          );
        }
      }
      if (batch.length === 0) return;
      checkpoint = draft.checkpoint(signer);
      const entries = built.map((b, i) => this.entry(b, batch[i]?.request.entityIds[0] ?? `ledger:${ledgerId}:${partition}`));
      entries.push(this.entry(checkpoint, `ledger:${ledgerId}:${partition}`));
      const offsets = await log.appendTransaction(entries);
      this.head = draft.head();
      for (const [id, state] of drafted) this.entityStates.set(id, state);
      this.committed(batch, built, offsets, checkpoint.record.sequence);
    } catch (error) {
      const failure = this.classify(error);
      if (failure instanceof AppendOutcomeUnknownError && checkpoint) {
        await this.reconcile(batch, built, checkpoint, failure);
        return;
      }
      if (failure instanceof WriterFencedError) {
        this.state = 'fenced';
        this.failure = failure;
      } else if (failure instanceof LedgerIntegrityError) {
        this.state = 'failed';
        this.failure = failure;
      } else {
        // Not committed, but re-read the head before the next batch all the same.
        this.needsRecovery = true;
      }
      for (const request of batch) request.reject(failure);
      built = [];
    }
  }

  private committed(
    batch: readonly Waiting[],
    built: readonly Built[],
    offsets: readonly (string | undefined)[],
    checkpointSize: number,
  ): void {
    const { ledgerId, partition } = this.options;
    this.committedEnd = (BigInt(offsets.at(-1) ?? '-1') + 1n).toString();
    this.batches += 1;
    this.appends += batch.length;
    batch.forEach((request, i) => {
      const b = built[i] as Built;
      request.resolve({
        ledgerId,
        partition,
        offset: offsets[i] as string,
        sequence: b.record.sequence,
        hash: b.hash,
        checkpointSize,
      });
    });
  }

  /**
   * The commit was sent but not confirmed. The transaction landed whole or not at all: read
   * the partition back and answer the callers from what is there. Only when that read fails
   * too do they get AppendOutcomeUnknownError.
   */
  private async reconcile(
    batch: readonly Waiting[],
    built: readonly Built[],
    checkpoint: Built,
    unknown: AppendOutcomeUnknownError,
  ): Promise<void> {
    try {
      const watch = new Set([...built.map((b) => b.hash), checkpoint.hash]);
      const { head, found, states } = await this.recover(this.head?.genesisHash ?? undefined, watch);
      this.head = head;
      this.entityStates = states;
      this.needsRecovery = false;
      const checkpointOffset = found.get(checkpoint.hash);
      if (checkpointOffset !== undefined) {
        const offsets = [...built.map((b) => found.get(b.hash)), checkpointOffset];
        this.committed(batch, built, offsets, checkpoint.record.sequence);
        return;
      }
      const notCommitted = new LedgerUnavailableError(
        `partition ${this.options.partition}: the transaction was not committed (${unknown.message})`,
      );
      for (const request of batch) request.reject(notCommitted);
    } catch {
      this.needsRecovery = true;
      for (const request of batch) request.reject(unknown);
    }
  }

  private classify(error: unknown): LedgerError {
    if (error instanceof LedgerError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new LedgerUnavailableError(`partition ${this.options.partition}: the append was not acknowledged: ${message}`);
  }
}

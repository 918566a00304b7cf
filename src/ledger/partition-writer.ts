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
  REQUEST_DIGEST,
  type StoredRecord,
  WRITER_ACTOR,
} from './ledger-record.js';
import {
  AppendOutcomeUnknownError,
  AppendRejectedError,
  EventIdConflictError,
  EventInFlightError,
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
  /**
   * Most bytes of records one transaction carries: Kafka refuses a produce request larger than
   * the topic's max.message.bytes (1 MiB by default). A group that would not fit waits for the
   * next transaction; one that fits in none is refused. Default 900,000.
   */
  readonly maxBatchBytes?: number;
  /** A genesis hash the operator pinned in configuration, checked besides the stored pin. */
  readonly configuredGenesis?: Hash;
  /** Event ids of the writer's own records (genesis, checkpoints); random UUIDs by default. */
  readonly newEventId?: () => string;
  /** How entity state follows from records, for preconditions; none keeps no state. */
  readonly stateModel?: EntityStateModel;
  /** While Kafka is unreachable, the pause between two attempts to read the partition back (default 1000 ms). */
  readonly readBackDelayMs?: number;
  /**
   * A fenced writer looks at the partition after `initial` ms, then at doubling intervals up to
   * `max`, and takes it back once it saw no record appended for a whole interval (default 1,000
   * and 30,000 ms).
   */
  readonly reclaimDelayMs?: { readonly initial: number; readonly max: number };
  /** Told every change of the writer's state, with the reason for an unhealthy one. */
  readonly onStatus?: (status: WriterStatus) => void;
}

/**
 * new: not started; open: takes appends; unavailable: Kafka cannot be reached, the partition
 * is read back in the background; fenced: another writer took the partition over, this one
 * waits until that one is idle and takes it back; failed: the partition does not verify (or
 * changed behind the writer's back), nothing is appended until an operator acts; closed.
 */
export type WriterState = 'new' | 'open' | 'unavailable' | 'fenced' | 'failed' | 'closed';

export interface WriterStatus {
  readonly partition: number;
  readonly state: WriterState;
  /** Why the writer takes no appends (null while open). */
  readonly reason: string | null;
}

/** Requests appended together: all of them in one transaction, in order, or none. */
interface Waiting {
  readonly requests: readonly AppendRequest[];
  resolve(receipts: AppendReceipt[]): void;
  reject(error: Error): void;
}

/** A group whose records are in the draft. */
interface Accepted {
  readonly waiting: Waiting;
  readonly built: Built[];
}

/** A recorded event that carries a request digest, so that a retry of it can be recognised. */
interface IndexedEvent {
  readonly requestDigest: string;
  readonly receipt: AppendReceipt;
}

function requestDigestOf(payload: LedgerRecord['payload']): string | undefined {
  const digest = payload[REQUEST_DIGEST];
  return typeof digest === 'string' ? digest : undefined;
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

/** What a Kafka record adds to its value: key, headers, record framing (an upper bound). */
const RECORD_OVERHEAD_BYTES = 256;
/** Room kept in every transaction for its checkpoint record. */
const CHECKPOINT_RESERVE_BYTES = 2048;

/** A batch being built on a copy of the head; the head changes only once Kafka committed. */
class Draft {
  readonly built: Built[] = [];
  /** Bytes of the records drafted, with what Kafka adds per record (key, headers). */
  bytes = 0;
  private nextSequence: number;
  private headHash: Hash | null;
  private tree: MerkleTree;
  private readonly entityHeads = new Map<string, Hash>();
  /**
   * Each change of entityHeads with the value it replaced, so that a mark is undone by walking
   * back the changes since it (copying the map at every mark would cost O(batch) per append).
   */
  private readonly journal: { readonly id: string; readonly replaced: Hash | undefined }[] = [];

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
    this.bytes += bytes.length + RECORD_OVERHEAD_BYTES + (entityIds[0]?.length ?? 0);
    for (const id of entityIds) {
      this.journal.push({ id, replaced: this.entityHeads.get(id) });
      this.entityHeads.set(id, hash);
    }
    this.tree.append(hash);
    this.headHash = hash;
    this.nextSequence += 1;
    const built = { record, bytes, hash };
    this.built.push(built);
    return built;
  }

  /** Where the draft stands, to go back to when a group of requests is refused as a whole. */
  mark(): () => void {
    const { nextSequence, headHash, bytes } = this;
    const tree = this.tree.clone();
    const length = this.built.length;
    const changes = this.journal.length;
    return () => {
      this.bytes = bytes;
      this.nextSequence = nextSequence;
      this.headHash = headHash;
      this.tree = tree;
      for (let i = this.journal.length - 1; i >= changes; i--) {
        const { id, replaced } = this.journal[i] as { id: string; replaced: Hash | undefined };
        if (replaced === undefined) this.entityHeads.delete(id);
        else this.entityHeads.set(id, replaced);
      }
      if (this.journal.length > changes) this.journal.length = changes;
      this.built.length = length;
    };
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

  /**
   * The head once Kafka committed the batch. The entity heads of the batch go into the base
   * head's map in place: copying a map of every entity per batch made appends O(entities).
   */
  head(): ChainHead {
    const last = this.built.at(-1);
    const entityHeads = this.base.entityHeads as Map<string, Hash>;
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
  private state: WriterState = 'new';
  private failure: LedgerError | null = null;
  /** Why the partition is unavailable, while it is. */
  private outage: LedgerUnavailableError | null = null;
  /** The loop that reads the partition back while it is unavailable, or takes it back when fenced. */
  private readingBack: Promise<void> = Promise.resolve();
  private readonly queue: Waiting[] = [];
  private pumping = false;
  private drained: Promise<void> = Promise.resolve();
  private batches = 0;
  private appends = 0;
  private committedEnd: string | null = null;
  /** Each entity's state after the last committed record, by the state model. */
  private entityStates = new Map<string, unknown>();
  /** Committed records with a request digest, by event id. */
  private events = new Map<string, IndexedEvent>();

  private readonly newEventId: () => string;

  constructor(private readonly options: PartitionWriterOptions) {
    this.newEventId = options.newEventId ?? randomUUID;
  }

  get stats(): WriterStats {
    return { batches: this.batches, appends: this.appends, committedEnd: this.committedEnd };
  }

  get status(): WriterState {
    return this.state;
  }

  /** Why the writer takes no appends, or null while it does. */
  get reason(): string | null {
    if (this.state === 'open') return null;
    return (this.failure ?? this.outage)?.message ?? `the writer is ${this.state}`;
  }

  /**
   * Fences other writers, verifies the partition, writes and pins genesis when it is empty.
   * A partition that does not verify leaves the writer failed (it refuses appends and says why)
   * rather than failing the start: reads and attestations go on, and report the break.
   */
  async start(): Promise<ChainHead | null> {
    const { log, pins, ledgerId, partition, configuredGenesis } = this.options;
    await log.open();
    try {
      const pinned = await pins.get(ledgerId, partition);
      if (pinned && configuredGenesis && pinned !== configuredGenesis) {
        throw new LedgerIntegrityError(
          `partition ${partition}: the configured genesis ${configuredGenesis} differs from the pinned ${pinned}`,
        );
      }
      this.adopt(await this.recover(configuredGenesis ?? pinned ?? undefined));
      // With a pin, an empty partition does not verify: recover() has thrown already.
      if (this.currentHead().genesisHash === null) await this.writeGenesis();
      else if (!pinned) await pins.pin(ledgerId, partition, this.currentHead().genesisHash as Hash);
    } catch (error) {
      if (!(error instanceof LedgerIntegrityError)) throw error;
      this.enter('failed', error);
      return null;
    }
    this.enter('open');
    return this.currentHead();
  }

  /** The writer's state, and why it takes no appends when it does not. */
  describe(): WriterStatus {
    return { partition: this.options.partition, state: this.state, reason: this.reason };
  }

  /**
   * Moves to a state (with the error that explains it, for fenced and failed), and tells the
   * owner once per change.
   */
  private enter(state: WriterState, failure: LedgerError | null = null): void {
    const changed = state !== this.state || failure !== this.failure;
    this.state = state;
    this.failure = failure;
    if (state !== 'unavailable') this.outage = null;
    if (changed) this.options.onStatus?.(this.describe());
  }

  /** Takes a partition read back (and verified) as the writer's head. */
  private adopt(recovered: { head: ChainHead; states: Map<string, unknown>; events: Map<string, IndexedEvent> }): void {
    this.head = recovered.head;
    this.entityStates = recovered.states;
    this.events = recovered.events;
    this.needsRecovery = false;
  }

  /** An entity's state after the last committed record (undefined: no record of it). */
  committedState(entityId: string): unknown {
    return this.entityStates.get(entityId);
  }

  /**
   * The receipts of committed records with these event ids, when `requestDigest` names the
   * same request that recorded them: a retry is answered from the ledger, not recorded again.
   * Undefined when none of them is recorded; EventIdConflictError when the digest differs or
   * only some are recorded.
   */
  recorded(eventIds: readonly string[], requestDigest: string): AppendReceipt[] | undefined {
    const found = eventIds.map((id) => this.events.get(id));
    if (found.every((event) => event === undefined)) return undefined;
    const receipts: AppendReceipt[] = [];
    for (const [i, event] of found.entries()) {
      const eventId = eventIds[i] as string;
      if (!event) throw new EventIdConflictError(eventId, `event ${eventId} is not recorded, but others of its request are`);
      if (event.requestDigest !== requestDigest) {
        throw new EventIdConflictError(eventId, `event ${eventId} was recorded for a different request`);
      }
      receipts.push(event.receipt);
    }
    return receipts;
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
    if (this.state !== 'open') return Promise.reject(this.unavailable());
    if (requests.length === 0) return Promise.resolve([]);
    return new Promise<AppendReceipt[]>((resolve, reject) => {
      this.queue.push({ requests, resolve, reject });
      if (!this.pumping) {
        this.pumping = true;
        this.drained = this.pump();
      }
    });
  }

  /** Takes no more appends, lets the batch in flight finish, and rejects what still waits. */
  async close(): Promise<void> {
    if (this.state !== 'failed') this.enter('closed');
    this.outage = null;
    await this.drained;
    await this.readingBack;
    for (const waiting of this.queue.splice(0)) waiting.reject(this.unavailable());
    await this.options.log.close();
  }

  private unavailable(): LedgerError {
    if (this.failure) return this.failure;
    if (this.outage) return this.outage;
    return new WriterClosedError(`the writer of partition ${this.options.partition} is ${this.state}`);
  }

  /**
   * Commits batches until the queue is empty. `pumping` is cleared in the same tick as the
   * last look at the queue, so an append can never be left waiting with no pump running.
   */
  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0 && this.state === 'open') {
        await this.commit(this.nextBatch());
      }
      if (this.state !== 'open') for (const waiting of this.queue.splice(0)) waiting.reject(this.unavailable());
    } finally {
      this.pumping = false;
    }
  }

  /** The waiting groups that fit in maxBatch appends; at least one, as a group is never split. */
  private nextBatch(): Waiting[] {
    let count = 0;
    let take = 0;
    for (const waiting of this.queue) {
      if (take > 0 && count + waiting.requests.length > this.options.maxBatch) break;
      count += waiting.requests.length;
      take += 1;
    }
    return this.queue.splice(0, take);
  }

  /**
   * Reads the partition back and verifies it; returns its head, and the offsets of the
   * records among `watch` (by hash) that it found.
   */
  private async recover(
    genesisHash: Hash | undefined,
    watch: ReadonlySet<Hash> = new Set(),
  ): Promise<{ head: ChainHead; found: Map<Hash, string>; states: Map<string, unknown>; events: Map<string, IndexedEvent> }> {
    const { ledgerId, partition, signer, log } = this.options;
    const verifier = new ChainVerifier({
      ledgerId,
      partition,
      verifier: new CheckpointVerifier(signer.keyName, signer.publicKey),
      genesisHash,
    });
    const found = new Map<Hash, string>();
    const states = new Map<string, unknown>();
    const events = new Map<string, IndexedEvent>();
    // Records with a request digest wait for the checkpoint that covers them (their receipt's).
    let uncovered: StoredRecord[] = [];
    const model = this.options.stateModel;
    for await (const entry of log.readAll()) {
      const result = verifier.push(entry.offset, entry.value);
      if ('break' in result) throw new LedgerIntegrityError(`refusing to extend a broken chain: ${describeBreak(result.break)}`);
      for (const stored of result.verified) {
        const { record } = stored;
        if (watch.has(stored.hash)) found.set(stored.hash, stored.offset);
        if (model) for (const { id } of record.entities) states.set(id, model.evolve(states.get(id), record, id));
        if (record.eventType === CHECKPOINT_EVENT) {
          for (const covered of uncovered) events.set(covered.record.eventId, this.indexed(covered, record.sequence));
          uncovered = [];
        } else if (requestDigestOf(record.payload) !== undefined) {
          uncovered.push(stored);
        }
      }
    }
    const end = verifier.end();
    if (end) throw new LedgerIntegrityError(`refusing to extend a broken chain: ${describeBreak(end)}`);
    return { head: verifier.head(), found, states, events };
  }

  private indexed(stored: StoredRecord, checkpointSize: number): IndexedEvent {
    const { record } = stored;
    return {
      requestDigest: requestDigestOf(record.payload) as string,
      receipt: {
        ledgerId: record.ledgerId,
        partition: record.partition,
        offset: stored.offset,
        sequence: record.sequence,
        hash: stored.hash,
        checkpointSize,
      },
    };
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
    let accepted: Accepted[] = [];
    let checkpoint: Built | undefined;
    // Groups answered (or put back) already; every other one is answered by the failure below.
    const settled = new Set<Waiting>();
    try {
      if (this.needsRecovery) this.adopt(await this.recover(this.head?.genesisHash ?? undefined));
      const draft = new Draft(this.currentHead(), ledgerId, partition, this.options.clock.now().toISOString(), this.newEventId);
      // States and event ids of this batch stay apart until Kafka commits it.
      const drafted = new Map<string, unknown>();
      const draftedEvents = new Set<string>();
      const deferred: Waiting[] = [];
      for (const group of waiting) {
        const outcome = deferred.length > 0 ? 'full' : this.draftGroup(group.requests, draft, drafted, draftedEvents);
        if (outcome === 'full') deferred.push(group);
        else if (outcome instanceof Error) group.reject(outcome);
        else if ('replayed' in outcome) group.resolve(outcome.replayed);
        else accepted.push({ waiting: group, built: outcome.built });
        if (outcome === 'full' || !('built' in outcome)) settled.add(group);
      }
      // Groups that did not fit go first in the next transaction, in their order.
      this.queue.unshift(...deferred);
      if (accepted.length === 0) return;
      checkpoint = draft.checkpoint(signer);
      const partitionKey = `ledger:${ledgerId}:${partition}`;
      const entries = draft.built.map((b) => this.entry(b, b.record.entities[0]?.id ?? partitionKey));
      const offsets = await log.appendTransaction(entries);
      this.head = draft.head();
      for (const [id, state] of drafted) this.entityStates.set(id, state);
      this.committed(accepted, offsets, checkpoint.record.sequence);
    } catch (error) {
      const failure = this.classify(error);
      if (failure instanceof AppendOutcomeUnknownError && checkpoint) {
        await this.reconcile(accepted, checkpoint, failure);
        return;
      }
      if (failure instanceof WriterFencedError) {
        this.fenced(failure);
      } else if (failure instanceof LedgerIntegrityError) {
        this.enter('failed', failure);
      } else {
        // Not committed, but re-read the head before the next batch all the same.
        this.needsRecovery = true;
        this.unreachable(failure);
      }
      for (const group of waiting) if (!settled.has(group)) group.reject(failure);
      accepted = [];
    }
  }

  /**
   * Drafts a group's records after everything drafted before it, or refuses the whole group
   * and leaves the draft as it was. A group recorded already (a retry) is answered with its
   * receipts instead.
   */
  private draftGroup(
    requests: readonly AppendRequest[],
    draft: Draft,
    drafted: Map<string, unknown>,
    draftedEvents: Set<string>,
  ): { built: Built[] } | { replayed: AppendReceipt[] } | Error | 'full' {
    const model = this.options.stateModel;
    const local = new Map<string, unknown>();
    const stateOf = (id: string): unknown => {
      if (local.has(id)) return local.get(id);
      return drafted.has(id) ? drafted.get(id) : this.entityStates.get(id);
    };
    const undo = draft.mark();
    const first = draft.built.length === 0;
    const built: Built[] = [];
    const groupEvents = new Set<string>();
    try {
      const replayed = this.replayOf(requests);
      if (replayed) return { replayed };
      for (const request of requests) {
        if (draftedEvents.has(request.eventId)) {
          throw new EventInFlightError(request.eventId, `event ${request.eventId} is being recorded by an earlier request`);
        }
        if (groupEvents.has(request.eventId))
          throw new AppendRejectedError(`event ${request.eventId} appears twice in one group`);
        groupEvents.add(request.eventId);
        request.precondition?.(stateOf);
        let record: Built;
        try {
          record = draft.add(request, request.entityIds);
        } catch (error) {
          throw new AppendRejectedError(`the record cannot be built: ${error instanceof Error ? error.message : String(error)}`);
        }
        if (model) for (const id of request.entityIds) local.set(id, model.evolve(stateOf(id), record.record, id));
        built.push(record);
      }
      const room = (this.options.maxBatchBytes ?? 900_000) - CHECKPOINT_RESERVE_BYTES;
      if (draft.bytes > room) {
        if (!first) {
          undo();
          return 'full';
        }
        throw new AppendRejectedError(
          `the records of this request take ${draft.bytes} bytes; one transaction holds at most ${room} (LEDGER_MAX_BATCH_BYTES)`,
        );
      }
    } catch (refusal) {
      undo();
      return refusal instanceof Error ? refusal : new AppendRejectedError(String(refusal));
    }
    for (const [id, state] of local) drafted.set(id, state);
    for (const request of requests) draftedEvents.add(request.eventId);
    return { built };
  }

  /** Receipts when every request of the group carries a digest and is recorded already. */
  private replayOf(requests: readonly AppendRequest[]): AppendReceipt[] | undefined {
    const digests = new Set(requests.map((request) => requestDigestOf(request.payload)));
    const [digest] = digests;
    if (digests.size === 1 && digest !== undefined) {
      return this.recorded(
        requests.map((request) => request.eventId),
        digest,
      );
    }
    for (const request of requests) {
      if (this.events.has(request.eventId)) {
        throw new EventIdConflictError(request.eventId, `event ${request.eventId} was recorded for a different request`);
      }
    }
    return undefined;
  }

  private committed(accepted: readonly Accepted[], offsets: readonly (string | undefined)[], checkpointSize: number): void {
    const { ledgerId, partition } = this.options;
    this.committedEnd = (BigInt(offsets.at(-1) ?? '-1') + 1n).toString();
    this.batches += 1;
    let i = 0;
    for (const { waiting, built } of accepted) {
      const receipts = built.map((b) => {
        const receipt: AppendReceipt = {
          ledgerId,
          partition,
          offset: offsets[i++] as string,
          sequence: b.record.sequence,
          hash: b.hash,
          checkpointSize,
        };
        const requestDigest = requestDigestOf(b.record.payload);
        if (requestDigest !== undefined) this.events.set(b.record.eventId, { requestDigest, receipt });
        return receipt;
      });
      this.appends += receipts.length;
      waiting.resolve(receipts);
    }
  }

  /**
   * The commit was sent but not confirmed. The transaction landed whole or not at all: read
   * the partition back and answer the callers from what is there. Only when that read fails
   * too do they get AppendOutcomeUnknownError.
   */
  private async reconcile(accepted: readonly Accepted[], checkpoint: Built, unknown: AppendOutcomeUnknownError): Promise<void> {
    const built = accepted.flatMap((group) => group.built);
    try {
      const watch = new Set([...built.map((b) => b.hash), checkpoint.hash]);
      const recovered = await this.recover(this.head?.genesisHash ?? undefined, watch);
      this.adopt(recovered);
      const found = recovered.found;
      const checkpointOffset = found.get(checkpoint.hash);
      if (checkpointOffset !== undefined) {
        const offsets = [...built.map((b) => found.get(b.hash)), checkpointOffset];
        this.committed(accepted, offsets, checkpoint.record.sequence);
        return;
      }
      const notCommitted = new LedgerUnavailableError(
        `partition ${this.options.partition}: the transaction was not committed (${unknown.message})`,
      );
      for (const { waiting } of accepted) waiting.reject(notCommitted);
    } catch (error) {
      this.needsRecovery = true;
      for (const { waiting } of accepted) waiting.reject(unknown);
      this.unreachable(this.classify(error));
    }
  }

  /**
   * Kafka did not take a transaction, or could not be read: every later append would wait out
   * the same retries (seconds each) only to fail too. Until the partition is read back, refuse
   * appends at once (nothing is recorded, a retry is safe) and read it back in the background.
   */
  private unreachable(cause: LedgerError): void {
    if (this.state !== 'open') return;
    if (cause instanceof WriterFencedError) {
      this.fenced(cause);
      return;
    }
    if (cause instanceof LedgerIntegrityError) {
      this.enter('failed', cause);
      return;
    }
    if (!(cause instanceof LedgerUnavailableError || cause instanceof AppendOutcomeUnknownError)) return;
    this.outage = new LedgerUnavailableError(
      `partition ${this.options.partition} cannot be reached (${cause.message}); nothing was recorded`,
    );
    this.enter('unavailable');
    this.readingBack = this.readBack();
  }

  /** Reads the partition back until it can, then takes appends again on the chain it found. */
  private async readBack(): Promise<void> {
    // A method, not `this.state` itself: close() may change the state during every await.
    const unavailable = () => this.state === 'unavailable';
    while (unavailable()) {
      try {
        const recovered = await this.recover(this.head?.genesisHash ?? undefined);
        if (!unavailable()) return;
        this.adopt(recovered);
        this.enter('open');
      } catch (error) {
        const failure = this.classify(error);
        if (failure instanceof WriterFencedError || failure instanceof LedgerIntegrityError) {
          if (!unavailable()) return;
          if (failure instanceof WriterFencedError) this.fenced(failure);
          else this.enter('failed', failure);
          return;
        }
        await sleep(this.options.readBackDelayMs ?? 1000);
      }
    }
  }

  /**
   * Another writer took the partition over (a second instance started against the same
   * ledger). Kafka's fencing keeps this one from appending, so there is no fork; it refuses
   * appends, and takes the partition back once the other writer has appended nothing for a
   * whole interval (it stopped, or is idle), at doubling intervals.
   */
  private fenced(failure: WriterFencedError): void {
    if (this.state === 'fenced' || this.state === 'closed' || this.state === 'failed') return;
    this.enter('fenced', failure);
    this.needsRecovery = true;
    this.readingBack = this.reclaim();
  }

  private async reclaim(): Promise<void> {
    const { initial, max } = this.options.reclaimDelayMs ?? { initial: 1000, max: 30_000 };
    const stillFenced = () => this.state === 'fenced';
    let delay = initial;
    let seenEnd: string | null = null;
    while (stillFenced()) {
      await sleep(delay);
      if (!stillFenced()) return;
      try {
        const end = await this.options.log.end();
        if (end === seenEnd) {
          await this.options.log.open();
          const recovered = await this.recover(this.head?.genesisHash ?? undefined);
          if (!stillFenced()) return;
          this.adopt(recovered);
          this.enter('open');
          return;
        }
        seenEnd = end;
      } catch (error) {
        const failure = this.classify(error);
        if (failure instanceof LedgerIntegrityError) {
          if (stillFenced()) this.enter('failed', failure);
          return;
        }
        seenEnd = null;
      }
      delay = Math.min(delay * 2, max);
    }
  }

  private classify(error: unknown): LedgerError {
    if (error instanceof LedgerError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new LedgerUnavailableError(`partition ${this.options.partition}: the append was not acknowledged: ${message}`);
  }
}

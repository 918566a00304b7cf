import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { BoundedCache } from './bounded-cache.js';
import { canonicalBytes, type JsonValue } from './canonical-json.js';
import type { EntityHeads } from './chain-verifier.js';
import type { CheckpointSigner, CheckpointVerifier, SignedCheckpoint } from './checkpoint-note.js';
import type { Hash } from './hashing.js';
import type { IndexedEvent, IndexedEvents } from './idempotency-index.js';
import { CHECKPOINT_EVENT, type EntityStateModel, type StoredRecord } from './ledger-record.js';
import { TileWriter } from './merkle-tiles.js';
import type { PartitionSnapshots, SnapshotCommit, SnapshotRecord } from './ports.js';
import { EMPTY_ROOT, type StateTree, StateTreeIntegrityError, StateTreeLoader, stateKey } from './state-tree.js';
import { checkSnapshotNote, signSnapshot, SNAPSHOT_FORMAT_VERSION, type SnapshotBody } from './writer-snapshot.js';

/** An entity's entry in the state tree: its head, where and how many its records are, its state. */
export interface EntityEntry {
  readonly head: Hash;
  /** The sequence of its last record. */
  readonly last: number;
  /** How many records of the partition name it. */
  readonly count: number;
  /** Its state by the state model (absent without one). */
  readonly state?: JsonValue;
}

type Entry = EntityEntry | IndexedEvent;

/** A key of the state tree, hex: an entity's or an event id's (docs/ledger-format.md §11.2). */
export const entityKey = (entityId: string): string => keyOf('entity', entityId);
export const eventKey = (eventId: string): string => keyOf('event', eventId);

/** Keys hashed lately, by kind and name: a batch asks for each of its entities' keys several times (load, draft, apply). */
const recentKeys = { entity: new Map<string, string>(), event: new Map<string, string>() };
const RECENT_KEYS = 20_000;

function keyOf(kind: 'entity' | 'event', name: string): string {
  const recent = recentKeys[kind];
  let key = recent.get(name);
  if (key === undefined) {
    key = bytesToHex(stateKey(kind, name));
    if (recent.size >= RECENT_KEYS) recent.clear();
    recent.set(name, key);
  }
  return key;
}

/** Records and changes since the last snapshot, up to a checkpoint record (then closed) or still open. */
interface Layer {
  readonly entries: Map<string, Entry>;
  readonly records: (SnapshotRecord & { readonly hash: Hash })[];
  /** The layer's last checkpoint record: a snapshot of the layer stands there. */
  checkpoint: { readonly offset: string; readonly hash: Hash; readonly signed: SignedCheckpoint } | null;
}

const newLayer = (): Layer => ({ entries: new Map(), records: [], checkpoint: null });

/** An entity or event id read before it was loaded: a bug of the caller, never an answer. */
export class StateNotLoadedError extends Error {
  override name = 'StateNotLoadedError';

  constructor(
    message: string,
    /** The entity read, when it is one. */
    readonly entityId: string | null,
  ) {
    super(message);
  }
}

/** What `load` pinned in memory until released. */
export interface Lease {
  release(): void;
}

export interface PartitionStateOptions {
  readonly ledgerId: string;
  readonly partition: number;
  readonly snapshots: PartitionSnapshots;
  /** The writer key's: checks a snapshot stored by another writer of this chain before the state goes on from it (adoptStored). */
  readonly verifier: CheckpointVerifier;
  /** Told when the state went on from a snapshot another writer stored (adoptStored), with its tree size. */
  readonly onAdopted?: (treeSize: number) => void;
  /** Entries kept in memory besides those changed since the last snapshot (a bounded cache). */
  readonly cacheEntries?: number;
  /** State tree nodes kept in memory (their upper levels are read by every lookup). */
  readonly cacheNodes?: number;
}

/** Where a state goes on from: a snapshot checked against the topic, or nothing (a full read). */
export interface StateBase {
  readonly body: SnapshotBody | null;
  readonly tiles: TileWriter;
}

/**
 * A partition writer's state (docs/ledger-format.md §11), kept on disk with a bounded part in
 * memory: each entity's head and state and the idempotency index live in a state tree whose
 * nodes and values are in the snapshot store (PostgreSQL), read through a StateTree that
 * verifies them against the root of the last signed snapshot. What changed since that
 * snapshot stays in memory, in layers: the open one takes committed records; `close` ends it
 * at a checkpoint record, and `snapshot` writes the closed ones into the store, signed.
 *
 * Reads are synchronous: the writer loads the entities and event ids of a batch first (`load`),
 * and what it loaded stays in memory until it releases it.
 */
export class PartitionState implements EntityHeads {
  private root: Uint8Array;
  /** The tree size of the snapshot stored, which a commit expects still to be there; 'fresh' before the first of a full read. */
  private stored: number | 'fresh';
  private layers: Layer[] = [newLayer()];
  private readonly pinned = new Map<string, { entry: Entry | null; leases: number }>();
  private readonly cache: BoundedCache<string, Entry | null>;
  private readonly loader: StateTreeLoader;
  private snapshotting: Promise<void> | null = null;
  /** A snapshot's commit to the store under way, and a count moved at its start and its end. */
  private committing: Promise<void> | null = null;
  private storeGeneration = 0;
  private lastSnapshot: SnapshotBody | null;
  /** Set when a commit found another snapshot stored: this writer no longer owns the partition's snapshots. */
  private superseded = false;

  private readonly tiles: TileWriter;

  constructor(
    private readonly options: PartitionStateOptions,
    base: StateBase,
  ) {
    this.lastSnapshot = base.body;
    this.root = base.body ? hexToBytes(base.body.stateRoot) : EMPTY_ROOT;
    this.stored = base.body ? base.body.treeSize : 'fresh';
    this.tiles = base.tiles;
    this.cache = new BoundedCache(options.cacheEntries ?? 100_000);
    this.loader = new StateTreeLoader(options.snapshots, new BoundedCache(options.cacheNodes ?? 50_000));
  }

  /** The snapshot the state stands on (null: none yet). */
  get snapshot(): SnapshotBody | null {
    return this.lastSnapshot;
  }

  /** Records committed since the last snapshot was written. */
  get unsnapshotted(): number {
    return this.layers.reduce((sum, layer) => sum + layer.records.length, 0);
  }

  /** Reads these entities' and events' entries into memory (verified), kept until the lease is released. */
  async load(entityIds: Iterable<string>, eventIds: Iterable<string> = []): Promise<Lease> {
    const keys = new Set([...[...entityIds].map(entityKey), ...[...eventIds].map(eventKey)]);
    let read = new Map<string, Entry | null>();
    for (;;) {
      const missing = [...keys].filter((key) => !this.found(key));
      if (missing.length === 0) break;
      const root = this.root;
      const generation = this.storeGeneration;
      const calmBefore = this.committing === null;
      try {
        const asked = missing.map((key) => hexToBytes(key));
        const tree = await this.loader.load(root, asked, true);
        read = new Map(missing.map((key, i) => [key, decode(tree.get(asked[i] as Uint8Array))]));
      } catch (error) {
        // A snapshot's commit replaces nodes in the store before this.root and the loader's
        // cache follow it: a read that overlapped one may meet new nodes under the old root. Read
        // again once it has ended. With no commit under way or in between, the store does not
        // hold what it committed to, unless another writer of this chain stored a larger
        // snapshot (adoptStored).
        if (!calmBefore || this.committing !== null || generation !== this.storeGeneration) {
          await this.committing;
          continue;
        }
        if (await this.movedOn(root, generation, error)) continue;
        throw error;
      }
      // Read against the root that is still the store's: what was read stands (a key the
      // commit changed is in a layer, not read here). A key that was in the cache may have been
      // evicted meanwhile (by other batches' entries): then it is read from the store too.
      if (root === this.root && [...keys].every((key) => this.found(key) || read.has(key))) break;
    }
    const held: string[] = [];
    for (const key of keys) {
      if (this.inLayers(key) && !this.pinned.has(key)) continue;
      const pinned = this.pinned.get(key);
      if (pinned) pinned.leases += 1;
      else
        this.pinned.set(key, { entry: this.cache.has(key) ? (this.cache.get(key) ?? null) : (read.get(key) ?? null), leases: 1 });
      held.push(key);
    }
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        for (const key of held) {
          const pinned = this.pinned.get(key);
          if (!pinned) continue;
          pinned.leases -= 1;
          if (pinned.leases === 0) {
            this.pinned.delete(key);
            this.cache.set(key, pinned.entry);
          }
        }
      },
    };
  }

  /** Whether the key's entry is in memory now: in a layer, pinned by a batch, or cached. */
  private found(key: string): boolean {
    return this.pinned.has(key) || this.cache.has(key) || this.inLayers(key);
  }

  private inLayers(key: string): boolean {
    return this.layers.some((layer) => layer.entries.has(key));
  }

  private entry(key: string, what: string, entityId: string | null = null): Entry | undefined {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const entry = this.layers[i]?.entries.get(key);
      if (entry !== undefined) return entry;
    }
    const pinned = this.pinned.get(key);
    if (pinned) return pinned.entry ?? undefined;
    if (this.cache.has(key)) return this.cache.get(key) ?? undefined;
    throw new StateNotLoadedError(`${what} was read before it was loaded`, entityId);
  }

  private put(key: string, entry: Entry): void {
    (this.layers.at(-1) as Layer).entries.set(key, entry);
  }

  entity(entityId: string): EntityEntry | undefined {
    return this.entry(entityKey(entityId), `entity ${entityId}`, entityId) as EntityEntry | undefined;
  }

  /** EntityHeads: the entity's head. */
  get(entityId: string): Hash | undefined {
    return this.entity(entityId)?.head;
  }

  /**
   * EntityHeads: a verifier or a draft moved the entity's head. Nothing to do: every record
   * is then `applied`, which moves the head with the rest of the entry.
   */
  set(): void {
    // Heads move in applied().
  }

  stateOf(entityId: string): unknown {
    return this.entity(entityId)?.state;
  }

  /** The indexed events, kept here (IdempotencyIndex). */
  readonly events: IndexedEvents = {
    get: (eventId) => this.entry(eventKey(eventId), `event ${eventId}`) as IndexedEvent | undefined,
    set: (eventId, event) => {
      this.put(eventKey(eventId), event);
    },
  };

  /**
   * A record committed (by this writer) or verified (read back), in chain order: the entities
   * it names move on, and it is kept for the next snapshot.
   */
  applied(stored: StoredRecord, bytes: Uint8Array, model: EntityStateModel | undefined): void {
    const { record, hash, offset } = stored;
    const layer = this.layers.at(-1) as Layer;
    for (const { id } of record.entities) {
      const before = this.entity(id);
      const state = model ? (model.evolve(before?.state, record, id) as JsonValue) : undefined;
      const entry: EntityEntry = { head: hash, last: record.sequence, count: (before?.count ?? 0) + 1 };
      layer.entries.set(entityKey(id), state === undefined ? entry : { ...entry, state });
    }
    layer.records.push({ sequence: record.sequence, offset, bytes, hash, entityIds: record.entities.map(({ id }) => id) });
    if (record.eventType === CHECKPOINT_EVENT) {
      layer.checkpoint = { offset, hash, signed: record.payload as unknown as SignedCheckpoint };
    }
  }

  /**
   * Ends the open layer at its last record, a checkpoint record: what a snapshot will cover.
   * False when the open layer holds nothing or does not end at a checkpoint.
   */
  close(): boolean {
    const open = this.layers.at(-1) as Layer;
    const last = open.records.at(-1);
    if (!open.checkpoint || last?.hash !== open.checkpoint.hash) return false;
    this.layers.push(newLayer());
    return true;
  }

  /**
   * Closes the open layer when it can (close), and says whether a snapshot has closed layers to
   * take: also those a deferred or failed snapshot left, with no batch since.
   */
  closeForSnapshot(): boolean {
    this.close();
    return this.layers.length > 1;
  }

  /**
   * After a read of the store under `root` failed: whether to read again, since the state's root
   * moved on meanwhile, or moves on now to a snapshot stored by another writer (adoptStored).
   */
  private async movedOn(root: Uint8Array, generation: number, error: unknown): Promise<boolean> {
    if (root !== this.root) return true;
    return error instanceof StateTreeIntegrityError && (await this.adoptStored(root, generation));
  }

  /**
   * The store holds a snapshot of this chain larger than the one the state goes on from: a
   * writer that lost the partition committed it after this one read its base, before it learnt
   * it was fenced (docs/ledger-format.md §11.4). That commit replaced nodes under the base's root,
   * so reads held against it fail where the store is sound. The state goes on from the stored
   * snapshot's root instead when the writer key signed it and its checkpoint is a record the
   * state holds in its layers (one this writer verified or committed: the same chain). Its
   * entries changed since its base stay in the layers, which every read consults first, so a
   * key read from the store is one that did not change since the base, whichever root it is read
   * under. True when the root moved on (here or meanwhile), or this state's own commit began
   * meanwhile (the snapshot read may be its own: the read is made again once it ends).
   */
  private async adoptStored(root: Uint8Array, generation: number): Promise<boolean> {
    if (this.stored === 'fresh') return false;
    const stored = await this.options.snapshots.latest();
    if (root !== this.root || this.committing !== null || generation !== this.storeGeneration) return true;
    if (!stored || stored.body.treeSize <= this.stored) return false;
    const { body } = stored;
    const checkpoint = this.layers.flatMap((layer) => layer.records).find((record) => record.sequence === body.treeSize);
    if (checkpoint?.offset !== body.checkpointOffset || checkpoint.hash !== body.checkpointHash) return false;
    if (this.lastSnapshot && body.genesisHash !== this.lastSnapshot.genesisHash) return false;
    const { ledgerId, partition, verifier } = this.options;
    if ('problem' in checkSnapshotNote(stored, { ledgerId, partition, verifier })) return false;
    this.root = hexToBytes(body.stateRoot);
    this.stored = body.treeSize;
    this.lastSnapshot = body;
    this.loader.reset();
    this.options.onAdopted?.(body.treeSize);
    return true;
  }

  /** Whether a snapshot is being written. */
  get busy(): boolean {
    return this.snapshotting !== null;
  }

  /** The snapshot being written, settled once it ends (never rejects); null when none is. */
  get writing(): Promise<void> | null {
    return this.snapshotting;
  }

  /** Waits for the snapshot being written, if any. */
  async settled(): Promise<void> {
    await this.snapshotting;
  }

  /**
   * Writes the closed layers into the store with a snapshot at the last one's checkpoint,
   * signed: one at a time (a call while one is written waits for it, then writes what is
   * closed by then). Resolves with the snapshot taken, or null when there was nothing to take.
   * Rejects when the store failed; the layers stay in memory and the next call takes them.
   */
  async takeSnapshot(signer: CheckpointSigner, genesisHash: Hash): Promise<SnapshotBody | null> {
    while (this.snapshotting) await this.snapshotting;
    if (this.superseded) return null;
    const closed = this.layers.slice(0, -1);
    const last = closed.at(-1);
    if (!last?.checkpoint) return null;
    let done!: () => void;
    this.snapshotting = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      return await this.write(closed, last.checkpoint, signer, genesisHash);
    } finally {
      this.snapshotting = null;
      done();
    }
  }

  private async write(
    closed: readonly Layer[],
    checkpoint: NonNullable<Layer['checkpoint']>,
    signer: CheckpointSigner,
    genesisHash: Hash,
  ): Promise<SnapshotBody | null> {
    const { ledgerId, partition, snapshots } = this.options;
    // In slices, yielding to the event loop between them: the writer goes on committing meanwhile.
    const entries = new Map<string, Uint8Array>();
    for (const layer of closed) {
      for (const [key, entry] of layer.entries) {
        entries.set(key, canonicalBytes(entry));
        if (entries.size % SNAPSHOT_SLICE === 0) await pause();
      }
    }
    const keys = [...entries.keys()].map((key) => hexToBytes(key));
    let update: Awaited<ReturnType<StateTree['updateInSlices']>>;
    for (;;) {
      const root = this.root;
      const generation = this.storeGeneration;
      try {
        update = await (await this.loader.load(root, keys, false)).updateInSlices(entries, pause);
        break;
      } catch (error) {
        if (await this.movedOn(root, generation, error)) continue;
        throw error;
      }
    }
    // The state went on from a stored snapshot at or past this one's checkpoint meanwhile
    // (adoptStored): the tree above would mix the two. Nothing is signed; a later snapshot takes these layers.
    if (this.stored !== 'fresh' && this.stored >= checkpoint.signed.treeSize) {
      throw new SnapshotDeferredError(partition, checkpoint.signed.treeSize, 'behind');
    }
    const records = closed.flatMap((layer) => layer.records);
    // The tiles move on record by record; the frontier is taken just before the checkpoint record.
    const tiles = this.tiles.clone();
    for (const [i, record] of records.slice(0, -1).entries()) {
      tiles.append(record.hash);
      if (i % SNAPSHOT_SLICE === SNAPSHOT_SLICE - 1) await pause();
    }
    const frontier = tiles.compactRange();
    tiles.append(checkpoint.hash);
    const body: SnapshotBody = {
      formatVersion: SNAPSHOT_FORMAT_VERSION,
      ledgerId,
      partition,
      treeSize: checkpoint.signed.treeSize,
      checkpointOffset: checkpoint.offset,
      checkpointHash: checkpoint.hash,
      genesisHash,
      frontier: frontier.nodes,
      stateRoot: bytesToHex(update.tree.root),
    };
    if (frontier.size !== body.treeSize) {
      throw new Error(
        `partition ${partition}: the snapshot's records end at ${frontier.size}, its checkpoint at ${body.treeSize}`,
      );
    }
    const snapshot = signSnapshot(signer, checkpoint.signed, body);
    let ended!: () => void;
    this.committing = new Promise<void>((resolve) => {
      ended = resolve;
    });
    this.storeGeneration += 1;
    try {
      const outcome = await snapshots.commit(
        this.stored,
        { nodes: update.writes.nodes, values: update.writes.values, tiles: tiles.take(), records },
        snapshot,
      );
      if (outcome === 'superseded') {
        this.superseded = true;
        return null;
      }
      if (outcome !== 'written') throw new SnapshotDeferredError(partition, body.treeSize, outcome);
      this.loader.written(update.writes);
      this.root = update.tree.root;
    } finally {
      this.storeGeneration += 1;
      this.committing = null;
      ended();
    }
    this.tiles.adopt(tiles);
    this.stored = body.treeSize;
    this.lastSnapshot = body;
    // The closed layers are in the tree now: their entries go to the cache, unless pinned.
    this.layers = this.layers.slice(closed.length);
    for (const layer of closed) {
      for (const [key, entry] of layer.entries) {
        const pinned = this.pinned.get(key);
        if (pinned) pinned.entry = entry;
        else if (!this.inLayers(key)) this.cache.set(key, entry);
      }
    }
    return body;
  }
}

/**
 * A snapshot not written now, for a reason that passes ('busy' or 'behind': see SnapshotCommit).
 * Nothing was written and nothing is lost: its layers stay in memory, and the next snapshot,
 * larger, takes them.
 */
export class SnapshotDeferredError extends Error {
  override name = 'SnapshotDeferredError';

  constructor(partition: number, treeSize: number, outcome: Exclude<SnapshotCommit, 'written' | 'superseded'>) {
    super(
      outcome === 'busy'
        ? `partition ${partition}: the snapshot at tree size ${treeSize} was not written: another session holds the partition's snapshot row (a writer that lost the partition, paused in its own commit)`
        : `partition ${partition}: the snapshot at tree size ${treeSize} was not written: the one stored is of a tree at least as large (written by a writer that lost the partition)`,
    );
  }
}

/** Entries or records a snapshot handles between two pauses. */
const SNAPSHOT_SLICE = 2_000;

/** Lets the event loop run (requests, the writer's next batch) between slices of a snapshot's work. */
function pause(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function decode(value: Uint8Array | undefined): Entry | null {
  if (value === undefined) return null;
  return JSON.parse(new TextDecoder().decode(value)) as Entry;
}

import { entityIdsOf, readRecord, type WaitingRecord } from './arrival-checks.js';
import type { Finding } from './chain-break.js';
import { type ChainBreak, type ChainHead, ChainVerifier } from './chain-verifier.js';
import { type CheckpointSigner, CheckpointVerifier } from './checkpoint-note.js';
import type { Hash } from './hashing.js';
import { IdempotencyIndex } from './idempotency-index.js';
import { LedgerIntegrityError } from './ledger-errors.js';
import type { EntityStateModel } from './ledger-record.js';
import { partialTiles, TileWriter } from './merkle-tiles.js';
import { PartitionState, SnapshotDeferredError } from './partition-state.js';
import type { PartitionLog, PartitionSnapshots, StoredEntry } from './ports.js';
import { StateTreeIntegrityError } from './state-tree.js';
import { checkSnapshot, type SnapshotStart } from './writer-snapshot.js';

export interface PartitionRecoveryOptions {
  readonly ledgerId: string;
  readonly partition: number;
  /** Signs the writer's checkpoints and snapshots; recovery checks the partition's with its public key. */
  readonly signer: CheckpointSigner;
  readonly log: PartitionLog;
  /** How entity state follows from records, for preconditions; none keeps no state. */
  readonly stateModel?: EntityStateModel;
  /** Where the partition's snapshots are (docs/ledger-format.md §11). */
  readonly snapshots: PartitionSnapshots;
  /** Records between two snapshots (a full read takes them as it goes, too). */
  readonly snapshotRecords: number;
  /** Entries of the state kept in memory besides those changed since the last snapshot. */
  readonly stateCacheEntries?: number;
  /** State tree nodes kept in memory (PartitionStateOptions.cacheNodes). */
  readonly stateCacheNodes?: number;
  /** Told what became of the snapshot at a start, and of each snapshot taken. */
  readonly onSnapshot?: (event: SnapshotEvent) => void;
}

export type SnapshotEvent =
  | { readonly kind: 'resumed'; readonly partition: number; readonly treeSize: number; readonly tail: number }
  | { readonly kind: 'refused'; readonly partition: number; readonly reason: string }
  | { readonly kind: 'taken'; readonly partition: number; readonly treeSize: number }
  /** The state went on from a snapshot another writer of this chain stored meanwhile (PartitionState.adoptStored). */
  | { readonly kind: 'adopted'; readonly partition: number; readonly treeSize: number }
  | { readonly kind: 'failed'; readonly partition: number; readonly reason: string };

/** What a writer continues from: the verified head and the state, from a snapshot checked against the topic and the tail after it. */
export interface RecoveredPartition {
  readonly head: ChainHead;
  readonly state: PartitionState;
  readonly index: IdempotencyIndex;
  /** The offsets of the watched records found in the partition, by hash. */
  readonly found: ReadonlyMap<Hash, string>;
}

export function describeBreak(problem: ChainBreak): string {
  const where = `partition ${problem.partition}, offset ${problem.offset}, sequence ${problem.sequence ?? '?'}`;
  const entity = problem.entityId ? `, entity ${problem.entityId}` : '';
  const diff = problem.expected !== undefined ? ` (expected ${problem.expected}, found ${problem.found ?? '?'})` : '';
  return `${problem.kind} at ${where}${entity}: ${problem.message}${diff}`;
}

/** Entries read and verified at a time: their entities are loaded from the state store together. */
const CHUNK = 2_000;

/**
 * Recovers the writer's head and state (docs/ledger-format.md §8, §11): from the newest
 * snapshot whose signature and checkpoint check out against the topic, reading and verifying
 * only the partition after it; without one (none, or refused: `onSnapshot` says why), by
 * reading and verifying the whole partition, taking snapshots on the way. `watch` names records
 * (by hash) whose offsets to report: those of a commit that was sent but not confirmed.
 * Throws LedgerIntegrityError when what is read does not verify: a writer never extends it.
 */
export async function recoverPartition(
  options: PartitionRecoveryOptions,
  genesisHash: Hash | undefined,
  watch: ReadonlySet<Hash> = new Set(),
  /** Why the stored snapshot is not to be used (its state was found not to be what it commits to), if so. */
  distrusted: string | null = null,
): Promise<RecoveredPartition> {
  const stored = distrusted === null ? await options.snapshots.latest() : null;
  if (distrusted !== null) options.onSnapshot?.({ kind: 'refused', partition: options.partition, reason: distrusted });
  if (stored) {
    const reading = options.log.readAll(stored.body.checkpointOffset)[Symbol.asyncIterator]();
    const first = await reading.next();
    const recordAt = !first.done && first.value.offset === stored.body.checkpointOffset ? first.value.value : undefined;
    const checked = checkSnapshot(stored, {
      ledgerId: options.ledgerId,
      partition: options.partition,
      verifier: keyVerifier(options),
      genesis: genesisHash,
      recordAt,
    });
    if ('problem' in checked) {
      await reading.return?.();
      options.onSnapshot?.({ kind: 'refused', partition: options.partition, reason: checked.problem });
    } else {
      try {
        return await fromSnapshot(options, checked, reading, watch);
      } catch (error) {
        // The store does not hold what the snapshot commits to: the topic alone decides.
        if (!(error instanceof StateTreeIntegrityError) && !(error instanceof TileMismatchError)) throw error;
        await reading.return?.();
        options.onSnapshot?.({ kind: 'refused', partition: options.partition, reason: error.message });
      }
    }
  }
  const state = new PartitionState(stateOptions(options), { body: null, tiles: TileWriter.empty() });
  const verifier = new ChainVerifier({
    ledgerId: options.ledgerId,
    partition: options.partition,
    verifier: keyVerifier(options),
    genesisHash,
    entityHeads: state,
    keepHashes: false,
  });
  const replay = new Replay(options, verifier, state, watch);
  await replay.run(options.log.readAll('0')[Symbol.asyncIterator]());
  return replay.recovered();
}

class TileMismatchError extends Error {
  override name = 'TileMismatchError';
}

/** Checks what the writer key signed: the partition's checkpoints and snapshots. */
function keyVerifier(options: PartitionRecoveryOptions): CheckpointVerifier {
  return new CheckpointVerifier(options.signer.keyName, options.signer.publicKey);
}

function stateOptions(options: PartitionRecoveryOptions) {
  const { ledgerId, partition, snapshots, stateCacheEntries, stateCacheNodes } = options;
  return {
    ledgerId,
    partition,
    snapshots,
    verifier: keyVerifier(options),
    onAdopted: (treeSize: number) => options.onSnapshot?.({ kind: 'adopted', partition, treeSize }),
    ...(stateCacheEntries === undefined ? {} : { cacheEntries: stateCacheEntries }),
    ...(stateCacheNodes === undefined ? {} : { cacheNodes: stateCacheNodes }),
  };
}

async function fromSnapshot(
  options: PartitionRecoveryOptions,
  start: SnapshotStart,
  reading: AsyncIterator<StoredEntry>,
  watch: ReadonlySet<Hash>,
): Promise<RecoveredPartition> {
  const { body, tree, checkpoint, nextOffset } = start;
  const size = body.treeSize + 1;
  let tiles: TileWriter;
  try {
    tiles = TileWriter.resume(size, await options.snapshots.tiles(partialTiles(size)), tree.toCompactRange().nodes);
  } catch (error) {
    throw new TileMismatchError(`the snapshot's tiles: ${(error as Error).message}`);
  }
  const state = new PartitionState(stateOptions(options), { body, tiles });
  const head: ChainHead = {
    nextSequence: size,
    headHash: body.checkpointHash,
    genesisHash: body.genesisHash,
    tree,
    entityHeads: state,
    lastCheckpoint: checkpoint,
    nextOffset,
  };
  const verifier = new ChainVerifier({
    ledgerId: options.ledgerId,
    partition: options.partition,
    verifier: keyVerifier(options),
    genesisHash: body.genesisHash,
    resumeFrom: head,
    entityHeads: state,
    keepHashes: false,
  });
  const replay = new Replay(options, verifier, state, watch);
  await replay.run(reading);
  options.onSnapshot?.({ kind: 'resumed', partition: options.partition, treeSize: body.treeSize, tail: replay.verified });
  return replay.recovered();
}

/** The partition read and verified in chunks, each chunk's entities loaded first, every verified record applied to the state. */
class Replay {
  verified = 0;
  private readonly index: IdempotencyIndex;
  private readonly found = new Map<Hash, string>();
  /** Bytes of records pushed and not verified yet (waiting for their checkpoint), by offset. */
  private readonly waiting = new Map<string, Uint8Array>();
  private leases: { release(): void }[] = [];
  /** After a snapshot was deferred (its row held by another session), none is tried again before this many records are verified. */
  private retryAt = 0;

  constructor(
    private readonly options: PartitionRecoveryOptions,
    private readonly verifier: ChainVerifier,
    private readonly state: PartitionState,
    private readonly watch: ReadonlySet<Hash>,
  ) {
    this.index = new IdempotencyIndex(state.events);
  }

  async run(reading: AsyncIterator<StoredEntry>): Promise<void> {
    try {
      let chunk: StoredEntry[] = [];
      for (let next = await reading.next(); !next.done; next = await reading.next()) {
        chunk.push(next.value);
        if (chunk.length >= CHUNK) {
          await this.push(chunk);
          chunk = [];
        }
      }
      await this.push(chunk);
      const end = this.verifier.end();
      if (end) throw brokenChain(end);
      await this.snapshotIfDue(1);
    } finally {
      this.releaseAll();
    }
  }

  recovered(): RecoveredPartition {
    return { head: this.verifier.head(), state: this.state, index: this.index, found: this.found };
  }

  private async push(chunk: readonly StoredEntry[]): Promise<void> {
    if (chunk.length === 0) return;
    // Each record is decoded once: for the states to load, then by the verifier.
    const read = chunk.map((entry) => readRecord(entry.offset, entry.value));
    this.leases.push(await this.state.load(entityIdsOf(read)));
    const model = this.options.stateModel;
    for (const [i, entry] of chunk.entries()) {
      this.waiting.set(entry.offset, entry.value);
      const result = this.verifier.pushRead(read[i] as WaitingRecord | Finding);
      if ('break' in result) throw brokenChain(result.break);
      for (const stored of result.verified) {
        const bytes = this.waiting.get(stored.offset) as Uint8Array;
        this.waiting.delete(stored.offset);
        if (this.watch.has(stored.hash)) this.found.set(stored.hash, stored.offset);
        this.state.applied(stored, bytes, model);
        this.index.readBack(stored);
        this.verified += 1;
      }
    }
    // Records still waiting for their checkpoint keep their entities loaded; else let them go.
    if (this.waiting.size === 0) this.releaseAll();
    await this.snapshotIfDue(this.options.snapshotRecords);
  }

  /** Writes what was verified into a snapshot, once `atLeast` records wait for one: memory stays bounded. */
  private async snapshotIfDue(atLeast: number): Promise<void> {
    if (this.verified < this.retryAt || this.state.unsnapshotted < atLeast || !this.state.closeForSnapshot()) return;
    const genesis = this.verifier.head().genesisHash;
    if (genesis === null) return;
    const { partition, onSnapshot } = this.options;
    try {
      const taken = await this.state.takeSnapshot(this.options.signer, genesis);
      if (taken) onSnapshot?.({ kind: 'taken', partition, treeSize: taken.treeSize });
    } catch (error) {
      // Not now (a writer that lost the partition holds it): the start goes on, the next snapshot takes these records.
      if (!(error instanceof SnapshotDeferredError)) throw error;
      onSnapshot?.({ kind: 'failed', partition, reason: error.message });
      // Each try waits for the row (a second) and works over all that is held: not one a chunk.
      this.retryAt = this.verified + this.options.snapshotRecords;
    }
  }

  private releaseAll(): void {
    for (const lease of this.leases) lease.release();
    this.leases = [];
  }
}

function brokenChain(problem: ChainBreak): LedgerIntegrityError {
  return new LedgerIntegrityError(`refusing to extend a broken chain: ${describeBreak(problem)}`);
}

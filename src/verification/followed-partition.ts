import { behindTipFinding } from '../ledger/arrival-checks.js';
import {
  type ChainBreak,
  type ChainHead,
  ChainVerifier,
  type EntityHeads,
  entityIdsOf,
  type Finding,
  type RecordReader,
  type WaitingRecord,
} from '../ledger/chain-verifier.js';
import type { SignedCheckpoint } from '../ledger/checkpoint-note.js';
import type { Hash } from '../ledger/hashing.js';
import type { StoredRecord } from '../ledger/ledger-record.js';
import { MerkleProofs, verifyConsistency, verifyInclusion } from '../ledger/merkle-tree.js';
import { TileSet } from '../ledger/merkle-tiles.js';
import type { SnapshotStore, StoredEntry } from '../ledger/ports.js';
import { recordHash } from '../ledger/hashing.js';
import { parseDecodedRecord } from '../ledger/record-codec.js';
import { checkSnapshot } from '../ledger/writer-snapshot.js';
import type { LedgerReading, LedgerSource } from './partition-scan.js';
import { RecordSpill } from './record-spill.js';
import { type CheckedSnapshot, SnapshotView, SnapshotViewError } from './snapshot-view.js';

/**
 * One partition of the ledger follower (ledger-follower.ts) and where it starts: from offset 0,
 * or from the writer's newest snapshot that checks out (docs/attestation-format.md §1.1).
 */

/**
 * The proofs an attestation will ask of a reading: inclusion of the subject's records and the
 * genesis (for an evidence bundle), consistency from these tree sizes (a witness's, a requested
 * one). A reading from a snapshot has only these at hand; others throw RangeError.
 */
export interface WantedProofs {
  readonly inclusion: boolean;
  readonly fromSizes: readonly number[];
}

/** What the follower is told about the writer snapshots it starts from. */
export type FollowerSnapshotEvent =
  | { readonly kind: 'resumed'; readonly partition: number; readonly treeSize: number }
  | { readonly kind: 'refused'; readonly partition: number; readonly reason: string };

/** Where a partition's base comes from: the writer's snapshots and the topic's record at an offset. */
export interface BaseSources {
  readonly source: LedgerSource;
  readonly snapshots?: SnapshotStore;
  /** The partition's committed entries from an offset to its end now (read_committed). */
  readonly readFrom?: (partition: number, offset: string) => AsyncIterable<StoredEntry>;
  readonly onSnapshot?: (event: FollowerSnapshotEvent) => void;
}

/**
 * Where a followed partition starts: a writer snapshot that checked out against the topic
 * (docs/attestation-format.md §1.1). Records up to it are read through the snapshot's store,
 * held against what the snapshot signs; the follower verifies only the records after it.
 */
export interface Base {
  readonly view: SnapshotView;
  readonly snapshot: CheckedSnapshot;
  /** Records the snapshot covers, its checkpoint record included: the sequence of the first record followed. */
  readonly size: number;
  readonly genesis: StoredRecord;
}

/** Entity heads of a partition followed from a snapshot: those the tail moved, else the snapshot's (loaded per run of entries). */
class TailHeads implements EntityHeads {
  readonly moved = new Map<string, Hash>();
  readonly loaded = new Map<string, Hash>();

  get(entityId: string): Hash | undefined {
    return this.moved.get(entityId) ?? this.loaded.get(entityId);
  }

  set(entityId: string, hash: Hash): void {
    this.moved.set(entityId, hash);
    this.loaded.delete(entityId);
  }
}

/** One partition as followed: verified record by record, indexed by entity, bytes spilled. */
export class FollowedPartition {
  readonly verifier: ChainVerifier;
  private readonly proofs: MerkleProofs;
  /** The offset after the last fetched entry or transaction marker. */
  fetchedTo: bigint;
  /** The offset after the last entry pushed: an entry Kafka delivers again is not pushed twice. */
  private pushedTo: bigint;
  private readonly spill: RecordSpill;
  /** Offsets of the records followed, by sequence from `first`. */
  private readonly offsets: number[] = [];
  private readonly byEntity = new Map<string, number[]>();
  /** Bytes of records read but not yet covered by a checkpoint, by offset. */
  private readonly unverified = new Map<string, Uint8Array>();
  private genesis: StoredRecord | null;
  private readonly heads: TailHeads | null;
  /** Why the base can no longer be used (its store does not hold what it signs), when so: readings read in full. */
  private unusable: string | null = null;

  constructor(
    readonly partition: number,
    source: LedgerSource,
    /** The genesis pin the verifier started with. */
    private pin: Hash | null,
    spillFile: string,
    private readonly base: (Base & { readonly head: ChainHead }) | null,
    private readonly reader: RecordReader,
  ) {
    this.heads = base ? new TailHeads() : null;
    this.verifier = new ChainVerifier({
      ledgerId: source.ledgerId,
      partition,
      verifier: source.ledgerKey,
      genesisHash: base?.genesis.hash ?? pin ?? undefined,
      ...(base && this.heads ? { resumeFrom: base.head, entityHeads: this.heads } : {}),
    });
    this.genesis = base?.genesis ?? null;
    this.fetchedTo = base ? BigInt(base.head.nextOffset ?? '0') : 0n;
    this.pushedTo = this.fetchedTo;
    this.proofs = this.newProofs();
    this.spill = new RecordSpill(spillFile);
  }

  /** Whether the chain verified so far holds and the base's store holds what it signs. */
  get healthy(): boolean {
    return !this.verifier.failure && this.unusable === null;
  }

  /** The offset after the last entry pushed. */
  get pushedUpTo(): bigint {
    return this.pushedTo;
  }

  /** The sequence of the first record this follower verified itself. */
  get first(): number {
    return this.base?.size ?? 0;
  }

  get size(): number {
    return this.first + this.verifier.recordHashes.length;
  }

  /** The Merkle nodes of the records followed: every perfect subtree of them, hashed once. */
  private newProofs(): MerkleProofs {
    const hashes = this.verifier.recordHashes;
    const first = this.first;
    return new MerkleProofs((i) => (i >= first ? hashes.at(i - first) : undefined), this.size);
  }

  /**
   * Proofs of the tree of `size` records for one reading: the nodes of the records followed,
   * and below the base those of its tiles (kept for this reading only).
   */
  private proofsWith(tiles: TileSet, size: number): MerkleProofs {
    const hashes = this.verifier.recordHashes;
    const first = this.first;
    return new MerkleProofs(
      (i) => (i >= first ? hashes.at(i - first) : undefined),
      size,
      (height, index) => tiles.perfectAt(height, index) ?? this.proofs.perfectFrom(first, height, index),
    );
  }

  /** Hashes the perfect subtrees of the records followed so far (a few nodes per new record). */
  private hashFollowed(): void {
    let from = this.first;
    const to = this.size;
    while (from < to) {
      let n = 1;
      while (from % (n * 2) === 0 && from + n * 2 <= to) n *= 2;
      this.proofs.perfectFrom(this.first, Math.log2(n), from / n);
      from += n;
    }
  }

  async push(entries: readonly StoredEntry[]): Promise<void> {
    // A broken chain takes no more records: nothing to decode.
    if (this.verifier.failure) return;
    // Each record is decoded once (by the reader): for the heads to load, then by the verifier.
    const fresh = entries.filter((entry) => BigInt(entry.offset) >= this.pushedTo);
    const decoded = await this.reader.read(fresh);
    let next = 0;
    const read = entries.map((entry) => (entry === fresh[next] ? (decoded[next++] as WaitingRecord | Finding) : null));
    if (this.base && this.heads && !this.unusable) {
      try {
        await this.loadHeads(this.base, this.heads, read);
      } catch (error) {
        if (!(error instanceof SnapshotViewError)) throw error;
        this.unusable = error.message;
      }
    }
    const verified: Uint8Array[] = [];
    let broken = false;
    for (const [i, entry] of entries.entries()) {
      const offset = BigInt(entry.offset);
      if (offset < this.pushedTo) continue;
      this.pushedTo = offset + 1n;
      this.unverified.set(entry.offset, entry.value);
      const result = this.verifier.pushRead(read[i] as WaitingRecord | Finding);
      if ('break' in result) {
        broken = true;
        break;
      }
      for (const stored of result.verified) {
        const bytes = this.unverified.get(stored.offset);
        if (!bytes) throw new Error(`verified record at offset ${stored.offset} was never read`);
        this.unverified.delete(stored.offset);
        verified.push(bytes);
        const sequence = stored.record.sequence;
        this.offsets[sequence - this.first] = Number(stored.offset);
        if (sequence === 0) this.genesis = stored;
        for (const { id } of stored.record.entities) {
          const list = this.byEntity.get(id);
          if (list) list.push(sequence);
          else this.byEntity.set(id, [sequence]);
        }
      }
    }
    // A broken chain takes no more records; what it held back will never be verified.
    if (broken) this.unverified.clear();
    this.spill.append(verified);
    this.proofs.grow(this.size);
    // Hash the new Merkle nodes now, a few per record, so that no attestation has to hash the
    // whole tree on the event loop the first time it proves something.
    if (this.base) this.hashFollowed();
    else this.proofs.root(this.size);
  }

  /**
   * The heads, before the entries, of the entities they name that the tail has not moved: from
   * the newest snapshot's state tree (the writer's, which moves on while the follower reads;
   * where it is ahead of the follower, its entries are walked back).
   */
  private async loadHeads(base: Base, heads: TailHeads, read: readonly (WaitingRecord | Finding | null)[]): Promise<void> {
    const wanted = new Set<string>();
    for (const id of entityIdsOf(read.filter((entry) => entry !== null))) if (heads.get(id) === undefined) wanted.add(id);
    if (wanted.size === 0) return;
    const position = this.verifier.head().nextSequence;
    const found = await this.withSnapshot(base, (snapshot) => base.view.headsBefore(snapshot, [...wanted], position));
    for (const [id, head] of found) if (head !== null) heads.loaded.set(id, head);
  }

  /**
   * `work` with the newest snapshot stored, which must be the base or one after it of the same
   * ledger. The writer replaces its snapshot while the follower reads (the state tree is kept
   * for the newest one only): a read that fails as the snapshot is replaced is tried again.
   */
  private async withSnapshot<T>(base: Base, work: (snapshot: CheckedSnapshot) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const snapshot = await this.newestSnapshot(base);
      try {
        return await work(snapshot);
      } catch (error) {
        if (!(error instanceof SnapshotViewError) || attempt >= 3) throw error;
        const now = await base.view.snapshots.latest();
        if (now?.note === snapshot.snapshot.note) throw error;
      }
    }
  }

  private checked: CheckedSnapshot | null = null;

  private async newestSnapshot(base: Base): Promise<CheckedSnapshot> {
    const stored = await base.view.snapshots.latest();
    if (this.checked && stored?.note === this.checked.snapshot.note) return this.checked;
    const latest = await base.view.latest();
    if (!latest || latest.body.treeSize < base.snapshot.body.treeSize || latest.body.genesisHash !== base.genesis.hash) {
      throw new SnapshotViewError(
        `partition ${this.partition}: the newest snapshot stored does not continue the one followed from`,
      );
    }
    this.checked = latest;
    return latest;
  }

  /**
   * Whether this view stands for what a full read with the current pin would verify: the
   * verifier held the genesis against this pin, or took a genesis that turns out to be the pin.
   */
  agreesWith(pin: Hash | null): boolean {
    if (pin === this.pin) return true;
    if (this.pin !== null || pin === null || this.genesis?.hash !== pin) return false;
    this.pin = pin;
    return true;
  }

  /**
   * The partition as verified, with the subject's records. From a base, the records before it
   * come from the snapshot's store, held against its signed state (SnapshotView.history), and
   * the proofs read its tiles, held against the signed checkpoint here: each proof the
   * attestation will give (`wanted`) verifies. SnapshotViewError says they do not hold.
   */
  async reading(subject: string, wanted: WantedProofs): Promise<LedgerReading> {
    const checkpoint = this.verifier.head().lastCheckpoint;
    const followed = (this.byEntity.get(subject) ?? []).map((sequence) => this.stored(sequence));
    let problem = this.verifier.peekEnd();
    if (problem && this.base && checkpoint) problem = await this.behindBase(this.base, checkpoint, problem);
    const reading = (history: readonly StoredRecord[]): LedgerReading => ({
      partition: this.partition,
      problem,
      size: this.size,
      proofs: this.proofs,
      checkpoint,
      genesis: this.genesis,
      history,
    });
    if (!this.base) return reading(followed);
    if (this.unusable) throw new SnapshotViewError(this.unusable);
    const base = this.base;
    if (!checkpoint) return reading(followed);
    return this.withSnapshot(base, async (snapshot) => {
      const covered = snapshot.body.treeSize;
      // Up to the snapshot from its store, after it as followed; of a snapshot ahead of the
      // follower (the writer's newest), only the records the follower verified too.
      const before = (await base.view.history(snapshot, subject)).filter((stored) => stored.record.sequence < this.size);
      const history = [...before, ...followed.filter((stored) => stored.record.sequence > covered)];
      const size = checkpoint.treeSize;
      const sizes = wanted.fromSizes.filter((from) => from >= 1 && from <= size);
      // Proofs from tiles cost some hundreds of hashes each: made only when the attestation gives them.
      if (!wanted.inclusion && sizes.length === 0)
        return { ...reading(history), proofs: this.proofsWith(new TileSet(0, new Map()), this.size) };
      const proved = wanted.inclusion ? history : [];
      const leaves = [0, ...proved.map((stored) => stored.record.sequence)].filter((sequence) => sequence < size);
      const proofs = this.proofsWith(await base.view.tiles(snapshot, leaves, size, sizes), this.size);
      try {
        proveAgainst(proofs, checkpoint, wanted.inclusion ? [base.genesis, ...history] : [], sizes);
      } catch (error) {
        throw new SnapshotViewError(
          `partition ${this.partition}: the snapshot's tiles do not prove the signed tree: ${(error as Error).message}`,
        );
      }
      return { ...reading(history), proofs };
    });
  }

  /**
   * A record found again for a sequence before the base: the verifier, which holds no hashes
   * before it, can only call it `injected`. A full read calls it `duplicate` when it is a copy
   * of the verified record (docs/ledger-format.md §7, step 3): that record is read from the
   * base's store and proved included in the signed tree, then the finding is made as a full read
   * makes it. Any other problem is returned as it is.
   */
  private async behindBase(base: Base, checkpoint: SignedCheckpoint, problem: ChainBreak): Promise<ChainBreak> {
    const { kind, sequence, found, offset } = problem;
    if (kind !== 'injected' || sequence === null || sequence >= this.first || found === undefined || problem.expected)
      return problem;
    const named = (verifiedHash: Hash) => ({
      partition: this.partition,
      ...behindTipFinding({ offset, record: { sequence }, hash: found }, verifiedHash),
    });
    // The base's last record is its checkpoint, no leaf of the tree it signs: its hash is the
    // one the snapshot names, held against the topic's record at its offset when the base was taken.
    if (sequence === this.first - 1) return named(base.snapshot.body.checkpointHash);
    if (sequence >= checkpoint.treeSize) {
      throw new SnapshotViewError(
        `partition ${this.partition}: record ${sequence} is not in the signed tree of ${checkpoint.treeSize}`,
      );
    }
    return this.withSnapshot(base, async (snapshot) => {
      // A record the store lacks is a SnapshotViewError: the attestation then reads in full.
      const [verified] = await base.view.records([sequence]);
      if (!verified) throw new SnapshotViewError(`partition ${this.partition}: the store lost record ${sequence}`);
      const proofs = this.proofsWith(await base.view.tiles(snapshot, [sequence], checkpoint.treeSize, []), this.size);
      try {
        proveAgainst(proofs, checkpoint, [verified], []);
      } catch (error) {
        throw new SnapshotViewError(
          `partition ${this.partition}: the snapshot's store does not prove record ${sequence}: ${(error as Error).message}`,
        );
      }
      return named(verified.hash);
    });
  }

  /** A verified record read back from the spill file, hashed again against the verified hash. */
  private stored(sequence: number): StoredRecord {
    const index = sequence - this.first;
    const bytes = this.spill.read(index);
    // The very bytes the verifier accepted (their hash is the one it verified): parsed without
    // the format checks they passed then, as a record decoded in a worker thread is.
    const hash = recordHash(bytes);
    const verified = this.verifier.recordHashes.at(index);
    if (hash !== verified) {
      throw new Error(`the verifier's record cache does not hold the verified record ${sequence}: ${hash} is not ${verified}`);
    }
    return { partition: this.partition, offset: String(this.offsets[index]), record: parseDecodedRecord(bytes), hash };
  }

  /** Closes and deletes the spill file. */
  close(): void {
    this.spill.close();
  }
}

/** Throws unless the proofs give the signed root, each record's inclusion and consistency from each size. */
function proveAgainst(
  proofs: MerkleProofs,
  checkpoint: SignedCheckpoint,
  records: readonly StoredRecord[],
  fromSizes: readonly number[],
): void {
  const { treeSize: size, rootHash: root } = checkpoint;
  if (proofs.root(size) !== root) throw new Error(`the root of ${size} records is not the signed one`);
  for (const { record, hash } of records) {
    if (record.sequence >= size) continue;
    if (!verifyInclusion(hash, record.sequence, size, proofs.inclusionProof(record.sequence, size), root)) {
      throw new Error(`record ${record.sequence} is not included`);
    }
  }
  for (const from of fromSizes) {
    if (!verifyConsistency(from, size, proofs.root(from), root, proofs.consistencyProof(from, size))) {
      throw new Error(`the tree of ${from} records is not consistent with it`);
    }
  }
}

/**
 * The newest snapshot of the partition as a base to follow from, when it checks out: its note
 * signed by the ledger key (checkSnapshotNote), the topic's record at its checkpoint offset the
 * checkpoint it signs (checkSnapshot, with the genesis pin), and the store's record 0 the genesis
 * it names. Null, with the reason told, otherwise.
 */
export async function baseOf(
  options: BaseSources,
  partition: number,
  pin: Hash | null,
): Promise<(Base & { readonly head: ChainHead }) | null> {
  const { snapshots, readFrom, source } = options;
  if (!snapshots || !readFrom) return null;
  const refuse = (reason: string) => {
    options.onSnapshot?.({ kind: 'refused', partition, reason });
    return null;
  };
  const view = new SnapshotView(snapshots.partition(partition), source);
  let snapshot: CheckedSnapshot | null;
  try {
    snapshot = await view.latest();
  } catch (error) {
    if (error instanceof SnapshotViewError) return refuse(error.message);
    throw error;
  }
  if (!snapshot) return null;
  const checked = checkSnapshot(snapshot.snapshot, {
    ledgerId: source.ledgerId,
    partition,
    verifier: source.ledgerKey,
    genesis: pin ?? undefined,
    recordAt: await firstRecordAt(readFrom(partition, snapshot.body.checkpointOffset), snapshot.body.checkpointOffset),
  });
  if ('problem' in checked) return refuse(checked.problem);
  let genesis: StoredRecord | undefined;
  try {
    [genesis] = await view.records([0]);
  } catch (error) {
    if (error instanceof SnapshotViewError) return refuse(error.message);
    throw error;
  }
  if (genesis?.hash !== snapshot.body.genesisHash)
    return refuse('the store holds another genesis record than the snapshot names');
  const size = snapshot.body.treeSize + 1;
  options.onSnapshot?.({ kind: 'resumed', partition, treeSize: snapshot.body.treeSize });
  return {
    view,
    snapshot,
    size,
    genesis,
    head: {
      nextSequence: size,
      headHash: snapshot.body.checkpointHash,
      genesisHash: snapshot.body.genesisHash,
      tree: checked.tree,
      entityHeads: new Map(),
      lastCheckpoint: checked.checkpoint,
      nextOffset: checked.nextOffset,
    },
  };
}

/** The entry at `offset`, when the entries start with it. */
async function firstRecordAt(entries: AsyncIterable<StoredEntry>, offset: string): Promise<Uint8Array | undefined> {
  for await (const entry of entries) return entry.offset === offset ? entry.value : undefined;
  return undefined;
}

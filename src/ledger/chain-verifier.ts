import {
  behindTipFinding,
  foreignFinding,
  type HeldVerdict,
  heldVerdictFinding,
  readRecord,
  type Tip,
  twinFinding,
  type WaitingRecord,
} from './arrival-checks.js';
import type { ChainBreak, Finding } from './chain-break.js';
import { brokenLinkVerdict, walkBack } from './chain-walk.js';
import type { CheckpointVerifier, SignedCheckpoint } from './checkpoint-note.js';
import { checkCheckpointRecord } from './checkpoint-record.js';
import type { Hash } from './hashing.js';
import { HashList } from './hash-list.js';
import { CHECKPOINT_EVENT, type StoredRecord } from './ledger-record.js';
import { MerkleTree } from './merkle-tree.js';
import { checkPath, firstByOffset, type PathContext, strayFindings } from './path-checks.js';

export type { DecodeOutcome, RecordReader, WaitingRecord } from './arrival-checks.js';
export { decodeOutcome, entityIdsOf, readDecoded, readHere, readRecord } from './arrival-checks.js';
export type { BreakKind, ChainBreak, Finding } from './chain-break.js';
export { isSignedCheckpoint } from './checkpoint-record.js';

export interface ChainVerifierOptions {
  readonly ledgerId: string;
  readonly partition: number;
  readonly verifier: CheckpointVerifier;
  /** The genesis hash pinned outside Kafka, when known. */
  readonly genesisHash?: Hash;
  /** Records kept waiting for a checkpoint before they count as uncovered. */
  readonly maxPending?: number;
  /**
   * Continue from a head this verifier (or another) verified before, instead of from genesis;
   * reading then starts at `resumeFrom.nextOffset`.
   */
  readonly resumeFrom?: ChainHead;
  /**
   * Where the entity heads are kept, when not in a map of the verifier's own: the writer's state
   * on disk (partition-state.ts), which the caller loads with the heads of the entities of the
   * records it pushes. With it, `resumeFrom`'s heads are not copied.
   */
  readonly entityHeads?: EntityHeads;
  /** Whether to keep every verified record hash for `recordHashes` (the default), which takes 32 bytes a record. */
  readonly keepHashes?: boolean;
}

/** Each entity's head: the hash of the last verified record that names it. */
export interface EntityHeads {
  get(entityId: string): Hash | undefined;
  set(entityId: string, hash: Hash): void;
}

/** The verified head of a partition: what a writer continues from. */
export interface ChainHead {
  readonly nextSequence: number;
  readonly headHash: Hash | null;
  readonly genesisHash: Hash | null;
  readonly tree: MerkleTree;
  readonly entityHeads: EntityHeads;
  readonly lastCheckpoint: SignedCheckpoint | null;
  readonly nextOffset: string | null;
}

export type PushResult = { readonly verified: readonly StoredRecord[] } | { readonly break: ChainBreak };

const NONE: readonly StoredRecord[] = [];

/**
 * Verifies one partition record by record, in offset order (docs/ledger-format.md,
 * "Verification"). Records are held back until a validly signed checkpoint covers them:
 * a record no checkpoint covers is not part of the ledger. When a checkpoint arrives, the
 * chain is walked back from it to the last verified record; records off that path are
 * injected or duplicated, a link that finds no record is a missing or modified record.
 * After the first break the verifier takes no more records.
 */
export class ChainVerifier {
  private nextSequence = 0;
  private headHash: Hash | null = null;
  private genesisHash: Hash | null = null;
  private readonly hashes = new HashList();
  private readonly entityHeads: EntityHeads;
  private lastCheckpoint: SignedCheckpoint | null = null;
  private lastSettledOffset: string | null = null;
  private waiting: WaitingRecord[] = [];
  private waitingByHash = new Map<Hash, WaitingRecord>();
  private broken: ChainBreak | null = null;
  /**
   * A checkpoint whose walk back found no record with a linked hash. That record is missing
   * unless it still turns up, in which case the checkpoint stood too early (out of order).
   */
  private held: HeldVerdict | null = null;
  private readonly maxPending: number;
  /** Sequence of the first hash in `hashes`: 0, or where a resumed verification started. */
  private readonly baseSequence: number;
  private tree: MerkleTree;

  constructor(private readonly options: ChainVerifierOptions) {
    this.maxPending = options.maxPending ?? 100_000;
    this.entityHeads = options.entityHeads ?? new Map<string, Hash>();
    const from = options.resumeFrom;
    this.tree = from ? from.tree.clone() : MerkleTree.empty();
    this.baseSequence = from?.nextSequence ?? 0;
    if (from) {
      this.nextSequence = from.nextSequence;
      this.headHash = from.headHash;
      this.genesisHash = from.genesisHash;
      if (!options.entityHeads) {
        if (!(from.entityHeads instanceof Map)) throw new Error('a verifier resumed from heads kept outside a map is given them');
        for (const [id, hash] of from.entityHeads as Map<string, Hash>) this.entityHeads.set(id, hash);
      }
      this.lastCheckpoint = from.lastCheckpoint;
      this.lastSettledOffset = from.nextOffset === null ? null : String(BigInt(from.nextOffset) - 1n);
    }
  }

  get failure(): ChainBreak | null {
    return this.broken;
  }

  /** Record hashes of the records this verifier verified, by sequence from `baseSequence`. */
  get recordHashes(): HashList {
    return this.hashes;
  }

  /**
   * The verified head. Its entityHeads is this verifier's own map, not a copy (a copy per call
   * costs O(entities), and the projector asks after every batch): it moves on with the
   * verifier, so take a copy to keep a head while pushing on.
   */
  head(): ChainHead {
    return {
      nextSequence: this.nextSequence,
      headHash: this.headHash,
      genesisHash: this.genesisHash,
      tree: this.tree.clone(),
      entityHeads: this.entityHeads,
      lastCheckpoint: this.lastCheckpoint,
      nextOffset: this.lastSettledOffset === null ? null : String(BigInt(this.lastSettledOffset) + 1n),
    };
  }

  /** Steps 1 to 7 of docs/ledger-format.md §7 for the Kafka record at `offset`. */
  push(offset: string, bytes: Uint8Array): PushResult {
    if (this.broken) return { break: this.broken };
    return this.pushRead(readRecord(offset, bytes));
  }

  /**
   * Steps 2 to 7 for a record whose step 1 was done elsewhere: `entry` is what readRecord
   * gives for its bytes (decoded once for other uses too, or in a worker thread: RecordReader).
   */
  pushRead(entry: WaitingRecord | Finding): PushResult {
    if (this.broken) return { break: this.broken };
    if ('kind' in entry) return this.fail(entry);
    const finding = this.arrivalFinding(entry);
    if (finding) return this.fail(finding);
    this.waiting.push(entry);
    this.waitingByHash.set(entry.hash, entry);
    if (entry.record.eventType === CHECKPOINT_EVENT) return this.settle(entry);
    if (this.waiting.length > this.maxPending) return this.fail(this.uncoveredFinding());
    return { verified: NONE };
  }

  /** The stream ended: records still waiting for a checkpoint are not part of the ledger. */
  end(): ChainBreak | null {
    if (this.broken) return this.broken;
    const finding = this.endFinding();
    return finding ? (this.fail(finding) as { break: ChainBreak }).break : null;
  }

  /**
   * What end() would find if the stream ended here, without ending it: a follower that has
   * read to the end of the topic asks this, then reads on as the ledger grows.
   */
  peekEnd(): ChainBreak | null {
    if (this.broken) return this.broken;
    const finding = this.endFinding();
    return finding ? { partition: this.options.partition, ...finding } : null;
  }

  private fail(finding: Finding): PushResult {
    this.broken = { partition: this.options.partition, ...finding };
    return { break: this.broken };
  }

  /** Steps 2 to 5: the record against the partition, the verified chain, a held verdict and the waiting records. */
  private arrivalFinding(entry: WaitingRecord): Finding | null {
    const { ledgerId, partition } = this.options;
    const { sequence } = entry.record;
    return (
      foreignFinding(entry, ledgerId, partition) ??
      (sequence < this.nextSequence ? behindTipFinding(entry, this.hashes.at(sequence - this.baseSequence)) : null) ??
      heldVerdictFinding(entry, this.held) ??
      twinFinding(entry, this.waitingByHash)
    );
  }

  /** Step 8. */
  private endFinding(): Finding | null {
    if (this.held) return this.held.missing;
    if (this.waiting.length > 0) return this.uncoveredFinding();
    if (this.options.genesisHash && this.nextSequence === 0) {
      return {
        kind: 'genesis',
        offset: '0',
        sequence: null,
        expected: this.options.genesisHash,
        found: 'an empty partition',
        message: 'the partition holds no verified record although its genesis is pinned: its history was deleted',
      };
    }
    return null;
  }

  private uncoveredFinding(): Finding {
    const first = this.waiting[0] as WaitingRecord;
    return {
      kind: 'uncovered',
      offset: first.offset,
      sequence: first.record.sequence,
      message: `${this.waiting.length} record(s) from here on are covered by no signed checkpoint, so they are not part of the ledger`,
    };
  }

  /**
   * Step 7: a checkpoint settles the waiting records. Its own record is checked first (7.1),
   * then the chain is walked back from it to the tip (7.2); a broken link is the whole verdict
   * (7.3); a complete path is checked with the records off it (7.4) and, if nothing is found,
   * verified.
   */
  private settle(checkpoint: WaitingRecord): PushResult {
    const ownRecord = checkCheckpointRecord(checkpoint, this.options.verifier);
    if ('finding' in ownRecord) return this.fail(ownRecord.finding);
    const walk = walkBack(checkpoint, this.tip(), this.waitingByHash);
    if ('brokenAt' in walk) return this.brokenLink(walk.brokenAt, checkpoint, walk.walked);
    const strays = strayFindings(this.waiting, walk.walked, checkpoint);
    const { findings, entityHeads } = checkPath(walk.path, ownRecord.signed, this.pathContext());
    const first = firstByOffset([...strays, ...findings]);
    if (first) return this.fail(first);
    return { verified: this.commitPath(walk.path, entityHeads, ownRecord.signed) };
  }

  private tip(): Tip {
    return { nextSequence: this.nextSequence, headHash: this.headHash };
  }

  private pathContext(): PathContext {
    const { ledgerId, partition, genesisHash } = this.options;
    const pinned = genesisHash ? { pinnedGenesis: genesisHash } : {};
    return { ...this.tip(), ledgerId, partition, ...pinned, tree: this.tree, entityHeads: this.entityHeads };
  }

  /** Step 7.3: a finding, or a verdict held until the next checkpoint or the end. */
  private brokenLink(link: WaitingRecord, checkpoint: WaitingRecord, walked: ReadonlySet<WaitingRecord>): PushResult {
    const verdict = brokenLinkVerdict(link, checkpoint, walked, this.waiting, this.tip(), this.waitingByHash);
    if ('finding' in verdict) return this.fail(verdict.finding);
    this.held = verdict.held;
    return { verified: NONE };
  }

  /** The path verified: the tip moves to its checkpoint, and no record waits any more. */
  private commitPath(
    path: readonly WaitingRecord[],
    entityHeads: ReadonlyMap<string, Hash>,
    signed: SignedCheckpoint,
  ): StoredRecord[] {
    const checkpoint = path.at(-1) as WaitingRecord;
    for (const entry of path) {
      if (this.options.keepHashes !== false) this.hashes.push(entry.hash);
      this.tree.append(entry.hash);
    }
    for (const [id, hash] of entityHeads) this.entityHeads.set(id, hash);
    this.nextSequence += path.length;
    this.headHash = checkpoint.hash;
    const opening = path[0];
    if (this.genesisHash === null && opening?.record.sequence === 0) this.genesisHash = opening.hash;
    this.lastCheckpoint = signed;
    this.lastSettledOffset = checkpoint.offset;
    this.waiting = [];
    this.waitingByHash = new Map();
    const { partition } = this.options;
    return path.map(({ offset, record, hash }) => ({ partition, offset, record, hash }));
  }
}

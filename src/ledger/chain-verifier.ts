import { checkpointEventId, CheckpointVerifier, checkpointOrigin, type SignedCheckpoint } from './checkpoint-note.js';
import { HASH_PATTERN, type Hash } from './hashing.js';
import { HashList } from './hash-list.js';
import { CHECKPOINT_EVENT, GENESIS_EVENT, type LedgerRecord, type StoredRecord, WRITER_ACTOR } from './ledger-record.js';
import { MerkleTree } from './merkle-tree.js';
import { decodeRecord, RecordFormatError } from './record-codec.js';

export type BreakKind =
  | 'malformed' // not a well-formed, canonical ledger record
  | 'foreign' // a record of another ledger or partition
  | 'duplicate' // a copy of a record the chain already holds
  | 'injected' // a record no signed checkpoint covers although later ones exist
  | 'modified' // a record whose content does not hash to what the chain links to
  | 'missing' // a record the chain links to is absent
  | 'out-of-order' // chain order and offset order disagree
  | 'sequence' // sequence numbers are not dense
  | 'entity-link' // an entity's previous-record hash is not that entity's last record
  | 'checkpoint' // bad signature, or size/root/head not those of the records before it
  | 'genesis' // the first record is not the pinned genesis
  | 'uncovered'; // records at the end that no signed checkpoint covers

/** The first place where the partition stops verifying, and what was expected there. */
export interface ChainBreak {
  readonly kind: BreakKind;
  readonly partition: number;
  readonly offset: string;
  readonly sequence: number | null;
  readonly entityId?: string;
  readonly expected?: string;
  readonly found?: string;
  readonly message: string;
}

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
}

/** The verified head of a partition: what a writer continues from. */
export interface ChainHead {
  readonly nextSequence: number;
  readonly headHash: Hash | null;
  readonly genesisHash: Hash | null;
  readonly tree: MerkleTree;
  readonly entityHeads: ReadonlyMap<string, Hash>;
  readonly lastCheckpoint: SignedCheckpoint | null;
  readonly nextOffset: string | null;
}

interface Pending {
  readonly offset: string;
  readonly record: LedgerRecord;
  readonly hash: Hash;
}

export type PushResult = { readonly verified: readonly StoredRecord[] } | { readonly break: ChainBreak };

const NONE: readonly StoredRecord[] = [];

function offsetValue(offset: string): bigint {
  return BigInt(offset);
}

/** Whether a value has exactly the members of a signed checkpoint, well-typed (not whether it verifies). */
export function isSignedCheckpoint(payload: unknown): payload is SignedCheckpoint {
  const p = payload as Record<string, unknown>;
  return (
    typeof p.origin === 'string' &&
    Number.isSafeInteger(p.treeSize) &&
    typeof p.rootHash === 'string' &&
    HASH_PATTERN.test(p.rootHash) &&
    typeof p.headHash === 'string' &&
    HASH_PATTERN.test(p.headHash) &&
    typeof p.time === 'string' &&
    typeof p.keyName === 'string' &&
    typeof p.keyId === 'string' &&
    typeof p.signature === 'string' &&
    typeof p.note === 'string' &&
    Object.keys(p).length === 9
  );
}

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
  private readonly entityHeads = new Map<string, Hash>();
  private lastCheckpoint: SignedCheckpoint | null = null;
  private lastSettledOffset: string | null = null;
  private pending: Pending[] = [];
  private pendingByHash = new Map<Hash, Pending>();
  private broken: ChainBreak | null = null;
  /**
   * A checkpoint whose walk back found no record with a linked hash. That record is missing
   * unless it still turns up, in which case the checkpoint stood too early (out of order).
   */
  private deferred: {
    readonly missing: Omit<ChainBreak, 'partition'>;
    readonly wanted: Hash;
    readonly checkpoint: Pending;
  } | null = null;
  private readonly maxPending: number;
  /** Sequence of the first hash in `hashes`: 0, or where a resumed verification started. */
  private readonly baseSequence: number;
  private tree: MerkleTree;

  constructor(private readonly options: ChainVerifierOptions) {
    this.maxPending = options.maxPending ?? 100_000;
    const from = options.resumeFrom;
    this.tree = from ? from.tree.clone() : MerkleTree.empty();
    this.baseSequence = from?.nextSequence ?? 0;
    if (from) {
      this.nextSequence = from.nextSequence;
      this.headHash = from.headHash;
      this.genesisHash = from.genesisHash;
      for (const [id, hash] of from.entityHeads) this.entityHeads.set(id, hash);
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
      nextOffset: this.lastSettledOffset === null ? null : String(offsetValue(this.lastSettledOffset) + 1n),
    };
  }

  private fail(problem: Omit<ChainBreak, 'partition'>): PushResult {
    this.broken = { partition: this.options.partition, ...problem };
    return { break: this.broken };
  }

  push(offset: string, bytes: Uint8Array): PushResult {
    if (this.broken) return { break: this.broken };
    let record: LedgerRecord;
    let hash: Hash;
    try {
      ({ record, hash } = decodeRecord(bytes));
    } catch (error) {
      const reason = error instanceof RecordFormatError ? error.message : String(error);
      return this.fail({ kind: 'malformed', offset, sequence: null, message: `not a ledger record: ${reason}` });
    }
    if (record.ledgerId !== this.options.ledgerId || record.partition !== this.options.partition) {
      return this.fail({
        kind: 'foreign',
        offset,
        sequence: record.sequence,
        expected: `${this.options.ledgerId}/${this.options.partition}`,
        found: `${record.ledgerId}/${record.partition}`,
        message: 'the record belongs to another ledger or partition',
      });
    }
    if (record.sequence < this.nextSequence) {
      const held = this.hashes.at(record.sequence - this.baseSequence);
      return this.fail({
        kind: held === hash ? 'duplicate' : 'injected',
        offset,
        sequence: record.sequence,
        expected: held,
        found: hash,
        message:
          held === hash
            ? `a copy of the verified record at sequence ${record.sequence}`
            : `a record for sequence ${record.sequence}, which the signed chain already holds with another hash`,
      });
    }
    if (this.deferred) {
      const { missing, wanted, checkpoint } = this.deferred;
      if (hash === wanted) {
        return this.fail({
          kind: 'out-of-order',
          offset: checkpoint.offset,
          sequence: checkpoint.record.sequence,
          expected: `after offset ${offset}`,
          found: checkpoint.offset,
          message: `the checkpoint stands before a record it covers (sequence ${record.sequence}, offset ${offset})`,
        });
      }
      if (record.eventType === CHECKPOINT_EVENT) return this.fail(missing);
    }
    const twin = this.pendingByHash.get(hash);
    if (twin) {
      return this.fail({
        kind: 'duplicate',
        offset,
        sequence: record.sequence,
        expected: twin.offset,
        found: offset,
        message: `a copy of the record at offset ${twin.offset} (sequence ${record.sequence})`,
      });
    }
    const entry: Pending = { offset, record, hash };
    this.pending.push(entry);
    this.pendingByHash.set(hash, entry);
    if (record.eventType === CHECKPOINT_EVENT) return this.settle(entry);
    if (this.pending.length > this.maxPending) return this.fail(this.uncoveredProblem());
    return { verified: NONE };
  }

  /** The stream ended: records still waiting for a checkpoint are not part of the ledger. */
  end(): ChainBreak | null {
    if (this.broken) return this.broken;
    const problem = this.endProblem();
    return problem ? (this.fail(problem) as { break: ChainBreak }).break : null;
  }

  /**
   * What end() would find if the stream ended here, without ending it: a follower that has
   * read to the end of the topic asks this, then reads on as the ledger grows.
   */
  peekEnd(): ChainBreak | null {
    if (this.broken) return this.broken;
    const problem = this.endProblem();
    return problem ? { partition: this.options.partition, ...problem } : null;
  }

  private endProblem(): Omit<ChainBreak, 'partition'> | null {
    if (this.deferred) return this.deferred.missing;
    if (this.pending.length > 0) return this.uncoveredProblem();
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

  private uncoveredProblem(): Omit<ChainBreak, 'partition'> {
    const first = this.pending[0] as Pending;
    return {
      kind: 'uncovered',
      offset: first.offset,
      sequence: first.record.sequence,
      message: `${this.pending.length} record(s) from here on are covered by no signed checkpoint, so they are not part of the ledger`,
    };
  }

  private settle(checkpoint: Pending): PushResult {
    const payload = checkpoint.record.payload;
    if (!isSignedCheckpoint(payload)) {
      return this.fail({
        kind: 'checkpoint',
        offset: checkpoint.offset,
        sequence: checkpoint.record.sequence,
        message: 'the checkpoint payload is not a signed checkpoint',
      });
    }
    const problem = this.options.verifier.problemWith(payload) ?? this.writerRecordProblem(checkpoint.record, payload);
    if (problem) {
      return this.fail({ kind: 'checkpoint', offset: checkpoint.offset, sequence: checkpoint.record.sequence, message: problem });
    }

    // Walk back along previousHash from the checkpoint to the last verified record.
    const path: Pending[] = [];
    const onPath = new Set<Pending>([checkpoint]);
    let link: Pending = checkpoint;
    while (link.record.previousHash !== this.headHash) {
      const wanted = link.record.previousHash;
      const found = wanted === null ? undefined : this.pendingByHash.get(wanted);
      if (!found || onPath.has(found)) return this.brokenLink(link, onPath);
      path.push(found); // walked backwards: reversed below (unshift would be quadratic in the batch)
      onPath.add(found);
      link = found;
    }

    const problems: ChainBreak[] = [];
    const note = (problem: Omit<ChainBreak, 'partition'>) => problems.push({ partition: this.options.partition, ...problem });
    for (const stray of this.pending) {
      if (onPath.has(stray)) continue;
      if (stray.record.previousHash === checkpoint.hash || stray.record.sequence > checkpoint.record.sequence) {
        note({
          kind: 'out-of-order',
          offset: stray.offset,
          sequence: stray.record.sequence,
          expected: `after offset ${checkpoint.offset}`,
          found: stray.offset,
          message: `the record stands before the checkpoint it follows (sequence ${checkpoint.record.sequence}, offset ${checkpoint.offset})`,
        });
      } else {
        note({
          kind: 'injected',
          offset: stray.offset,
          sequence: stray.record.sequence,
          found: stray.hash,
          message: 'a record off the signed chain: the checkpoint after it does not cover it',
        });
      }
    }

    const chain = [...path.reverse(), checkpoint];
    const tree = this.tree.clone();
    const entityHeads = new Map<string, Hash>();
    let previous: Pending | null = null;
    let sequence = this.nextSequence;
    for (const entry of chain) {
      const { record } = entry;
      if (previous && offsetValue(entry.offset) < offsetValue(previous.offset)) {
        note({
          kind: 'out-of-order',
          offset: entry.offset,
          sequence: record.sequence,
          expected: `after offset ${previous.offset}`,
          found: entry.offset,
          message: `sequence ${record.sequence} stands before sequence ${previous.record.sequence} (offset ${previous.offset}) that it follows in the chain`,
        });
      }
      if (record.sequence !== sequence) {
        note({
          kind: 'sequence',
          offset: entry.offset,
          sequence: record.sequence,
          expected: String(sequence),
          found: String(record.sequence),
          message: `sequence ${record.sequence} where the chain is at ${sequence}`,
        });
      }
      if (sequence === 0) this.checkGenesis(entry, note);
      else if (record.eventType === GENESIS_EVENT) {
        note({ kind: 'genesis', offset: entry.offset, sequence: record.sequence, message: 'a second genesis record' });
      }
      for (const entity of record.entities) {
        const expected = entityHeads.get(entity.id) ?? this.entityHeads.get(entity.id) ?? null;
        if (entity.previousHash !== expected) {
          note({
            kind: 'entity-link',
            offset: entry.offset,
            sequence: record.sequence,
            entityId: entity.id,
            expected: expected ?? 'null (first record of the entity)',
            found: entity.previousHash ?? 'null',
            message: `entity ${entity.id} links to a record that is not its previous one`,
          });
        }
        entityHeads.set(entity.id, entry.hash);
      }
      if (entry === checkpoint) {
        const size = tree.size;
        const root = tree.root();
        const headHash = previous?.hash ?? this.headHash;
        const origin = checkpointOrigin(this.options.ledgerId, this.options.partition);
        const mismatch =
          payload.treeSize !== size
            ? ['tree size', String(size), String(payload.treeSize)]
            : payload.rootHash !== root
              ? ['root hash', root, payload.rootHash]
              : payload.headHash !== headHash
                ? ['head hash', String(headHash), payload.headHash]
                : payload.origin !== origin
                  ? ['origin', origin, payload.origin]
                  : null;
        if (mismatch) {
          note({
            kind: 'checkpoint',
            offset: entry.offset,
            sequence: record.sequence,
            expected: mismatch[1],
            found: mismatch[2],
            message: `the checkpoint's ${mismatch[0]} is not that of the records before it`,
          });
        }
      }
      tree.append(entry.hash);
      previous = entry;
      sequence += 1;
    }

    // The earliest problem by offset; among problems at one offset, the first noted.
    const first = problems
      .map((problem, order) => ({ problem, order }))
      .sort((a, b) => {
        const diff = offsetValue(a.problem.offset) - offsetValue(b.problem.offset);
        return diff < 0n ? -1 : diff > 0n ? 1 : a.order - b.order;
      })[0]?.problem;
    if (first) {
      this.broken = first;
      return { break: first };
    }

    for (const entry of chain) {
      this.hashes.push(entry.hash);
      this.tree.append(entry.hash);
    }
    for (const [id, hash] of entityHeads) this.entityHeads.set(id, hash);
    this.nextSequence = sequence;
    this.headHash = checkpoint.hash;
    const opening = chain[0];
    if (this.genesisHash === null && opening?.record.sequence === 0) this.genesisHash = opening.hash;
    this.lastCheckpoint = payload;
    this.lastSettledOffset = checkpoint.offset;
    this.pending = [];
    this.pendingByHash = new Map();
    return {
      verified: chain.map((entry) => ({
        partition: this.options.partition,
        offset: entry.offset,
        record: entry.record,
        hash: entry.hash,
      })),
    };
  }

  /**
   * Members of a checkpoint record that the signature does not cover are fixed by the format
   * (docs/ledger-format.md, "Checkpoints"), so the last checkpoint, which no later one covers,
   * cannot be altered either.
   */
  private writerRecordProblem(record: LedgerRecord, checkpoint: SignedCheckpoint): string | undefined {
    if (record.entities.length > 0) return 'a checkpoint record touches no entity';
    if (record.actor !== WRITER_ACTOR) return `a checkpoint record's actor is ${WRITER_ACTOR}`;
    if (record.occurredAt !== checkpoint.time || record.recordedAt !== checkpoint.time) {
      return "a checkpoint record's occurredAt and recordedAt are the checkpoint's time";
    }
    if (record.eventId !== checkpointEventId(checkpoint)) return "a checkpoint record's eventId is derived from its note";
    return undefined;
  }

  private checkGenesis(entry: Pending, note: (problem: Omit<ChainBreak, 'partition'>) => void): void {
    const { record } = entry;
    const payload = record.payload;
    if (
      record.eventType !== GENESIS_EVENT ||
      record.previousHash !== null ||
      record.entities.length > 0 ||
      record.actor !== WRITER_ACTOR ||
      payload.ledgerId !== this.options.ledgerId ||
      payload.partition !== this.options.partition
    ) {
      note({
        kind: 'genesis',
        offset: entry.offset,
        sequence: record.sequence,
        message: `the first record is not the genesis of ${this.options.ledgerId}/${this.options.partition}`,
      });
    } else if (this.options.genesisHash && this.options.genesisHash !== entry.hash) {
      note({
        kind: 'genesis',
        offset: entry.offset,
        sequence: record.sequence,
        expected: this.options.genesisHash,
        found: entry.hash,
        message: 'the genesis record is not the pinned one: the partition was rewritten from genesis',
      });
    }
  }

  /**
   * The walk back from a checkpoint found no record with the hash that `link` points to.
   * A pending record standing at that sequence but hashing differently was modified;
   * without one, the record is missing.
   */
  private brokenLink(link: Pending, onPath: ReadonlySet<Pending>): PushResult {
    const wanted = link.record.previousHash;
    const sequence = link.record.sequence - 1;
    // The record standing where the link points: by its sequence member, or, if that member
    // was changed too, by where its own previous hash puts it.
    const sequenceOf = (hash: Hash | null): number | undefined =>
      hash === null ? undefined : hash === this.headHash ? this.nextSequence - 1 : this.pendingByHash.get(hash)?.record.sequence;
    const offPath = this.pending.filter((entry) => !onPath.has(entry) && entry.record.eventType !== CHECKPOINT_EVENT);
    const impostor =
      offPath.find((entry) => entry.record.sequence === sequence) ??
      offPath.find((entry) => sequenceOf(entry.record.previousHash) === sequence - 1);
    if (impostor && wanted !== null) {
      return this.fail({
        kind: 'modified',
        offset: impostor.offset,
        sequence,
        expected: wanted,
        found: impostor.hash,
        message: `the record does not hash to what sequence ${link.record.sequence} (offset ${link.offset}) links to: its content was changed`,
      });
    }
    if (sequence < this.nextSequence || wanted === null) {
      return this.fail({
        kind: 'sequence',
        offset: link.offset,
        sequence: link.record.sequence,
        expected: String(this.headHash),
        found: String(wanted),
        message: 'the record links back past the last verified record',
      });
    }
    // Missing, unless it still turns up after the checkpoint: hold the verdict until then.
    const checkpoint = this.pending.at(-1) as Pending;
    this.deferred = {
      wanted,
      checkpoint,
      missing: {
        kind: 'missing',
        offset: link.offset,
        sequence: link.record.sequence,
        expected: wanted,
        found: 'no such record',
        message: `the record linked from sequence ${link.record.sequence} (sequence ${sequence}, hash ${wanted}) is missing`,
      },
    };
    return { verified: NONE };
  }
}

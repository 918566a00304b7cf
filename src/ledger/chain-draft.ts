import type { ChainHead, EntityHeads } from './chain-verifier.js';
import { checkpointEventId, type CheckpointSigner, checkpointOrigin, type SignedCheckpoint } from './checkpoint-note.js';
import type { Hash } from './hashing.js';
import {
  CHECKPOINT_EVENT,
  FORMAT_VERSION,
  GENESIS_EVENT,
  type GenesisPayload,
  type LedgerRecord,
  WRITER_ACTOR,
} from './ledger-record.js';
import type { MerkleTree } from './merkle-tree.js';
import type { LogEntry } from './ports.js';
import { encodeRecord } from './record-codec.js';

/** A record built for the log: its canonical bytes and its hash. */
export interface DraftedRecord {
  readonly record: LedgerRecord;
  readonly bytes: Uint8Array;
  readonly hash: Hash;
}

/** What a caller gives of a record; the draft adds its place in the chain. */
export type RecordFields = Pick<LedgerRecord, 'eventId' | 'eventType' | 'occurredAt' | 'actor' | 'payload'>;

/** What a Kafka record adds to its value: key, headers, record framing (an upper bound). */
const RECORD_OVERHEAD_BYTES = 256;

/**
 * Records built on a copy of the chain head (sequence, previous hash, entity links, Merkle
 * tree); the head itself changes only once Kafka committed the batch, by `head()`.
 */
export class ChainDraft {
  readonly built: DraftedRecord[] = [];
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
  ) {
    this.nextSequence = base.nextSequence;
    this.headHash = base.headHash;
    this.tree = base.tree.clone();
  }

  add(fields: RecordFields, entityIds: readonly string[]): DraftedRecord {
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

  /** The first record of an empty partition (docs/ledger-format.md §4), under the writer's `eventId`. */
  genesis(partitions: number, signer: CheckpointSigner, eventId: string): DraftedRecord {
    const payload: GenesisPayload = {
      ledgerId: this.ledgerId,
      partition: this.partition,
      partitions,
      hash: 'sha-256',
      merkleTree: 'rfc9162',
      checkpointSignature: 'ed25519',
      checkpointKey: signer.verifierKey,
    };
    return this.add({ eventId, eventType: GENESIS_EVENT, occurredAt: this.recordedAt, actor: WRITER_ACTOR, payload }, []);
  }

  /** Ends the batch with a checkpoint over every record before it, signed. */
  checkpoint(signer: CheckpointSigner): DraftedRecord {
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
   * The head once Kafka committed the batch. The entity heads of the batch go into the
   * committed heads in place: copying a map of every entity per batch made appends O(entities).
   */
  head(): ChainHead {
    const entityHeads = committedHeads(this.base.entityHeads);
    for (const [id, hash] of this.entityHeads) entityHeads.set(id, hash);
    return this.headWith(entityHeads, this.tree);
  }

  /**
   * The head the batch leaves, while Kafka has not committed it yet: what the next batch is
   * drafted on (a pipelined writer). The committed heads are not touched; its entity heads
   * read the batch's own first.
   */
  pendingHead(): ChainHead {
    return this.headWith(new PendingHeads(this.entityHeads, committedHeads(this.base.entityHeads)), this.tree.clone());
  }

  private headWith(entityHeads: EntityHeads, tree: MerkleTree): ChainHead {
    const last = this.built.at(-1);
    return {
      nextSequence: this.nextSequence,
      headHash: this.headHash,
      genesisHash: this.base.genesisHash ?? (this.built[0]?.record.sequence === 0 ? this.built[0].hash : null),
      tree,
      entityHeads,
      lastCheckpoint:
        last?.record.eventType === CHECKPOINT_EVENT
          ? (last.record.payload as unknown as SignedCheckpoint)
          : this.base.lastCheckpoint,
      nextOffset: null,
    };
  }
}

/**
 * The entity heads of a batch not committed yet over the committed ones. Read-only but for
 * `set`, which goes to the committed heads: a draft on top of it moves them once Kafka committed
 * both batches (ChainDraft.head() writes into `committed`, never into this view).
 */
class PendingHeads implements EntityHeads {
  constructor(
    private readonly drafted: ReadonlyMap<string, Hash>,
    readonly committed: EntityHeads,
  ) {}

  get(entityId: string): Hash | undefined {
    return this.drafted.get(entityId) ?? this.committed.get(entityId);
  }

  set(entityId: string, hash: Hash): void {
    this.committed.set(entityId, hash);
  }
}

/** The committed entity heads beneath a pending view (or the heads themselves). */
function committedHeads(heads: EntityHeads): EntityHeads {
  return heads instanceof PendingHeads ? heads.committed : heads;
}

/** The Kafka record of a drafted record, under `key`. */
export function logEntry(drafted: DraftedRecord, key: string): LogEntry {
  return {
    key,
    value: drafted.bytes,
    headers: {
      'custodian-format': String(FORMAT_VERSION),
      'custodian-sequence': String(drafted.record.sequence),
      // A hint for people reading the topic; readers always recompute the hash.
      'custodian-hash': drafted.hash,
    },
  };
}

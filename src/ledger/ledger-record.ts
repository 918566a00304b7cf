import type { JsonValue } from './canonical-json.js';
import type { Hash } from './hashing.js';
import type { SignedCheckpoint } from './checkpoint-note.js';

/** docs/ledger-format.md. Bump only with a new document section and new test vectors. */
export const FORMAT_VERSION = 1;

export const GENESIS_EVENT = 'ledger.genesis';
export const CHECKPOINT_EVENT = 'ledger.checkpoint';
/** The actor of the writer's own records (genesis and checkpoints). */
export const WRITER_ACTOR = 'custodian-writer';
/**
 * The payload member that names the request a record came from, so that a retry of it is
 * answered with the recorded receipt (docs/ledger-format.md §8, "Request digest").
 */
export const REQUEST_DIGEST = 'requestDigest';

/** An entity a record touches, with the hash of that entity's previous record (null: first). */
export interface EntityLink {
  readonly id: string;
  readonly previousHash: Hash | null;
}

/** The envelope whose canonical JSON is the Kafka record value and whose hash is chained. */
export interface LedgerRecord {
  readonly formatVersion: typeof FORMAT_VERSION;
  readonly ledgerId: string;
  readonly partition: number;
  readonly sequence: number;
  readonly previousHash: Hash | null;
  readonly eventId: string;
  readonly eventType: string;
  readonly entities: readonly EntityLink[];
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly actor: string;
  readonly payload: { readonly [key: string]: JsonValue };
}

/** The genesis record's payload: what the ledger partition commits to from its first record. */
export interface GenesisPayload {
  readonly [key: string]: JsonValue;
  readonly ledgerId: string;
  readonly partition: number;
  readonly partitions: number;
  readonly hash: 'sha-256';
  readonly merkleTree: 'rfc9162';
  readonly checkpointSignature: 'ed25519';
  readonly checkpointKey: string;
}

/** The checkpoint record's payload is the signed checkpoint itself. */
export type CheckpointPayload = SignedCheckpoint & { readonly [key: string]: JsonValue };

/** A record as it was read back: where it sits in Kafka, its bytes and its recomputed hash. */
export interface StoredRecord {
  readonly partition: number;
  readonly offset: string;
  readonly record: LedgerRecord;
  readonly hash: Hash;
}

/** What a caller gets back once Kafka acknowledged the transaction holding its record. */
export interface AppendReceipt {
  readonly ledgerId: string;
  readonly partition: number;
  readonly offset: string;
  readonly sequence: number;
  readonly hash: Hash;
  /** Tree size of the signed checkpoint that covers the record (greater than its sequence). */
  readonly checkpointSize: number;
}

/**
 * A rule a request must pass, given the state of entities at the exact point in the chain
 * where its record would go. It throws the caller's own error to refuse. See EntityStateModel.
 */
export type Precondition = (stateOf: (entityId: string) => unknown) => void;

/**
 * How the state of an entity follows from its records: the writer folds every record of its
 * partition through this, so that preconditions are decided against the ledger itself.
 */
export interface EntityStateModel {
  /** The state of `entityId` after `record`, given its state before (undefined: no record yet). */
  evolve(state: unknown, record: LedgerRecord, entityId: string): unknown;
}

/** What a caller asks to append; the writer adds position, links and recordedAt. */
export interface AppendRequest {
  readonly eventId: string;
  readonly eventType: string;
  readonly entityIds: readonly string[];
  readonly occurredAt: string;
  readonly actor: string;
  readonly payload: { readonly [key: string]: JsonValue };
  /**
   * Checked by the partition's writer when it drafts the record, after every record before
   * it in the partition, those of the same batch included: two requests that only one may
   * pass can never both pass, however concurrent.
   */
  readonly precondition?: Precondition;
}

/**
 * Chains for the negative test vectors re-signed with the published TEST key: what someone
 * holding a writer's key can make.
 */
import { checkpointEventId, type Checkpoint, type CheckpointSigner } from '../../src/ledger/checkpoint-note.js';
import type { Hash } from '../../src/ledger/hashing.js';
import { CHECKPOINT_EVENT, type LedgerRecord } from '../../src/ledger/ledger-record.js';
import { merkleRoot } from '../../src/ledger/merkle-tree.js';
import { encodeRecord } from '../../src/ledger/record-codec.js';
import type { Transactions } from './vector-partition.js';

export interface ChainRecord {
  readonly record: LedgerRecord;
  readonly value: Uint8Array;
  readonly hash: Hash;
}

export interface ResealOptions {
  /**
   * Changes a record after its links were set to the chain's, before it is hashed: whatever it
   * changes, the records after it link to the changed record. `hashes` holds those before it.
   */
  readonly edit?: (record: LedgerRecord, index: number, hashes: readonly Hash[]) => LedgerRecord;
  /** Changes what a checkpoint signs; by default it signs the tree of the records before it. */
  readonly sign?: (checkpoint: Checkpoint, index: number, hashes: readonly Hash[]) => Checkpoint;
}

/**
 * The records chained again from the first: each links to the one before it and each entity to
 * its previous record, and every checkpoint is signed again over the records before it, with
 * its event id and times derived as the format fixes them. Only `edit` and `sign` break a rule.
 */
export function reseal(records: readonly LedgerRecord[], signer: CheckpointSigner, options: ResealOptions = {}): ChainRecord[] {
  const chained: ChainRecord[] = [];
  const entityHeads = new Map<string, Hash>();
  for (const [index, original] of records.entries()) {
    const hashes = chained.map((item) => item.hash);
    const linked: LedgerRecord = {
      ...original,
      previousHash: hashes.at(-1) ?? null,
      entities: original.entities.map(({ id }) => ({ id, previousHash: entityHeads.get(id) ?? null })),
    };
    let record = options.edit ? options.edit(linked, index, hashes) : linked;
    if (record.eventType === CHECKPOINT_EVENT) {
      const { origin, time } = record.payload as { origin: string; time: string };
      const tree: Checkpoint = {
        origin,
        treeSize: hashes.length,
        rootHash: merkleRoot(hashes),
        headHash: hashes.at(-1) ?? '',
        time,
      };
      const signed = signer.sign(options.sign ? options.sign(tree, index, hashes) : tree);
      record = {
        ...record,
        eventId: checkpointEventId(signed),
        occurredAt: signed.time,
        recordedAt: signed.time,
        payload: { ...signed },
      };
    }
    const { bytes, hash } = encodeRecord(record);
    chained.push({ record, value: bytes, hash });
    for (const entity of record.entities) entityHeads.set(entity.id, hash);
  }
  return chained;
}

/** The records cut into transactions as the writer commits them: each ends with its checkpoint. */
export function transactions(chain: readonly ChainRecord[]): Transactions {
  const groups: Uint8Array[][] = [[]];
  for (const item of chain) {
    (groups.at(-1) as Uint8Array[]).push(item.value);
    if (item.record.eventType === CHECKPOINT_EVENT) groups.push([]);
  }
  return groups.filter((group) => group.length > 0);
}

/**
 * Negative vectors made with the published test key: the honest partition chained and signed
 * again with one rule broken, as only someone holding a writer's key could. Checkpoints then
 * sign whatever they cover, so only the rules of §7 that signatures do not cover catch these.
 */
import { merkleRoot } from '../../src/ledger/merkle-tree.js';
import { GENESIS_EVENT, type LedgerRecord, WRITER_ACTOR } from '../../src/ledger/ledger-record.js';
import { type ChainRecord, transactions } from './forged-chain.js';
import { type HonestPartition, LEDGER_ID, PRODUCT_A, PRODUCT_B } from './honest-partition.js';
import type { TamperedPartition } from './vector-partition.js';

const valueAt = (chain: readonly ChainRecord[], sequence: number) => (chain[sequence] as ChainRecord).value;

export function resignedTamperings(honest: HonestPartition): TamperedPartition[] {
  const { resealed } = honest;
  /** The record as a genesis, linked where it stands. */
  const asGenesis = (linked: LedgerRecord): LedgerRecord => ({
    ...linked,
    eventType: GENESIS_EVENT,
    entities: [],
    actor: WRITER_ACTOR,
    payload: honest.record(0).payload,
  });

  const gap = resealed({ edit: (linked, index) => (index >= 7 ? { ...linked, sequence: linked.sequence + 1 } : linked) });
  const olderLink = resealed({
    edit: (linked, index, hashes) => (index === 7 ? { ...linked, previousHash: hashes[4] ?? null } : linked),
  });
  const unlinkedGenesis = resealed({
    edit: (linked, index) => (index === 8 ? { ...asGenesis(linked), previousHash: null } : linked),
  });
  const entityUnlinked = resealed({
    edit: (linked, index) =>
      index === 7
        ? { ...linked, entities: linked.entities.map((e) => (e.id === PRODUCT_B ? { ...e, previousHash: null } : e)) }
        : linked,
  });
  const entityLinkedBack = resealed({
    edit: (linked, index, hashes) =>
      index === 8 ? { ...linked, entities: [{ id: PRODUCT_A, previousHash: hashes[2] ?? null }] } : linked,
  });
  const otherRoot = resealed({
    sign: (checkpoint, index, hashes) => (index === 6 ? { ...checkpoint, rootHash: merkleRoot(hashes.slice(0, 5)) } : checkpoint),
  });
  const otherOrigin = resealed({
    sign: (checkpoint, index) => (index === 6 ? { ...checkpoint, origin: `custodian/${LEDGER_ID}/0` } : checkpoint),
  });
  const genesisOfPartitionZero = resealed({
    edit: (linked, index) => (index === 0 ? { ...linked, payload: { ...linked.payload, partition: 0 } } : linked),
  });
  const laterGenesis = resealed({ edit: (linked, index) => (index === 8 ? asGenesis(linked) : linked) });
  const permitted = resealed({
    edit: (linked, index) => {
      if (index === 7) return { ...linked, recordedAt: '2026-11-26T13:30:03.123456789+05:30' };
      if (index === 8) {
        return {
          ...linked,
          eventType: 'ledger.annotation',
          entities: [],
          actor: WRITER_ACTOR,
          recordedAt: '2026-11-26T08:00:03-00:00',
        };
      }
      return linked;
    },
  });

  return [
    {
      name: 'sequence-gap',
      change: 're-signed with the key: sequence numbers from record 7 on are one higher (8, 9, 10)',
      transactions: transactions(gap),
      expected: { kind: 'sequence', at: valueAt(gap, 7), sequence: 8 },
    },
    {
      name: 'sequence-link-to-older-record',
      change: 're-signed with the key: record 7 links to record 4, a verified record that is not the tip',
      transactions: transactions(olderLink),
      expected: { kind: 'sequence', at: valueAt(olderLink, 7), sequence: 7 },
    },
    {
      name: 'sequence-unlinked-genesis',
      change: 're-signed with the key: record 8 is a genesis record with previousHash null',
      transactions: transactions(unlinkedGenesis),
      expected: { kind: 'sequence', at: valueAt(unlinkedGenesis, 8), sequence: 8 },
    },
    {
      name: 'entity-link-to-nothing',
      change: `re-signed with the key: record 7 links its third entity, ${PRODUCT_B}, to null`,
      transactions: transactions(entityUnlinked),
      expected: { kind: 'entity-link', at: valueAt(entityUnlinked, 7), sequence: 7, entityId: PRODUCT_B },
    },
    {
      name: 'entity-link-to-older-record',
      change: `re-signed with the key: record 8 links ${PRODUCT_A} to record 2, not to its latest record 7`,
      transactions: transactions(entityLinkedBack),
      expected: { kind: 'entity-link', at: valueAt(entityLinkedBack, 8), sequence: 8, entityId: PRODUCT_A },
    },
    {
      name: 'checkpoint-root',
      change: 're-signed with the key: checkpoint 6 signs tree size 6 with the root of the first 5 records',
      transactions: transactions(otherRoot),
      expected: { kind: 'checkpoint', at: valueAt(otherRoot, 6), sequence: 6 },
    },
    {
      name: 'checkpoint-origin',
      change: `re-signed with the key: checkpoint 6 signs the origin custodian/${LEDGER_ID}/0`,
      transactions: transactions(otherOrigin),
      expected: { kind: 'checkpoint', at: valueAt(otherOrigin, 6), sequence: 6 },
    },
    {
      name: 'genesis-payload-partition',
      change: 're-signed with the key: the genesis payload names partition 0; no pin',
      transactions: transactions(genesisOfPartitionZero),
      genesisPin: null,
      expected: { kind: 'genesis', at: valueAt(genesisOfPartitionZero, 0), sequence: 0 },
    },
    {
      name: 'genesis-later-in-the-chain',
      change: 're-signed with the key: record 8 is a genesis record (linked to record 7) at sequence 8',
      transactions: transactions(laterGenesis),
      expected: { kind: 'genesis', at: valueAt(laterGenesis, 8), sequence: 8 },
    },
    {
      name: 'verifies-other-writer-types-and-offsets',
      change:
        're-signed with the key: record 7 recorded at +05:30 with nine fraction digits, record 8 of type ledger.annotation with no entities and recorded at -00:00',
      transactions: transactions(permitted),
      expected: null,
    },
  ];
}

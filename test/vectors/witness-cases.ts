/**
 * The witness cases of the negative vectors (docs/attestation-format.md §5): a witnessed
 * checkpoint of the honest partition, ledgers to hold against it, and consistency proofs from
 * earlier trees to the partition's last checkpoint, valid and not (ledger format §5).
 */
import type { SignedCheckpoint } from '../../src/ledger/checkpoint-note.js';
import type { Hash } from '../../src/ledger/hashing.js';
import { MerkleProofs, merkleRoot } from '../../src/ledger/merkle-tree.js';
import { transactions } from './forged-chain.js';
import type { HonestPartition } from './honest-partition.js';
import { type ExpectedFinding, partitionEntries, type Transactions, type VectorEntry } from './vector-partition.js';

export interface WitnessVectors {
  readonly description: string;
  readonly checkpoint: SignedCheckpoint;
  readonly ledgers: readonly {
    readonly name: string;
    readonly change: string;
    readonly genesisPin: Hash | null;
    readonly entries: readonly VectorEntry[];
    readonly firstFinding: ExpectedFinding | null;
    /** null: the ledger extends the witnessed tree. */
    readonly witnessFinding: { readonly kind: 'truncated' | 'fork'; readonly sequence: number } | null;
  }[];
  readonly consistency: readonly {
    readonly why: string;
    readonly fromTreeSize: number;
    readonly fromRootHash: Hash;
    readonly toTreeSize: number;
    readonly toRootHash: Hash;
    readonly proof: readonly Hash[];
    readonly valid: boolean;
  }[];
}

export function buildWitnessVectors(honest: HonestPartition): WitnessVectors {
  const witnessed = honest.record(6).payload as unknown as SignedCheckpoint;
  const latest = honest.record(9).payload as unknown as SignedCheckpoint;
  const fork = honest.resealed({
    edit: (linked, index) =>
      index === 4 ? { ...linked, payload: { ...linked.payload, name: 'Müller Vollmilch 1,5 %' } } : linked,
  });
  const proofs = MerkleProofs.of(honest.chain.map((item) => item.hash));
  const forkProofs = MerkleProofs.of(fork.map((item) => item.hash));
  const proof = (from: number) => proofs.consistencyProof(from, latest.treeSize);
  const toLatest = (why: string, fromTreeSize: number, changes: { fromRootHash?: Hash; proof?: Hash[]; valid: boolean }) => ({
    why,
    fromTreeSize,
    fromRootHash: changes.fromRootHash ?? proofs.root(fromTreeSize),
    toTreeSize: latest.treeSize,
    toRootHash: latest.rootHash,
    proof: changes.proof ?? proof(fromTreeSize),
    valid: changes.valid,
  });
  const flipped = proof(witnessed.treeSize).map((node, index) =>
    index === 0 ? `${node.slice(0, -1)}${node.endsWith('0') ? '1' : '0'}` : node,
  );
  const ledger = (
    name: string,
    change: string,
    ledgerTransactions: Transactions,
    witnessFinding: { kind: 'truncated' | 'fork'; sequence: number } | null,
  ) => ({
    name,
    change,
    genesisPin: honest.genesisHash,
    entries: partitionEntries(ledgerTransactions).entries,
    firstFinding: null,
    witnessFinding,
  });

  return {
    description:
      'The witness holds checkpoint 6 of the honest partition. Each ledger is verified (firstFinding) and then held against that checkpoint (witnessFinding); each consistency proof runs to the last checkpoint of the honest partition.',
    checkpoint: witnessed,
    ledgers: [
      ledger('honest', 'the honest partition: it extends the witnessed tree', honest.transactions, null),
      ledger(
        'truncated',
        'the last two transactions deleted: a valid, shorter ledger of 4 records',
        honest.transactions.slice(0, 2),
        {
          kind: 'truncated',
          sequence: 4,
        },
      ),
      ledger(
        'forked',
        're-signed with the key from record 4 on, whose payload differs: a valid ledger of another history',
        transactions(fork),
        { kind: 'fork', sequence: witnessed.treeSize - 1 },
      ),
    ],
    consistency: [
      toLatest('from the witnessed tree', witnessed.treeSize, { valid: true }),
      toLatest('from checkpoint 3', 3, { valid: true }),
      toLatest('from a tree of 1 record, a power of two: its root is the first node of the path', 1, { valid: true }),
      toLatest('from a tree of 4 records, a power of two', 4, { valid: true }),
      toLatest('equal sizes and roots: the empty proof', latest.treeSize, { valid: true }),
      toLatest('equal sizes, another root', latest.treeSize, { fromRootHash: forkProofs.root(latest.treeSize), valid: false }),
      toLatest('equal sizes with a node in the proof', latest.treeSize, { proof: [latest.headHash], valid: false }),
      toLatest('from the empty tree (size 0): no proof runs from it', 0, {
        fromRootHash: merkleRoot([]),
        proof: [],
        valid: false,
      }),
      toLatest("from the forked ledger's tree of the witnessed size", witnessed.treeSize, {
        fromRootHash: forkProofs.root(witnessed.treeSize),
        valid: false,
      }),
      toLatest('one hex digit of the first node changed', witnessed.treeSize, { proof: flipped, valid: false }),
      toLatest('one node too many', witnessed.treeSize, { proof: [...proof(witnessed.treeSize), latest.headHash], valid: false }),
      {
        why: 'an older tree larger than the newer one',
        fromTreeSize: latest.treeSize,
        fromRootHash: latest.rootHash,
        toTreeSize: witnessed.treeSize,
        toRootHash: witnessed.rootHash,
        proof: proof(witnessed.treeSize),
        valid: false,
      },
    ],
  };
}

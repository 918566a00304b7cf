/**
 * Builds test/vectors/ledger-v1-negative.json (docs/ledger-format.md §9): a partition the
 * writer wrote, copies of it tampered with one change each, each with the first finding
 * §7 names for it, verifier keys, and the witness cases of docs/attestation-format.md §5. The
 * expected findings are written by hand, from the format; src/ledger/ledger-negative-vectors.spec.ts
 * holds the implementation to them and fails when `npm run vectors` would change the file.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Hash } from '../../src/ledger/hashing.js';
import { byteTamperings } from './byte-tampering.js';
import { LEDGER_ID, PARTITION, PARTITIONS, writeHonestPartition } from './honest-partition.js';
import { VECTOR_SECRET_KEY } from './ledger-vectors.js';
import { resignedTamperings } from './resigned-tampering.js';
import { buildVerifierKeyVectors, type VerifierKeyVector } from './verifier-key-vectors.js';
import { expectedFinding, type ExpectedFinding, partitionEntries, type VectorEntry } from './vector-partition.js';
import { buildWitnessVectors, type WitnessVectors } from './witness-cases.js';

export type { ExpectedFinding, VectorEntry } from './vector-partition.js';

export interface NegativeLedgerVectors {
  readonly description: string;
  readonly formatVersion: 1;
  readonly entryFormat: string;
  readonly ledgerId: string;
  readonly partition: number;
  readonly partitions: number;
  readonly key: { readonly secretKeyHex: string; readonly verifierKey: string };
  readonly verifierKeys: readonly VerifierKeyVector[];
  readonly honest: { readonly genesisPin: Hash; readonly entries: readonly VectorEntry[] };
  readonly cases: readonly {
    readonly name: string;
    readonly change: string;
    readonly genesisPin: Hash | null;
    readonly entries: readonly VectorEntry[];
    /** null: the partition verifies. */
    readonly firstFinding: ExpectedFinding | null;
  }[];
  readonly witness: WitnessVectors;
}

/** Cases grouped by the kind they show, in the order §7 names the kinds; then the mixed ones. */
const GROUPS = [
  'malformed',
  'foreign',
  'duplicate',
  'injected',
  'modified',
  'missing',
  'out-of-order',
  'sequence',
  'entity-link',
  'checkpoint',
  'genesis',
  'uncovered',
  'first-finding',
  'verifies',
];
const groupOf = (name: string) => GROUPS.findIndex((group) => name.startsWith(`${group}-`) || name === group);

export async function buildNegativeLedgerVectors(): Promise<NegativeLedgerVectors> {
  const honest = await writeHonestPartition();
  const tampered = [...byteTamperings(honest), ...resignedTamperings(honest)].sort((a, b) => groupOf(a.name) - groupOf(b.name));
  return {
    description:
      'Custodian ledger format v1 negative test vectors (docs/ledger-format.md §9). The secret key is the published TEST key (bytes 0x01..0x20).',
    formatVersion: 1,
    entryFormat:
      'Each entry is a Kafka record of the partition as a read_committed reader gets it: offset (decimal string) and value, as UTF-8 text in "value", or in "valueBase64" (RFC 4648 base64) where the bytes are not valid UTF-8. Offsets skip one number after each transaction, where Kafka writes its commit marker.',
    ledgerId: LEDGER_ID,
    partition: PARTITION,
    partitions: PARTITIONS,
    key: { secretKeyHex: bytesToHex(VECTOR_SECRET_KEY), verifierKey: honest.signer.verifierKey },
    verifierKeys: buildVerifierKeyVectors(honest.signer),
    honest: { genesisPin: honest.genesisHash, entries: partitionEntries(honest.transactions).entries },
    cases: tampered.map((item) => {
      const { entries, offsetOf } = partitionEntries(item.transactions);
      return {
        name: item.name,
        change: item.change,
        genesisPin: item.genesisPin === undefined ? honest.genesisHash : item.genesisPin,
        entries,
        firstFinding: expectedFinding(item.expected, offsetOf),
      };
    }),
    witness: buildWitnessVectors(honest),
  };
}

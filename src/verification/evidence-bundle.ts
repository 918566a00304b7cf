import { isSignedCheckpoint } from '../ledger/chain-verifier.js';
import { type CheckpointVerifier, checkpointOrigin, type SignedCheckpoint } from '../ledger/checkpoint-note.js';
import { partitionOf } from '../ledger/partitioning.js';
import { HASH_PATTERN, type Hash } from '../ledger/hashing.js';
import { GENESIS_EVENT, type LedgerRecord } from '../ledger/ledger-record.js';
import { verifyConsistency, verifyInclusion } from '../ledger/merkle-tree.js';
import { decodeRecord, RecordFormatError } from '../ledger/record-codec.js';
import { ATTESTATION_VERSION, attestationSignatureProblem, type SignedAttestation } from './attestation.js';

/** docs/attestation-format.md §3. */
export const BUNDLE_VERSION = 1;

/** A ledger record as evidence: its exact stored text and its place in the checkpoint's tree. */
export interface BundleRecord {
  readonly offset: string;
  /** The Kafka record value, the record's canonical JSON text (its hash is recomputed from it). */
  readonly record: string;
  /** RFC 9162 audit path of leaf `sequence` in the tree of the attestation's checkpoint. */
  readonly inclusionProof: readonly Hash[];
}

/** An RFC 9162 consistency proof from an earlier tree to the attestation's checkpoint. */
export interface BundleConsistency {
  /** witness: from the latest witnessed checkpoint; requested: from a size the auditor named. */
  readonly reason: 'witness' | 'requested';
  readonly fromTreeSize: number;
  readonly fromRootHash: Hash;
  readonly proof: readonly Hash[];
}

/** Everything an auditor needs to re-check an attestation offline (docs/attestation-format.md). */
export interface EvidenceBundle {
  readonly bundleVersion: typeof BUNDLE_VERSION;
  readonly attestation: SignedAttestation;
  readonly genesis: BundleRecord | null;
  readonly records: readonly BundleRecord[];
  readonly consistency: readonly BundleConsistency[];
}

export interface BundleCheckOptions {
  /** The key that signs the ledger's checkpoints (custodian/<ledgerId>). */
  readonly ledgerKey: CheckpointVerifier;
  /** The key that signs attestations (custodian-verifier/<ledgerId>). */
  readonly attestationKey: CheckpointVerifier;
  /** A checkpoint the auditor already holds: the bundle must prove the ledger only grew since. */
  readonly knownCheckpoint?: SignedCheckpoint;
  /** The partition's genesis hash as the auditor pinned it. */
  readonly genesisHash?: Hash;
  /** The product the auditor asked about: the bundle must be about it. */
  readonly subject?: string;
  /** How old the attestation may be, and the time to measure it from. */
  readonly maxAgeMs?: number;
  readonly now?: Date;
}

export interface BundleCheck {
  /** Each failure names the member of the bundle it is about. Empty: the bundle verifies. */
  readonly failures: string[];
  /** What was checked, for people. */
  readonly checked: string[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isHashList = (value: unknown): value is Hash[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string' && HASH_PATTERN.test(item));

function shapeProblem(bundle: unknown): string | undefined {
  if (!isObject(bundle)) return 'the bundle is not a JSON object';
  if (bundle.bundleVersion !== BUNDLE_VERSION) return `bundleVersion: must be ${BUNDLE_VERSION}`;
  const signed = bundle.attestation;
  if (!isObject(signed) || !isObject(signed.attestation) || !isObject(signed.signature)) {
    return 'attestation: must hold an attestation and its signature';
  }
  const attestation = signed.attestation;
  if (attestation.attestationVersion !== ATTESTATION_VERSION) {
    return `attestation.attestation.attestationVersion: must be ${ATTESTATION_VERSION}`;
  }
  if (attestation.checkpoint !== null && !isSignedCheckpoint(attestation.checkpoint)) {
    return 'attestation.attestation.checkpoint: must be a signed checkpoint or null';
  }
  if (
    !Array.isArray(attestation.findings) ||
    typeof attestation.subject !== 'string' ||
    typeof attestation.ledgerId !== 'string'
  ) {
    return 'attestation.attestation: must name its subject and ledger and list its findings';
  }
  const records: unknown[] = Array.isArray(bundle.records) ? [...(bundle.records as unknown[])] : [null];
  if (bundle.genesis !== null) records.push(bundle.genesis);
  for (const [index, item] of records.entries()) {
    if (
      !isObject(item) ||
      typeof item.record !== 'string' ||
      typeof item.offset !== 'string' ||
      !isHashList(item.inclusionProof)
    ) {
      return `records[${index}]: must be { offset, record, inclusionProof }`;
    }
  }
  if (!Array.isArray(bundle.consistency)) return 'consistency: must be a list';
  for (const [index, item] of bundle.consistency.entries()) {
    if (
      !isObject(item) ||
      !Number.isSafeInteger(item.fromTreeSize) ||
      typeof item.fromRootHash !== 'string' ||
      !HASH_PATTERN.test(item.fromRootHash) ||
      !isHashList(item.proof)
    ) {
      return `consistency[${index}]: must be { reason, fromTreeSize, fromRootHash, proof }`;
    }
  }
  return undefined;
}

/**
 * Re-checks an evidence bundle with nothing but the two public keys (docs/attestation-format.md
 * §4): the attestation's signature, the checkpoint's signature, every record's hash and its
 * inclusion in the checkpoint's tree, the product's chain of entity links from its first record
 * to its last, the genesis, and the consistency proofs. Shared by the offline CLI and the tests.
 */
export function checkEvidenceBundle(input: unknown, options: BundleCheckOptions): BundleCheck {
  try {
    return checkBundle(input, options);
  } catch (error) {
    // A bundle shaped to trip the checker is a failed bundle, never an error of the caller's.
    return { failures: [`the bundle is malformed: ${(error as Error).message}`], checked: [] };
  }
}

function checkBundle(input: unknown, options: BundleCheckOptions): BundleCheck {
  const failures: string[] = [];
  const checked: string[] = [];
  const shape = shapeProblem(input);
  if (shape) return { failures: [shape], checked };
  const bundle = input as EvidenceBundle;
  const { attestation } = bundle.attestation;

  const signatureProblem = attestationSignatureProblem(bundle.attestation, options.attestationKey);
  if (signatureProblem) failures.push(`attestation.signature: ${signatureProblem}`);
  else checked.push(`attestation signed by ${options.attestationKey.keyName} (${options.attestationKey.keyId})`);
  if (options.subject !== undefined && attestation.subject !== options.subject) {
    failures.push(`attestation.subject: the bundle is about ${attestation.subject}, not ${options.subject}`);
  }
  if (options.maxAgeMs !== undefined) {
    const age = (options.now ?? new Date()).getTime() - Date.parse(attestation.verifiedAt);
    if (!(age <= options.maxAgeMs)) {
      failures.push(`attestation.verifiedAt: ${attestation.verifiedAt} is older than ${Math.round(options.maxAgeMs / 1000)} s`);
    }
  }
  if (attestation.verdict !== 'verified') {
    const first = attestation.findings[0];
    failures.push(
      `attestation.verdict: the verifier found the history ${attestation.verdict}${first ? `: ${first.kind} at partition ${first.partition}, offset ${first.offset ?? '?'}, sequence ${first.sequence ?? '?'}: ${first.message}` : ''}`,
    );
  }

  const checkpoint = attestation.checkpoint;
  if (checkpoint === null) {
    failures.push('attestation.checkpoint: there is no signed checkpoint to check the records against');
    return { failures, checked };
  }
  const checkpointProblem = options.ledgerKey.problemWith(checkpoint);
  if (checkpointProblem) failures.push(`attestation.checkpoint: ${checkpointProblem}`);
  else
    checked.push(
      `checkpoint of tree size ${checkpoint.treeSize} signed by ${options.ledgerKey.keyName} (${options.ledgerKey.keyId})`,
    );
  const origin = checkpointOrigin(attestation.ledgerId, attestation.partition);
  if (checkpoint.origin !== origin) failures.push(`attestation.checkpoint.origin: ${checkpoint.origin}, not ${origin}`);

  const proven = (where: string, item: BundleRecord): { record: LedgerRecord; hash: Hash } | undefined => {
    let decoded: { record: LedgerRecord; hash: Hash };
    try {
      decoded = decodeRecord(new TextEncoder().encode(item.record));
    } catch (error) {
      failures.push(`${where}.record: ${error instanceof RecordFormatError ? error.message : String(error)}`);
      return undefined;
    }
    const { record, hash } = decoded;
    if (record.ledgerId !== attestation.ledgerId || record.partition !== attestation.partition) {
      failures.push(
        `${where}.record: belongs to ${record.ledgerId}/${record.partition}, not ${attestation.ledgerId}/${attestation.partition}`,
      );
    }
    if (!verifyInclusion(hash, record.sequence, checkpoint.treeSize, item.inclusionProof, checkpoint.rootHash)) {
      failures.push(
        `${where}: record ${hash} (sequence ${record.sequence}) is not included in the checkpoint's tree of size ${checkpoint.treeSize}`,
      );
    }
    return decoded;
  };

  // The genesis: the partition's first record, as pinned.
  if (bundle.genesis === null) failures.push('genesis: missing');
  else {
    const genesis = proven('genesis', bundle.genesis);
    if (genesis) {
      const payload = genesis.record.payload;
      if (genesis.record.sequence !== 0 || genesis.record.eventType !== GENESIS_EVENT) {
        failures.push('genesis.record: not a genesis record at sequence 0');
      } else if (payload.checkpointKey !== options.ledgerKey.verifierKey) {
        failures.push(
          `genesis.record: names the checkpoint key ${JSON.stringify(payload.checkpointKey)}, not ${options.ledgerKey.verifierKey}`,
        );
      } else if (
        typeof payload.partitions !== 'number' ||
        partitionOf(attestation.subject, payload.partitions) !== attestation.partition
      ) {
        failures.push(`attestation.partition: ${attestation.subject} belongs to another partition than ${attestation.partition}`);
      }
      if (attestation.genesisHash !== genesis.hash) {
        failures.push(`genesis: hashes to ${genesis.hash}, the attestation names ${String(attestation.genesisHash)}`);
      }
      if (options.genesisHash !== undefined && options.genesisHash !== genesis.hash) {
        failures.push(`genesis: hashes to ${genesis.hash}, not to the pinned ${options.genesisHash}`);
      } else if (options.genesisHash !== undefined) checked.push(`genesis ${genesis.hash} is the pinned one`);
    }
  }

  // The product's own chain, from its first record (no earlier link) to its last.
  let previous: { hash: Hash; sequence: number } | null = null;
  for (const [index, item] of bundle.records.entries()) {
    const where = `records[${index}]`;
    const decoded = proven(where, item);
    if (!decoded) {
      previous = null;
      continue;
    }
    const { record, hash } = decoded;
    const link = record.entities.find((entity) => entity.id === attestation.subject);
    if (!link) {
      failures.push(`${where}.record: does not name ${attestation.subject} among its entities`);
    } else if (index === 0 && link.previousHash !== null) {
      failures.push(`${where}.record: links to an earlier record ${link.previousHash} of the product that the bundle lacks`);
    } else if (index > 0 && previous !== null && link.previousHash !== previous.hash) {
      failures.push(
        `${where}.record: links to ${String(link.previousHash)}, but the product's previous record in the bundle is ${previous.hash}`,
      );
    }
    if (previous !== null && record.sequence <= previous.sequence) failures.push(`${where}: records must be in sequence order`);
    if (index === 0 && attestation.firstRecordHash !== hash) failures.push(`${where}: is not the attestation's first record`);
    if (index === bundle.records.length - 1 && attestation.lastRecordHash !== hash) {
      failures.push(`${where}: is not the attestation's last record`);
    }
    previous = { hash, sequence: record.sequence };
  }
  if (bundle.records.length !== attestation.steps) {
    failures.push(`records: ${bundle.records.length} record(s), the attestation counts ${attestation.steps} step(s)`);
  } else if (failures.length === 0) {
    checked.push(`${bundle.records.length} record(s) of ${attestation.subject}: hashes, entity links and inclusion proofs`);
  }

  // Consistency: the checkpoint's tree extends the earlier trees named.
  for (const [index, item] of bundle.consistency.entries()) {
    if (!verifyConsistency(item.fromTreeSize, checkpoint.treeSize, item.fromRootHash, checkpoint.rootHash, item.proof)) {
      failures.push(
        `consistency[${index}]: the tree of size ${item.fromTreeSize} (root ${item.fromRootHash}) is not a prefix of the checkpoint's tree of size ${checkpoint.treeSize}`,
      );
    } else checked.push(`tree of size ${item.fromTreeSize} (${item.reason}) is a prefix of the checkpoint's`);
    if (
      item.reason === 'witness' &&
      (attestation.witnessed?.treeSize !== item.fromTreeSize || attestation.witnessed.rootHash !== item.fromRootHash)
    ) {
      failures.push(`consistency[${index}]: does not start from the witnessed checkpoint the attestation names`);
    }
  }
  if (attestation.witnessed && !bundle.consistency.some((item) => item.reason === 'witness')) {
    failures.push('consistency: no proof from the witnessed checkpoint the attestation names');
  }
  if (options.knownCheckpoint) {
    const known = options.knownCheckpoint;
    const knownProblem = options.ledgerKey.problemWith(known);
    if (knownProblem) failures.push(`known checkpoint: ${knownProblem}`);
    else if (known.origin !== origin) failures.push(`known checkpoint: its origin is ${known.origin}, not ${origin}`);
    else if (known.treeSize === checkpoint.treeSize) {
      if (known.rootHash !== checkpoint.rootHash) {
        failures.push(
          `known checkpoint: same tree size ${known.treeSize} as the attestation's but another root: the ledger forked`,
        );
      } else checked.push('the known checkpoint is the attestation checkpoint');
    } else if (known.treeSize > checkpoint.treeSize) {
      failures.push(
        `known checkpoint: of tree size ${known.treeSize}, larger than the attestation's ${checkpoint.treeSize}: the ledger was truncated`,
      );
    } else if (!bundle.consistency.some((item) => item.fromTreeSize === known.treeSize && item.fromRootHash === known.rootHash)) {
      failures.push(
        `consistency: no proof that the known checkpoint of tree size ${known.treeSize} (root ${known.rootHash}) is a prefix of the attestation's`,
      );
    }
  }
  return { failures, checked };
}

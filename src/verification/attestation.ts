import { utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalize } from '../ledger/canonical-json.js';
import type { CheckpointSigner, CheckpointVerifier, SignedCheckpoint } from '../ledger/checkpoint-note.js';
import type { Hash } from '../ledger/hashing.js';

/** docs/attestation-format.md. Bump only with a new section there and new test vectors. */
export const ATTESTATION_VERSION = 1;

/**
 * Signed messages start with this, so that an attestation signature can never pass for a
 * signature over anything else (a checkpoint note starts with its origin, `custodian/…`).
 */
export const ATTESTATION_DOMAIN = 'custodian.attestation.v1\0';

export type Verdict = 'verified' | 'tampered' | 'incomplete';

/** Where a finding comes from: the ledger topic, the witness, the read model, or the evidence. */
export type FindingSource = 'ledger' | 'witness' | 'read-model';

/** One thing that is not as it must be, and exactly where. */
export interface Finding {
  readonly source: FindingSource;
  /** A ledger break kind (docs/ledger-format.md §7), or truncated, fork, read-model, … */
  readonly kind: string;
  readonly partition: number;
  readonly offset: string | null;
  readonly sequence: number | null;
  readonly entityId?: string;
  /** The table and column of a read-model finding, e.g. custody_events.payload. */
  readonly field?: string;
  readonly expected?: string;
  readonly found?: string;
  readonly message: string;
}

/** What the verifier states about one product's history (docs/attestation-format.md §2). */
export interface Attestation {
  readonly attestationVersion: typeof ATTESTATION_VERSION;
  readonly ledgerId: string;
  readonly partition: number;
  /** The product's entity id (a GS1 Digital Link path). */
  readonly subject: string;
  readonly verdict: Verdict;
  readonly findings: readonly Finding[];
  /** Records in the product's own chain, its shipments' steps included. */
  readonly steps: number;
  readonly firstRecordHash: Hash | null;
  readonly lastRecordHash: Hash | null;
  readonly genesisHash: Hash | null;
  /** The latest signed checkpoint of the partition, which every step was checked against. */
  readonly checkpoint: SignedCheckpoint | null;
  /** The latest checkpoint the witness held, which the ledger was checked against. */
  readonly witnessed: { readonly treeSize: number; readonly rootHash: Hash } | null;
  readonly verifiedAt: string;
  readonly verifierKeyName: string;
  readonly verifierKeyId: string;
}

export interface SignedAttestation {
  readonly attestation: Attestation;
  readonly signature: {
    readonly algorithm: 'ed25519';
    readonly keyName: string;
    readonly keyId: string;
    /** base64 Ed25519 signature over ATTESTATION_DOMAIN || canonical JSON of `attestation`. */
    readonly value: string;
  };
}

/** The bytes an attestation's signature covers. */
export function attestationMessage(attestation: Attestation): Uint8Array {
  return utf8ToBytes(ATTESTATION_DOMAIN + canonicalize(attestation));
}

export function signAttestation(attestation: Attestation, signer: CheckpointSigner): SignedAttestation {
  return {
    attestation,
    signature: {
      algorithm: 'ed25519',
      keyName: signer.keyName,
      keyId: signer.keyId,
      value: signer.signMessage(attestationMessage(attestation)),
    },
  };
}

/** Why the signed attestation does not verify with this key, or undefined when it does. */
export function attestationSignatureProblem(signed: SignedAttestation, key: CheckpointVerifier): string | undefined {
  const { signature, attestation } = signed;
  if ((signature.algorithm as string) !== 'ed25519') return `the attestation is signed with ${signature.algorithm}, not ed25519`;
  if (signature.keyName !== key.keyName || signature.keyId !== key.keyId) {
    return `the attestation is signed by ${signature.keyName} (${signature.keyId}), not by ${key.keyName} (${key.keyId})`;
  }
  if (attestation.verifierKeyName !== signature.keyName || attestation.verifierKeyId !== signature.keyId) {
    return 'the attestation names another verifier key than the one that signed it';
  }
  let message: Uint8Array;
  try {
    message = attestationMessage(attestation);
  } catch (error) {
    return `the attestation is not canonicalizable JSON: ${(error as Error).message}`;
  }
  return key.verifiesMessage(signature.value, message) ? undefined : 'the attestation signature does not verify';
}

import type { CheckpointSigner } from '../ledger/checkpoint-note.js';
import type { EvidenceBundle } from './evidence-bundle.js';
import type { LedgerSource } from './partition-scan.js';
import { type ProductVerifier, UnknownSubjectError, VerifierBusyError } from './product-verifier.js';

/**
 * What the verifier offers another capability (the consumer page, src/consumer/): a product's
 * evidence bundle and the two keys it is checked with (docs/attestation-format.md §3, §4). The
 * rest of verification stays its own.
 */
export interface ProductEvidence {
  /** The product's evidence bundle; UnknownSubjectError when the ledger has no such product, VerifierBusyError when too many wait. */
  bundle(subject: string): Promise<EvidenceBundle>;
  /** The verifier keys (signed-note form) of the ledger's checkpoints and of attestations. */
  readonly keys: { readonly ledgerKey: string; readonly attestationKey: string };
}

export const PRODUCT_EVIDENCE = Symbol('ProductEvidence');

export { UnknownSubjectError, VerifierBusyError };
export type { EvidenceBundle };

export function productEvidence(verifier: ProductVerifier, source: LedgerSource, signer: CheckpointSigner): ProductEvidence {
  return {
    bundle: async (subject) => {
      const { bundle } = await verifier.verify(subject, { evidence: true });
      if (!bundle) throw new Error(`the verifier made no evidence bundle of ${subject}`);
      return bundle;
    },
    keys: { ledgerKey: source.ledgerKey.verifierKey, attestationKey: signer.verifierKey },
  };
}

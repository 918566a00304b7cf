import { bytesToHex } from '@noble/hashes/utils.js';
import { CheckpointSigner, CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import type { StoredEntry } from '../../src/ledger/ports.js';
import { ATTESTATION_DOMAIN } from '../../src/verification/attestation.js';
import { checkEvidenceBundle, type EvidenceBundle } from '../../src/verification/evidence-bundle.js';
import { memoryProductVerifier, sequentialIds, startMemoryWriter } from '../support/memory-ledger.js';
import { VECTOR_SECRET_KEY } from './ledger-vectors.js';

/** The published TEST attestation key: bytes 0x21..0x40. Never use it for a real verifier. */
export const VECTOR_ATTESTATION_KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 0x21);

export interface AttestationVectors {
  readonly description: string;
  readonly attestationVersion: 1;
  readonly bundleVersion: 1;
  readonly signedMessagePrefixHex: string;
  readonly keys: {
    readonly ledgerKey: string;
    readonly attestationKey: string;
    readonly attestationSecretKeyHex: string;
    readonly attestationPublicKeyHex: string;
  };
  /** A product's bundle that verifies with the keys above, and the genesis to pin. */
  readonly bundle: EvidenceBundle;
  readonly genesisHash: string;
  /** Bundles with one change each, and the failures a checker must report (at least). */
  readonly tampered: readonly { readonly change: string; readonly bundle: unknown; readonly failures: readonly string[] }[];
}

export async function buildAttestationVectors(): Promise<AttestationVectors> {
  const ledgerSigner = new CheckpointSigner('custodian/vectors', VECTOR_SECRET_KEY);
  const attestationSigner = new CheckpointSigner('custodian-verifier/vectors', VECTOR_ATTESTATION_KEY);
  const ledgerKey = new CheckpointVerifier(ledgerSigner.keyName, ledgerSigner.publicKey);
  const attestationKey = new CheckpointVerifier(attestationSigner.keyName, attestationSigner.publicKey);
  const { writer, log } = await startMemoryWriter('vectors', ledgerSigner);
  const ids = sequentialIds(8);
  const product = '/01/09506000134352/21/SN-1';
  const pallet = '/00/106141412345678902';
  for (const [eventType, entities, payload] of [
    ['product.commissioned', [product], { owner: '4012345000009', location: '4012345000016' }],
    ['shipment.packed', [pallet, product], { party: '4012345000009', location: '4012345000016' }],
    ['shipment.dispatched', [pallet, product], { party: '4012345000009', location: '4012345000016' }],
    ['product.commissioned', ['/01/09506000134352/21/SN-2'], { owner: '4012345000009', location: '4012345000016' }],
    ['custody.handover', [product], { from: '4012345000009', to: '4098765000045', location: '4098765000052' }],
  ] as const) {
    await writer.append({
      eventId: ids(),
      eventType,
      entityIds: entities,
      occurredAt: '2026-11-26T07:00:00Z',
      actor: 'maker',
      payload,
    });
  }
  const entries: StoredEntry[] = log.values();
  const verifier = memoryProductVerifier('vectors', ledgerKey, attestationSigner, entries);
  const { bundle } = await verifier.verify(product, { evidence: true, since: 3 });
  if (!bundle) throw new Error('no bundle');
  const text = JSON.stringify(bundle);
  const variant = (change: string, from: string, to: string) => {
    if (!text.includes(from)) throw new Error(`the vector bundle holds no ${from}`);
    const tampered = JSON.parse(text.replace(from, to)) as unknown;
    return { change, bundle: tampered, failures: checkEvidenceBundle(tampered, { ledgerKey, attestationKey }).failures };
  };
  const proof = bundle.records[1]?.inclusionProof[0] ?? '';
  return {
    description:
      'Custodian attestation and evidence bundle v1 test vectors (docs/attestation-format.md). Both secret keys are published TEST keys.',
    attestationVersion: 1,
    bundleVersion: 1,
    signedMessagePrefixHex: bytesToHex(new TextEncoder().encode(ATTESTATION_DOMAIN)),
    keys: {
      ledgerKey: ledgerSigner.verifierKey,
      attestationKey: attestationSigner.verifierKey,
      attestationSecretKeyHex: bytesToHex(VECTOR_ATTESTATION_KEY),
      attestationPublicKeyHex: bytesToHex(attestationSigner.publicKey),
    },
    bundle,
    genesisHash: bundle.attestation.attestation.genesisHash ?? '',
    tampered: [
      variant('one digit of a location in a record', '4098765000052', '4098765000053'),
      variant('the step count of the attestation', '"steps":4', '"steps":5'),
      variant('one hex digit of an inclusion proof', proof, `${proof.slice(0, -1)}${proof.endsWith('0') ? '1' : '0'}`),
    ],
  };
}

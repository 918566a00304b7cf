import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { type AttestationVectors, buildAttestationVectors } from '../../test/vectors/attestation-vectors.js';
import { CheckpointVerifier } from '../ledger/checkpoint-note.js';
import { checkEvidenceBundle } from './evidence-bundle.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../test/vectors/attestation-v1.json', import.meta.url), 'utf8'),
) as AttestationVectors;
const keys = {
  ledgerKey: CheckpointVerifier.fromVerifierKey(vectors.keys.ledgerKey),
  attestationKey: CheckpointVerifier.fromVerifierKey(vectors.keys.attestationKey),
};

describe('attestation v1 test vectors (test/vectors/attestation-v1.json)', () => {
  it('are exactly what the implementation produces today (regenerate with npm run vectors only on purpose)', async () => {
    expect(JSON.parse(JSON.stringify(await buildAttestationVectors()))).toEqual(vectors);
  });

  it('hold a bundle that verifies, its genesis pinned, and tampered ones that fail as listed', () => {
    expect(checkEvidenceBundle(vectors.bundle, { ...keys, genesisHash: vectors.genesisHash }).failures).toEqual([]);
    expect(vectors.tampered).toHaveLength(3);
    for (const { bundle, failures } of vectors.tampered) {
      expect(failures.length).toBeGreaterThan(0);
      expect(checkEvidenceBundle(bundle, keys).failures).toEqual(failures);
    }
  });
});

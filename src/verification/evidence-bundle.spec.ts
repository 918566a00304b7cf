import { beforeAll, describe, expect, it } from '@jest/globals';
import { memoryProductVerifier, sequentialIds, startMemoryWriter } from '../../test/support/memory-ledger.js';
import { CheckpointSigner, CheckpointVerifier } from '../ledger/checkpoint-note.js';
import type { StoredEntry } from '../ledger/ports.js';
import { type Attestation, signAttestation } from './attestation.js';
import { type BundleCheckOptions, checkEvidenceBundle, type EvidenceBundle } from './evidence-bundle.js';

const ledgerSigner = new CheckpointSigner('custodian/unit', new Uint8Array(32).fill(11));
const attestationSigner = new CheckpointSigner('custodian-verifier/unit', new Uint8Array(32).fill(12));
const keys: BundleCheckOptions = {
  ledgerKey: new CheckpointVerifier(ledgerSigner.keyName, ledgerSigner.publicKey),
  attestationKey: new CheckpointVerifier(attestationSigner.keyName, attestationSigner.publicKey),
};
let entries: StoredEntry[];
let bundle: EvidenceBundle;

async function bundleOf(subject: string, since?: number): Promise<EvidenceBundle> {
  const verifier = memoryProductVerifier('unit', keys.ledgerKey, attestationSigner, entries);
  return (await verifier.verify(subject, { evidence: true, ...(since === undefined ? {} : { since }) })).bundle!;
}

/** A copy of the bundle (plain JSON, as the CLI reads it) changed by `change`. */
function changed(change: (copy: { -readonly [K in keyof EvidenceBundle]: EvidenceBundle[K] }) => void): unknown {
  const copy = JSON.parse(JSON.stringify(bundle)) as EvidenceBundle;
  change(copy);
  return copy;
}

beforeAll(async () => {
  const { writer, log } = await startMemoryWriter('unit', ledgerSigner, { idPrefix: 4 });
  const ids = sequentialIds(3);
  // genesis 0, cp 1 | a 2, cp 3 | b 4, cp 5 | a b 6, cp 7 | a 8, cp 9 | c 10, cp 11
  for (const entities of [['a'], ['b'], ['a', 'b'], ['a'], ['c']]) {
    await writer.append({
      eventId: ids(),
      eventType: 'custody.handover',
      entityIds: entities,
      occurredAt: '2026-11-26T07:00:00Z',
      actor: 'op',
      payload: { to: 'x' },
    });
  }
  entries = log.values();
  bundle = await bundleOf('a', 3);
});

describe('checking an evidence bundle offline', () => {
  it('passes an untouched bundle, its genesis pinned and an earlier checkpoint known', () => {
    expect(bundle.records).toHaveLength(3);
    const genesisHash = bundle.attestation.attestation.genesisHash!;
    const known = JSON.parse(new TextDecoder().decode(entries[3]!.value)) as { payload: never };
    const check = checkEvidenceBundle(bundle, { ...keys, genesisHash, knownCheckpoint: known.payload });
    expect(check.failures).toEqual([]);
    expect(check.checked).toEqual([
      'attestation signed by custodian-verifier/unit (' + keys.attestationKey.keyId + ')',
      'checkpoint of tree size 11 signed by custodian/unit (' + keys.ledgerKey.keyId + ')',
      `genesis ${genesisHash} is the pinned one`,
      '3 record(s) of a: hashes, entity links and inclusion proofs',
      "tree of size 3 (requested) is a prefix of the checkpoint's",
    ]);
  });

  it('names a record left out of the middle, or from the start, of the product chain', () => {
    const middle = checkEvidenceBundle(
      changed((copy) => {
        copy.records = [copy.records[0]!, copy.records[2]!];
      }),
      keys,
    ).failures;
    expect(middle).toEqual([
      expect.stringMatching(/^records\[1\]\.record: links to [0-9a-f]{64}, but the product's previous record in the bundle is/),
      'records: 2 record(s), the attestation counts 3 step(s)',
    ]);
    const first = checkEvidenceBundle(
      changed((copy) => {
        copy.records = copy.records.slice(1);
      }),
      keys,
    ).failures;
    expect(first).toContain(
      `records[0].record: links to an earlier record ${bundle.attestation.attestation.firstRecordHash!} of the product that the bundle lacks`,
    );
  });

  it('names records out of order, a record of another product, and a proof for another leaf', () => {
    const swapped = checkEvidenceBundle(
      changed((copy) => {
        copy.records = [copy.records[1]!, copy.records[0]!, copy.records[2]!];
      }),
      keys,
    ).failures;
    expect(swapped).toContain('records[1]: records must be in sequence order');
    const other = checkEvidenceBundle(
      changed((copy) => {
        copy.records = [...copy.records.slice(0, 2), { ...copy.records[2]!, record: copy.genesis!.record }];
      }),
      keys,
    ).failures;
    expect(other).toContain('records[2].record: does not name a among its entities');
    expect(other.some((failure) => failure.startsWith('records[2]: record') && failure.includes('is not included'))).toBe(true);
  });

  it('names a forged signature, the wrong key, a checkpoint of another key, and an unpinned genesis', () => {
    expect(
      checkEvidenceBundle(
        changed((copy) => {
          (copy.attestation.attestation as { steps: number }).steps = 2;
        }),
        keys,
      ).failures,
    ).toEqual([
      'attestation.signature: the attestation signature does not verify',
      'records: 3 record(s), the attestation counts 2 step(s)',
    ]);
    expect(checkEvidenceBundle(bundle, { ...keys, attestationKey: keys.ledgerKey }).failures[0]).toMatch(
      /^attestation.signature: the attestation is signed by custodian-verifier\/unit/,
    );
    const stranger = new CheckpointSigner('custodian/unit', new Uint8Array(32).fill(13));
    expect(
      checkEvidenceBundle(bundle, { ...keys, ledgerKey: new CheckpointVerifier(stranger.keyName, stranger.publicKey) }).failures,
    ).toEqual([
      expect.stringMatching(/^attestation.checkpoint: the signature is not by key id/),
      expect.stringMatching(
        /^genesis.record: names the checkpoint key "custodian\/unit\+[0-9a-f]{8}\+.*", not custodian\/unit\+/,
      ),
    ]);
    expect(checkEvidenceBundle(bundle, { ...keys, genesisHash: 'f'.repeat(64) }).failures).toEqual([
      `genesis: hashes to ${bundle.attestation.attestation.genesisHash!}, not to the pinned ${'f'.repeat(64)}`,
    ]);
  });

  it('fails a genuine bundle whose attestation says the history did not verify', () => {
    const attestation: Attestation = {
      ...bundle.attestation.attestation,
      verdict: 'tampered',
      findings: [{ source: 'ledger', kind: 'modified', partition: 0, offset: '6', sequence: 6, message: 'changed' }],
    };
    const failures = checkEvidenceBundle(
      { ...bundle, attestation: signAttestation(attestation, attestationSigner) },
      keys,
    ).failures;
    expect(failures).toEqual([
      'attestation.verdict: the verifier found the history tampered: modified at partition 0, offset 6, sequence 6: changed',
    ]);
  });

  it('holds the bundle to the product, the age and the ledger key the auditor expects', () => {
    expect(checkEvidenceBundle(bundle, { ...keys, subject: 'b' }).failures).toEqual([
      'attestation.subject: the bundle is about a, not b',
    ]);
    const now = new Date('2026-11-26T13:00:00Z');
    expect(checkEvidenceBundle(bundle, { ...keys, maxAgeMs: 3_600_000, now }).failures).toEqual([]);
    expect(checkEvidenceBundle(bundle, { ...keys, maxAgeMs: 3_599_000, now }).failures).toEqual([
      'attestation.verifiedAt: 2026-11-26T12:00:00.000Z is older than 3599 s',
    ]);
  });

  it('refuses what is not a bundle, naming the member', () => {
    expect(
      checkEvidenceBundle(
        changed((copy) => {
          (copy.attestation.attestation as { checkpoint: unknown }).checkpoint = {};
        }),
        keys,
      ).failures,
    ).toEqual(['attestation.attestation.checkpoint: must be a signed checkpoint or null']);
    expect(
      checkEvidenceBundle(
        changed((copy) => {
          (copy.genesis as { record: unknown }).record = '{"formatVersion":1}';
          copy.records = [];
          (copy as unknown as { consistency: unknown[] }).consistency = [
            { reason: 'x', fromTreeSize: 0, fromRootHash: 'a'.repeat(64), proof: [] },
          ];
        }),
        keys,
      ).failures,
    ).toContain(
      'consistency[0]: the tree of size 0 (root ' + 'a'.repeat(64) + ") is not a prefix of the checkpoint's tree of size 11",
    );
    expect(checkEvidenceBundle([], keys).failures).toEqual(['the bundle is not a JSON object']);
    expect(
      checkEvidenceBundle(
        changed((copy) => ((copy as { bundleVersion: number }).bundleVersion = 2)),
        keys,
      ).failures,
    ).toEqual(['bundleVersion: must be 1']);
    expect(
      checkEvidenceBundle(
        changed((copy) => {
          (copy.records[1] as { inclusionProof: unknown }).inclusionProof = ['not a hash'];
        }),
        keys,
      ).failures,
    ).toEqual(['records[1]: must be { offset, record, inclusionProof }']);
    expect(
      checkEvidenceBundle(
        changed((copy) => ((copy as { consistency: unknown }).consistency = {})),
        keys,
      ).failures,
    ).toEqual(['consistency: must be a list']);
  });

  it('gives the same bundle for the same ledger, so it can serve as a test vector', async () => {
    expect(JSON.stringify(await bundleOf('a', 3))).toBe(JSON.stringify(bundle));
  });
});

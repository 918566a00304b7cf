import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { NegativeLedgerVectors, VectorEntry } from '../../test/vectors/ledger-negative-vectors.js';
import { CheckpointVerifier } from '../ledger/checkpoint-note.js';
import { checkAgainstWitness, type LedgerSource, readWitness, scanPartition } from './partition-scan.js';
import type { Witness } from './witness.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../test/vectors/ledger-v1-negative.json', import.meta.url), 'utf8'),
) as NegativeLedgerVectors;
const { checkpoint } = vectors.witness;

const bytesOf = (entry: VectorEntry): Uint8Array =>
  'value' in entry ? new TextEncoder().encode(entry.value) : new Uint8Array(Buffer.from(entry.valueBase64, 'base64'));

const witness: Witness = {
  description: 'the witness of the vectors',
  latest: () => Promise.resolve(checkpoint),
  publish: () => Promise.reject(new Error('the vectors witness keeps what it holds')),
};

describe('witness cases of the negative ledger vectors (docs/attestation-format.md §5)', () => {
  it.each(vectors.witness.ledgers.map((ledger) => [ledger.name, ledger] as const))(
    'hold the %s ledger against the witnessed checkpoint as the vector says',
    async (_, ledger) => {
      const source: LedgerSource = {
        ledgerId: vectors.ledgerId,
        partitions: vectors.partitions,
        ledgerKey: CheckpointVerifier.fromVerifierKey(vectors.key.verifierKey),
        genesisPin: () => Promise.resolve(ledger.genesisPin),
        read: () => ledger.entries.map((entry) => ({ offset: entry.offset, value: bytesOf(entry) })),
      };
      const reading = await readWitness(witness, source, vectors.partition);
      const scan = await scanPartition(source, vectors.partition, () => undefined);
      expect(scan.problem).toBeNull();
      const check = checkAgainstWitness(reading, scan);
      expect(check.findings.map(({ source: from, kind, sequence }) => ({ from, kind, sequence }))).toEqual(
        ledger.witnessFinding ? [{ from: 'witness', ...ledger.witnessFinding }] : [],
      );
      expect(check.witnessed).toEqual(
        ledger.witnessFinding ? null : { treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash },
      );
    },
  );
});

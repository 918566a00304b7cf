import { writeFile } from 'node:fs/promises';
import { buildAttestationVectors } from './attestation-vectors.js';
import { buildNegativeLedgerVectors } from './ledger-negative-vectors.js';
import { buildLedgerVectors } from './ledger-vectors.js';
import { buildSnapshotVectors } from './snapshot-vectors.js';

for (const [name, build] of [
  ['ledger-v1.json', buildLedgerVectors],
  ['ledger-v1-negative.json', buildNegativeLedgerVectors],
  ['attestation-v1.json', buildAttestationVectors],
  ['snapshot-v1.json', buildSnapshotVectors],
] as const) {
  const target = new URL(`../../../test/vectors/${name}`, import.meta.url);
  await writeFile(target, `${JSON.stringify(await build(), null, 2)}\n`);
  process.stdout.write(`wrote ${target.pathname}\n`);
}

import { writeFile } from 'node:fs/promises';
import { buildLedgerVectors } from './ledger-vectors.js';

const target = new URL('../../../test/vectors/ledger-v1.json', import.meta.url);
await writeFile(target, `${JSON.stringify(await buildLedgerVectors(), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);

/**
 * `npm run epcis:hash-check -- <folder>`: Custodian's EPCIS Event Hash IDs held against the
 * reference implementation's published test documents and hashes (a copy of
 * RalphTro/epcis-event-hash-generator's `tests/examples`, which is not part of this repository).
 * Prints each document's result; exit status 0 when every one agrees, 1 otherwise, 2 when the
 * folder holds none.
 */
import { checkReferenceDocuments } from '../epcis/event-hash-reference.js';

const folder = process.argv[2];
if (!folder) {
  process.stderr.write('usage: epcis-hash-check <folder of the reference test documents>\n');
  process.exit(2);
}
const results = checkReferenceDocuments(folder);
if (results.length === 0) {
  process.stderr.write(`no .jsonld documents in ${folder}\n`);
  process.exit(2);
}
for (const { name, difference } of results)
  process.stdout.write(`${difference ? 'DIFFERS' : 'agrees '}  ${name}${difference ? `: ${difference}` : ''}\n`);
const agreeing = results.filter((result) => !result.difference).length;
process.stdout.write(`${agreeing} of ${results.length} documents agree with the reference's published hash ids\n`);
process.exitCode = agreeing === results.length ? 0 : 1;

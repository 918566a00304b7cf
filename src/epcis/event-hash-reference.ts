import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { epcisPreHashes, eventHashIdOf } from './event-hash.js';

/**
 * Checks Custodian's EPCIS Event Hash IDs against a folder of the reference implementation's
 * published test documents (RalphTro/epcis-event-hash-generator, `tests/examples`: each
 * `.jsonld` with the `.hashes`, and mostly `.prehashes`, it publishes beside it). Those files are
 * not part of this repository; `npm run epcis:hash-check -- <folder>` runs this on a copy.
 */

/**
 * Published pre-hash strings that do not hash to the hash published beside them: an edit of the
 * reference's test files left them behind. For those events only the hash is compared.
 */
const STALE_PUBLISHED_PRE_HASHES: Readonly<Record<string, readonly number[]>> = {
  'epcisDocWithAllGS1Keys.jsonld': [0],
  'epcisDocWithCustomSchemaInContext.jsonld': [1],
  'epcisDocWithDefaultSchemaInContext.jsonld': [1],
};

/** Where the first pre-hash string differs, with what surrounds it, or undefined when none does. */
export function firstPreHashDifference(expected: readonly string[], actual: readonly string[]): string | undefined {
  for (let event = 0; event < Math.max(expected.length, actual.length); event++) {
    const wanted = expected[event] ?? '(no event)';
    const found = actual[event] ?? '(no event)';
    if (wanted === found) continue;
    let at = 0;
    while (at < wanted.length && wanted[at] === found[at]) at++;
    const around = (text: string) => `…${text.slice(Math.max(0, at - 60), at + 80)}`;
    return `event ${event}, character ${at}:\n  expected ${around(wanted)}\n  found    ${around(found)}`;
  }
  return undefined;
}

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '');

/** One reference document held against its published hashes: null when they agree, else what differs. */
export function referenceDocumentDifference(folder: string, name: string): string | null {
  const base = name.slice(0, -'.jsonld'.length);
  const preHashes = epcisPreHashes(JSON.parse(readFileSync(join(folder, name), 'utf8')) as Record<string, unknown>);
  const published = lines(join(folder, `${base}.hashes`));
  const hashes = preHashes.map(eventHashIdOf);
  if (hashes.join('\n') !== published.join('\n')) return `hash ids ${hashes.join(', ')}; published ${published.join(', ')}`;
  const preHashesFile = join(folder, `${base}.prehashes`);
  if (!existsSync(preHashesFile)) return null;
  const stale = STALE_PUBLISHED_PRE_HASHES[name] ?? [];
  const comparable = (all: readonly string[]) => all.filter((_, event) => !stale.includes(event));
  return firstPreHashDifference(comparable(lines(preHashesFile)), comparable(preHashes)) ?? null;
}

/** Every JSON-LD document of the folder, checked: its name and what differs (null: nothing). */
export function checkReferenceDocuments(folder: string): { name: string; difference: string | null }[] {
  return readdirSync(folder)
    .filter((name) => name.endsWith('.jsonld'))
    .sort()
    .map((name) => ({ name, difference: referenceDocumentDifference(folder, name) }));
}

import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { epcisEventHashIds, epcisPreHashes, eventHashIdOf } from './event-hash.js';

const repository = new URL('../../', import.meta.url);
const readJson = (url: URL): Record<string, unknown> => JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
const lines = (url: URL) =>
  readFileSync(url, 'utf8')
    .split('\n')
    .filter((line) => line !== '');

/** Where the first pre-hash string differs, with what surrounds it, or undefined when none does. */
function firstDifference(expected: readonly string[], actual: readonly string[]): string | undefined {
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

/**
 * The reference implementation's own test documents and the hashes it publishes for them
 * (RalphTro/epcis-event-hash-generator, tests/examples, see test/fixtures/epcis-hash/SOURCE.md).
 * They are not committed here: code and data brought from other repositories is kept in the
 * project's shared/ folder, which CI has beside the clone.
 */
const REFERENCE_EXAMPLE_FOLDERS = [
  new URL('../shared/data/epcis-hash/', repository),
  new URL('test/fixtures/epcis-hash/reference/', repository),
];
const referenceFolder = REFERENCE_EXAMPLE_FOLDERS.find((folder) => existsSync(folder));
const referenceDocuments = referenceFolder
  ? readdirSync(referenceFolder)
      .filter((name) => name.endsWith('.jsonld'))
      .sort()
  : [];

/**
 * Published pre-hash strings that do not hash to the hash published beside them (the test
 * checks that they do not): an edit of the reference's test files left them behind. For those
 * events only the hash is compared; Custodian's pre-hash string gives the published hash.
 */
const STALE_PUBLISHED_PRE_HASHES: Readonly<Record<string, readonly number[]>> = {
  'epcisDocWithAllGS1Keys.jsonld': [0],
  'epcisDocWithCustomSchemaInContext.jsonld': [1],
  'epcisDocWithDefaultSchemaInContext.jsonld': [1],
};

describe("EPCIS Event Hash IDs against the reference implementation's published test documents", () => {
  it('has the documents', () => {
    if (referenceFolder === undefined) {
      throw new Error(
        `the reference test documents are in none of ${REFERENCE_EXAMPLE_FOLDERS.map((f) => f.pathname).join(', ')}: ` +
          'see test/fixtures/epcis-hash/SOURCE.md for what goes there',
      );
    }
    // Its JSON-LD documents, each with a .hashes file (XML ones are not read by Custodian).
    expect(referenceDocuments).toHaveLength(22);
  });

  it.each(referenceDocuments)('gives the published hash ids (and pre-hash strings) for %s', (name) => {
    const folder = referenceFolder!;
    const base = name.slice(0, -'.jsonld'.length);
    const preHashes = epcisPreHashes(readJson(new URL(name, folder)));
    const publishedHashes = lines(new URL(`${base}.hashes`, folder));
    expect(preHashes.map(eventHashIdOf)).toEqual(publishedHashes);
    const publishedPreHashesFile = new URL(`${base}.prehashes`, folder);
    if (!existsSync(publishedPreHashesFile)) return;
    const stale = STALE_PUBLISHED_PRE_HASHES[name] ?? [];
    const publishedPreHashes = lines(publishedPreHashesFile);
    const notMatchingTheirHash = publishedPreHashes.flatMap((preHash, event) =>
      eventHashIdOf(preHash) === publishedHashes[event] ? [] : [event],
    );
    expect(notMatchingTheirHash).toEqual(stale);
    const comparable = (all: readonly string[]) => all.filter((_, event) => !stale.includes(event));
    expect(firstDifference(comparable(publishedPreHashes), comparable(preHashes))).toBeUndefined();
  });
});

interface ExpectedByReference {
  readonly documents: Record<string, { readonly hashes: string[]; readonly preHashes: string[] }>;
}
const expectedByReference = readJson(
  new URL('test/fixtures/epcis-hash/expected-by-reference.json', repository),
) as unknown as ExpectedByReference;

describe("EPCIS Event Hash IDs of GS1's examples and Custodian's own cases, as the reference computes them", () => {
  it('covers every GS1 example the reference can read, and our edge cases', () => {
    const gs1Examples = readdirSync(new URL('test/fixtures/epcis/', repository)).filter((name) => name.endsWith('.jsonld'));
    // The reference cannot read Example-TransactionEvents-2020_07_03y.jsonld: its @context
    // gives term definitions as objects, where the reference expects namespace strings.
    expect(Object.keys(expectedByReference.documents)).toHaveLength(gs1Examples.length - 1 + 1);
  });

  it.each(Object.entries(expectedByReference.documents))('gives the reference hash ids for %s', (path, expected) => {
    const preHashes = epcisPreHashes(readJson(new URL(path, repository)));
    expect(firstDifference(expected.preHashes, preHashes)).toBeUndefined();
    expect(preHashes.map(eventHashIdOf)).toEqual(expected.hashes);
  });
});

describe('EPCIS Event Hash IDs of one event written in different ways', () => {
  const document = (event: Record<string, unknown>) => ({
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { example: 'https://ns.example.com/epcis/' }],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2026-03-01T10:00:00Z',
    epcisBody: { eventList: [event] },
  });
  const event = {
    type: 'ObjectEvent',
    eventTime: '2026-03-01T10:00:00.000+01:00',
    eventTimeZoneOffset: '+01:00',
    epcList: ['urn:epc:id:sgtin:4012345.011111.9876', 'urn:epc:id:sscc:4012345.0000000333'],
    action: 'OBSERVE',
    bizStep: 'shipping',
    readPoint: { id: 'urn:epc:id:sgln:4012345.00001.0' },
    bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:4012345000009:PO-1' }],
    'example:carrier': 'Rail',
  };
  const [original] = epcisEventHashIds(document(event));

  it('is a sha-256 ni URI of CBV 2.0', () => {
    expect(original).toMatch(/^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
  });

  it.each<[string, Record<string, unknown>]>([
    ['its members in another order', Object.fromEntries(Object.entries(event).reverse())],
    ['its list in another order', { ...event, epcList: [...event.epcList].reverse() }],
    ['its time in another zone', { ...event, eventTime: '2026-03-01T09:00:00Z' }],
    [
      'Digital Links on any domain for its EPCs',
      { ...event, epcList: ['https://example.com/01/04012345111118/21/9876', 'https://id.gs1.org/00/040123450000003338'] },
    ],
    ['a CBV 1.2 URN for its business step', { ...event, bizStep: 'urn:epcglobal:cbv:bizstep:shipping' }],
    ['a web URI for its business step', { ...event, bizStep: 'https://ref.gs1.org/cbv/BizStep-shipping' }],
    [
      'an eventID, a recordTime and an errorDeclaration',
      {
        ...event,
        eventID: 'urn:uuid:1',
        recordTime: '2026-03-02T00:00:00Z',
        errorDeclaration: { declarationTime: '2026-03-02T00:00:00Z' },
      },
    ],
  ])('is the same with %s', (_, variant) => {
    expect(epcisEventHashIds(document(variant))).toEqual([original]);
  });

  it.each<[string, Record<string, unknown>]>([
    ['another time', { ...event, eventTime: '2026-03-01T10:00:00.001+01:00' }],
    ['another EPC', { ...event, epcList: ['urn:epc:id:sgtin:4012345.011111.9877', 'urn:epc:id:sscc:4012345.0000000333'] }],
    ['another extension value', { ...event, 'example:carrier': 'Road' }],
    ['a member more', { ...event, disposition: 'in_transit' }],
  ])('changes with %s', (_, variant) => {
    expect(epcisEventHashIds(document(variant))).not.toEqual([original]);
  });

  it('takes a single event at the root of what is captured', () => {
    expect(epcisEventHashIds({ '@context': document(event)['@context'], ...event })).toEqual([original]);
  });
});

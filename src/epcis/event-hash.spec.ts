import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { firstPreHashDifference } from './event-hash-reference.js';
import { epcisEventHashIds, epcisPreHashes, eventHashIdOf } from './event-hash.js';

const repository = new URL('../../', import.meta.url);
const readJson = (url: URL): Record<string, unknown> => JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;

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
    expect(firstPreHashDifference(expected.preHashes, preHashes)).toBeUndefined();
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

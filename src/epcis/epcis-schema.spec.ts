import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { checkEpcisJson, isEpcisDateTime, isEpcisUri } from './epcis-schema.js';

const examples = new URL('../../test/fixtures/epcis/', import.meta.url);
const exampleNames = readdirSync(examples).filter((name) => name.endsWith('.jsonld'));
const readExample = (name: string): unknown => JSON.parse(readFileSync(new URL(name, examples), 'utf8'));

/**
 * GS1's own examples (test/fixtures/epcis/SOURCE.md) that its own schema refuses as published.
 * Capture answers them with a 400 naming these places, so each entry is the exact error list.
 */
const REFUSED_AS_PUBLISHED: Record<string, { why: string; errors: { pointer: string; detail: string }[] }> = {
  'Example-TransactionEvents-2020_07_03y.jsonld': {
    why: 'the second event gives sourceList and destinationList as single objects, where EPCIS has arrays',
    errors: [
      { pointer: '/epcisBody/eventList/1/sourceList', detail: 'must be array' },
      { pointer: '/epcisBody/eventList/1/destinationList', detail: 'must be array' },
    ],
  },
  'PersistentDisposition-example.jsonld': {
    why: 'the events carry their hash id as "id" instead of "eventID", and the schema has no persistentDisposition on an AggregationEvent',
    errors: [0, 1].flatMap((event) =>
      ['id', 'persistentDisposition'].map((member) => ({
        pointer: `/epcisBody/eventList/${event}/${member}`,
        detail: expect.stringMatching(/^is not a member of this object/) as unknown as string,
      })),
    ),
  },
  'WithFullCombinationOfFields__aggregation_event_all_possible_fields.jsonld': {
    why: 'persistentDisposition on an AggregationEvent, and a JSON-LD "type" on a sensorElement, which the schema does not allow',
    errors: ['/epcisBody/eventList/0/persistentDisposition', '/epcisBody/eventList/0/sensorElementList/0/type'].map(
      (pointer) => ({
        pointer,
        detail: expect.stringMatching(/^is not a member of this object/) as unknown as string,
      }),
    ),
  },
  'WithFullCombinationOfFields__object_event_all_possible_fields.jsonld': {
    why: 'a "type" on a sensorElement, and ilmd on an OBSERVE event (instance data is given only when objects are added)',
    errors: [
      {
        pointer: '/epcisBody/eventList/0/sensorElementList/0/type',
        detail: expect.stringMatching(/^is not a member of this object/) as unknown as string,
      },
      { pointer: '/epcisBody/eventList/0/ilmd', detail: 'is not allowed here, with the other members of this object' },
      { pointer: '/epcisBody/eventList/0/action', detail: 'must match pattern "^DELETE$"' },
      { pointer: '/epcisBody/eventList/0/action', detail: 'must match pattern "^ADD$"' },
    ],
  },
  'WithSensorData__SensorDataExample14.jsonld': {
    why: 'a JSON-LD "type" on a sensorElement',
    errors: [
      {
        pointer: '/epcisBody/eventList/0/sensorElementList/0/type',
        detail: expect.stringMatching(/^is not a member of this object/) as unknown as string,
      },
    ],
  },
};

describe("EPCIS documents against GS1's EPCIS 2.0 JSON schema", () => {
  it('reads every GS1 example there is', () => {
    expect(exampleNames.length).toBe(22);
    for (const name of Object.keys(REFUSED_AS_PUBLISHED)) expect(exampleNames).toContain(name);
  });

  it.each(exampleNames.filter((name) => !(name in REFUSED_AS_PUBLISHED)))('accepts GS1 example %s', (name) => {
    expect(checkEpcisJson(readExample(name))).toEqual({ ok: true });
  });

  it.each(Object.entries(REFUSED_AS_PUBLISHED))('refuses GS1 example %s as published, naming where', (name, { errors }) => {
    expect(checkEpcisJson(readExample(name))).toEqual({ ok: false, errors });
  });

  it('accepts the blank node document id several GS1 examples use', () => {
    const document = readExample('Example_9.6.1-ObjectEvent.jsonld') as { id: string };
    expect(document.id).toBe('_:document1');
    expect(checkEpcisJson(document)).toEqual({ ok: true });
  });

  const singleEvent = () => ({
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { example: 'https://ns.example.com/epcis/' }],
    type: 'ObjectEvent',
    eventTime: '2026-03-01T10:00:00.000+01:00',
    eventTimeZoneOffset: '+01:00',
    epcList: ['urn:epc:id:sgtin:4012345.011111.9876', 'https://example.com/01/04012345111118/21/9877'],
    action: 'OBSERVE',
    bizStep: 'shipping',
    readPoint: { id: 'urn:epc:id:sgln:4012345.00001.0' },
    'example:carrier': { 'example:name': 'Rail & Sea' },
  });

  it('accepts a single event with its context and an extension member', () => {
    expect(checkEpcisJson(singleEvent())).toEqual({ ok: true });
  });

  it('names the exact place of each error in a hand-made invalid document', () => {
    const document = {
      '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: '2026-03-01T10:00:00Z',
      epcisBody: {
        eventList: [
          { ...singleEvent(), '@context': undefined },
          { ...singleEvent(), eventTime: '2026-02-30T10:00:00+01:00', 'bad/name': 1 },
          { ...singleEvent(), epcList: ['not a uri'], readPoint: { 'example:door': 'B' } },
        ].map((event) => JSON.parse(JSON.stringify(event)) as unknown),
      },
    };
    expect(checkEpcisJson(document)).toEqual({
      ok: false,
      errors: [
        { pointer: '/epcisBody/eventList/1/eventTime', detail: expect.stringMatching(/^must be a date-time with an offset/) },
        { pointer: '/epcisBody/eventList/1/bad~1name', detail: expect.stringMatching(/^is not a member of this object/) },
        { pointer: '/epcisBody/eventList/2/epcList/0', detail: expect.stringMatching(/^must be a URI/) },
        { pointer: '/epcisBody/eventList/2/readPoint/id', detail: 'is required' },
      ],
    });
  });

  it('names a missing member where it belongs', () => {
    const withoutTime: Record<string, unknown> = singleEvent();
    delete withoutTime.eventTime;
    expect(checkEpcisJson(withoutTime)).toEqual({ ok: false, errors: [{ pointer: '/eventTime', detail: 'is required' }] });
  });

  it('takes only documents and events at the root', () => {
    expect(checkEpcisJson([])).toEqual({ ok: false, errors: [{ pointer: '', detail: expect.any(String) }] });
    expect(checkEpcisJson({ type: 'Invoice' })).toEqual({
      ok: false,
      errors: [{ pointer: '/type', detail: expect.stringMatching(/^must be one of "EPCISDocument"/) }],
    });
  });
});

describe('EPCIS string formats', () => {
  it.each([
    'urn:epc:id:sgtin:0614141.107346.2017',
    'urn:epc:class:lgtin:4012345.012345.998877',
    'https://id.gs1.org/01/09506000134352/21/A%2FB',
    'ni:///sha-256;df7bb3c352fef055578554f09f5e2aa41782150ced7bd0b8af24dd3ccb30ba69?ver=CBV2.0',
    'example:myField',
    'cbvmda:bestBeforeDate',
    '_:document1',
    'geo:47.506694,11.104301',
  ])('takes %s as a URI', (value) => {
    expect(isEpcisUri(value)).toBe(true);
  });

  it.each(['', 'not a uri', 'myField', '1abc:x', 'https://x.org/a#b#c', 'urn:x:%zz', '_:', 'urn:', 'a:<b>'])(
    'refuses %j as a URI',
    (value) => {
      expect(isEpcisUri(value)).toBe(false);
    },
  );

  it.each([
    '2005-07-11T11:30:47.0Z',
    '2022-02-16T20:33:31.116000-06:00',
    '2024-02-29T23:59:59+14:00',
    '0001-01-01T00:00:00-01:00',
    '2026-03-01T10:00:00.123456789Z',
  ])('takes %s as a date-time', (value) => {
    expect(isEpcisDateTime(value)).toBe(true);
  });

  it.each([
    '2026-02-29T10:00:00Z',
    '2026-03-01T10:00:00',
    '2026-03-01 10:00:00Z',
    '2026-03-01T24:00:00Z',
    '2026-13-01T10:00:00Z',
    // Offsets beyond ±14:00 and year 0, which PostgreSQL would refuse in the read models.
    '2026-03-01T10:00:00+14:30',
    '2026-03-01T10:00:00-23:00',
    '0000-03-01T10:00:00Z',
    // Year 1 at a positive offset is still 1 BC in UTC; more than nanoseconds is more than the ledger keeps.
    '0001-01-01T00:30:00+01:00',
    '2026-03-01T10:00:00.1234567891Z',
  ])('refuses %s as a date-time', (value) => {
    expect(isEpcisDateTime(value)).toBe(false);
  });
});

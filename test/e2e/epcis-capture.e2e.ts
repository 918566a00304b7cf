import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { stepsOfEvent } from '../../src/epcis/capture-mapping.js';
import { eventsOf } from '../../src/epcis/epcis-capture.js';
import { checkEpcisJson } from '../../src/epcis/epcis-schema.js';
import { epcisEventHashIds } from '../../src/epcis/event-hash.js';
import { isShipmentId } from '../../src/gs1/digital-link.js';
import type { JsonValue } from '../../src/ledger/canonical-json.js';
import type { EvidenceBundle } from '../../src/verification/evidence-bundle.js';
import { type CustodyApp, gln, startCustodyApp } from '../support/custody-api.js';

/**
 * EPCIS 2.0 capture of GS1's own example documents (test/fixtures/epcis, see SOURCE.md there):
 * every schema-valid one captures on a fresh ledger, with the commissioning its custody steps
 * need captured first; its events query back as captured and stand in the attestations of the
 * products they name; a repeat is refused at the event's pointer, and so is a schema-invalid
 * document. Two ledgers: the Digital Link versions of two examples repeat the event ids of
 * their URN versions (with other GTINs), so they go to a ledger of their own.
 */
const PARTY = gln(91);
const examples = new URL('../fixtures/epcis/', import.meta.url);
const readExample = (name: string): { [key: string]: JsonValue } =>
  JSON.parse(readFileSync(new URL(name, examples), 'utf8')) as { [key: string]: JsonValue };
const NAMES = readdirSync(examples).filter((name) => name.endsWith('.jsonld'));
const VALID = NAMES.filter((name) => checkEpcisJson(readExample(name)).ok);
const INVALID = NAMES.filter((name) => !VALID.includes(name));
const DIGITAL_LINK_TWINS = VALID.filter((name) => name.startsWith('WithDigitalLinkID__'));

const CONTEXT = ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'];
const SITE = 'urn:epc:id:sgln:4012345.00001.0';

/** A commissioning document: items and SSCCs by EPC, lots with what they hold. */
function commissioning(epcs: readonly string[], lots: readonly { epcClass: string; quantity?: number; uom?: string }[] = []) {
  return {
    '@context': CONTEXT,
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2019-01-01T00:00:00Z',
    epcisBody: {
      eventList: [
        {
          type: 'ObjectEvent',
          eventTime: '2010-01-01T00:00:00Z',
          eventTimeZoneOffset: '+00:00',
          epcList: [...epcs],
          ...(lots.length > 0 ? { quantityList: lots.map((lot) => ({ ...lot })) } : {}),
          action: 'ADD',
          bizStep: 'commissioning',
          disposition: 'active',
          readPoint: { id: SITE },
        },
      ],
    },
  };
}

/** What the examples' custody steps need in the ledger before them (the rules of docs/epcis.md). */
const PREREQUISITES: Record<string, ReturnType<typeof commissioning>[]> = {
  'WithSensorData__SensorDataExample1.jsonld': [commissioning(['urn:epc:id:sgtin:4012345.011111.9876'])],
  'WithSensorData__SensorDataExample4.jsonld': [
    commissioning([], [{ epcClass: 'urn:epc:class:lgtin:4023333.002000.2019-10-07', quantity: 1000, uom: 'KGM' }]),
  ],
  'WithSensorData__SensorDataExample8.jsonld': [
    commissioning(
      ['urn:epc:id:sscc:4012345.0111111111'],
      [{ epcClass: 'urn:epc:class:lgtin:4012345.011111.1234', quantity: 52, uom: 'KGM' }],
    ),
  ],
  'Example_9.6.4-TransformationEvent.jsonld': [
    commissioning(
      ['urn:epc:id:sgtin:4012345.011122.25', 'urn:epc:id:sgtin:4000001.065432.99886655'],
      [
        { epcClass: 'urn:epc:class:lgtin:4012345.011111.4444', quantity: 100, uom: 'KGM' },
        { epcClass: 'urn:epc:class:lgtin:0614141.077777.987', quantity: 30 },
      ],
    ),
  ],
  'WithErrorDeclaration__ErrorDeclarationAndCorrectiveEvent.jsonld': [
    commissioning(
      ['urn:epc:id:sgtin:4012345.011111.987'],
      [{ epcClass: 'urn:epc:class:lgtin:4012345.022222.87545GHGH', quantity: 500, uom: 'KGM' }],
    ),
  ],
};

interface CaptureJobBody {
  captureID: string;
  running: boolean;
  success: boolean;
  eventCount: number;
  errors: { pointer: string; detail: string }[];
  events: { eventID: string; hashId: string; recordedAs: string; records: { eventId: string; subject: string }[] }[];
}

/** GET /events/{eventID} once the projector has the event (queries read PostgreSQL), at most 10 s later. */
async function projected(app: CustodyApp, eventID: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const response = await app.client.request<{ [key: string]: JsonValue }>('GET', `/events/${encodeURIComponent(eventID)}`, {
      key: app.keys.reader,
    });
    if (response.status !== 404 || Date.now() > deadline) return response;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('EPCIS 2.0 capture of GS1 example documents', () => {
  let first: CustodyApp;
  let second: CustodyApp;
  const firstApp = () => first;

  const capture = (app: CustodyApp, document: unknown, contentType = 'application/ld+json') =>
    app.client.request<CaptureJobBody & { status?: number; type?: string }>('POST', '/capture', {
      key: app.keys.capturer,
      body: document,
      contentType,
    });

  const captured = async (app: CustodyApp, document: unknown): Promise<CaptureJobBody> => {
    const response = await capture(app, document);
    expect(response.status === 202 ? 202 : response.body).toBe(202);
    expect(response.headers.get('location')).toBe(`/capture/${response.body.captureID}`);
    expect(response.body).toMatchObject({ running: false, success: true, errors: [] });
    return response.body;
  };

  beforeAll(async () => {
    const keys = [
      { name: 'capturer', role: 'operator' as const, party: PARTY },
      { name: 'other', role: 'operator' as const, party: gln(92) },
      { name: 'reader', role: 'auditor' as const },
    ];
    [first, second] = await Promise.all([startCustodyApp(keys), startCustodyApp(keys)]);
  });

  afterAll(async () => {
    await Promise.all([first.close(), second.close()]);
  });

  it('holds 17 schema-valid examples and 5 the schema refuses as published', () => {
    expect(VALID.length).toBe(17);
    expect(INVALID.length).toBe(5);
    expect(DIGITAL_LINK_TWINS.length).toBe(2);
  });

  it.each(VALID.filter((name) => !DIGITAL_LINK_TWINS.includes(name)))(
    'captures %s, queries it back as captured, and puts its events in the attestations of its products',
    async (name) => {
      for (const document of PREREQUISITES[name] ?? []) await captured(first, document);
      const document = readExample(name);
      const job = await captured(first, document);
      const events = eventsOf(document);
      const hashIds = epcisEventHashIds(document);
      expect(job.eventCount).toBe(events.length);
      expect(job.events.map((e) => e.hashId)).toEqual(hashIds);

      // The job answers the same on GET.
      const again = await first.client.request<CaptureJobBody>('GET', `/capture/${job.captureID}`, { key: first.keys.capturer });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(job);

      for (const [i, { event }] of events.entries()) {
        const result = job.events[i]!;
        const eventID = typeof event.eventID === 'string' ? event.eventID : hashIds[i]!;
        expect(result.eventID).toBe(eventID);

        // Queried back: the event as captured, with the repository's recordTime and its eventID.
        const queried = await projected(first, eventID);
        // (Normalised: the capturing document's @context goes with the event, for its prefixed names.)
        const { recordTime, ...rest } = queried.body;
        const sent = Object.fromEntries(Object.entries(event).filter(([name]) => name !== 'recordTime'));
        expect(typeof recordTime).toBe('string');
        expect(rest).toEqual({ '@context': document['@context'], ...sent, eventID });

        // In the attestation (with its evidence) of every product it names.
        const products = [...new Set(result.records.flatMap((r) => stepsOfEventSubjects(event, hashIds[i]!, r.subject)))];
        const recordIds = new Set(result.records.map((r) => r.eventId));
        for (const product of products) {
          const attestation = await first.client.request<EvidenceBundle>('GET', `/products${product}/attestation?evidence=true`, {
            key: first.keys.reader,
          });
          expect(attestation.status === 200 ? 200 : attestation.body).toBe(200);
          expect(attestation.body.attestation.attestation.verdict).toBe('verified');
          const inBundle = attestation.body.records.map((r) => (JSON.parse(r.record) as { eventId: string }).eventId);
          expect(inBundle.filter((id) => recordIds.has(id)).length).toBeGreaterThan(0);
        }
      }
    },
  );

  it.each(DIGITAL_LINK_TWINS)('captures %s on a fresh ledger, and refuses it again at each event', async (name) => {
    const document = readExample(name);
    const job = await captured(second, document);
    expect(job.events.map((e) => e.hashId)).toEqual(epcisEventHashIds(document));
    const repeat = await capture(second, document, 'application/json');
    expect(repeat.status).toBe(409);
    expect(repeat.body.type).toBe('/problems/epcis-event-captured');
    expect(repeat.body.errors.map((e) => e.pointer)).toEqual(eventsOf(document).map((e) => e.pointer));
  });

  it.each(INVALID)('refuses %s, which fails the schema, with a 400 naming the place, and records nothing', async (name) => {
    const response = await capture(first, readExample(name));
    expect(response.status).toBe(400);
    expect(response.contentType).toContain('application/problem+json');
    const check = checkEpcisJson(readExample(name));
    expect(response.body.errors.map((e) => e.pointer)).toEqual(check.ok ? [] : check.errors.map((e) => e.pointer));
  });

  it('refuses a repeat of a captured event at its pointer, while an error declaration of it is recorded', async () => {
    const document = commissioning(['urn:epc:id:sgtin:4012345.011111.R1']);
    const job = await captured(first, document);
    const event = document.epcisBody.eventList[0]!;
    // The same event with its EPC as a Digital Link: the same Event Hash ID, so a repeat too.
    const asDigitalLink = { ...event, epcList: ['https://example.com/01/04012345111118/21/R1'] };
    const repeated = {
      ...document,
      epcisBody: { eventList: [{ ...event, epcList: ['urn:epc:id:sgtin:4012345.011111.R2'] }, asDigitalLink] },
    };
    const refused = await capture(first, repeated);
    expect(refused.status).toBe(409);
    expect(refused.body.errors).toEqual([
      { pointer: '/epcisBody/eventList/1', detail: 'this event (its Event Hash ID) is captured already' },
    ]);
    // Nothing of that document was recorded: R2 is not in the ledger.
    const r2 = await first.client.request('GET', '/products/01/04012345111118/21/R2/attestation', { key: first.keys.reader });
    expect(r2.status).toBe(404);

    const declared = {
      ...document,
      epcisBody: {
        eventList: [{ ...event, errorDeclaration: { declarationTime: '2020-01-01T00:00:00Z', reason: 'incorrect_data' } }],
      },
    };
    const declaration = await captured(first, declared);
    expect(declaration.events[0]).toMatchObject({ hashId: job.events[0]!.hashId, recordedAs: 'observation' });
  });

  it('refuses a custody step the rules refuse, naming the event and the rule, and records none of the document', async () => {
    const document = {
      ...commissioning(['urn:epc:id:sgtin:4012345.011111.S1']),
    };
    const unknown = {
      ...document.epcisBody.eventList[0]!,
      action: 'OBSERVE',
      bizStep: 'inspecting',
      disposition: 'conformant',
      epcList: ['urn:epc:id:sgtin:4012345.011111.NEVER'],
    };
    const response = await capture(first, { ...document, epcisBody: { eventList: [document.epcisBody.eventList[0]!, unknown] } });
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ type: '/problems/rule-violated', rule: 'unknown-entity' });
    expect(response.body.errors).toEqual([{ pointer: '/epcisBody/eventList/1', detail: expect.stringContaining('NEVER') }]);
    const job = await first.client.request<CaptureJobBody>(
      'GET',
      `/capture/${(response.body as unknown as { captureID: string }).captureID}`,
      {
        key: first.keys.capturer,
      },
    );
    expect(job.body).toMatchObject({ running: false, success: false, errors: response.body.errors });
    const s1 = await first.client.request('GET', '/products/01/04012345111118/21/S1/attestation', { key: first.keys.reader });
    expect(s1.status).toBe(404);
  });

  it('refuses an eventID another event holds, text PostgreSQL cannot keep, and an observation of what another party holds', async () => {
    const first = commissioning(['urn:epc:id:sgtin:4012345.011111.E1']);
    const own = { ...first.epcisBody.eventList[0]!, eventID: 'urn:uuid:6f1d1c2a-0b7e-4a8c-9d1e-2f3a4b5c6d7e' };
    await captured(firstApp(), { ...first, epcisBody: { eventList: [own] } });
    expect((await projected(firstApp(), own.eventID)).status).toBe(200);
    // Another event (another item) under the same eventID: refused at its eventID.
    const other = { ...own, epcList: ['urn:epc:id:sgtin:4012345.011111.E2'] };
    const taken = await capture(firstApp(), { ...first, epcisBody: { eventList: [other] } });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({
      type: '/problems/epcis-event-id-taken',
      errors: [{ pointer: '/epcisBody/eventList/0/eventID', detail: expect.stringContaining(own.eventID) }],
    });
    // Its error declaration carries the same eventID, and is recorded.
    const declared = { ...own, errorDeclaration: { declarationTime: '2020-01-01T00:00:00Z', reason: 'incorrect_data' } };
    await captured(firstApp(), { ...first, epcisBody: { eventList: [declared] } });

    const raw = (event: Record<string, unknown>) =>
      firstApp().client.request<{ errors: { pointer: string }[] }>('POST', '/capture', {
        key: firstApp().keys.capturer,
        rawBody: JSON.stringify({ ...first, epcisBody: { eventList: [event] } }),
        contentType: 'application/ld+json',
      });
    const nul = await raw({ ...first.epcisBody.eventList[0]!, 'example:note': 'a\u0000b' });
    expect(nul.status).toBe(400);
    expect(nul.body.errors).toEqual([
      { pointer: '/epcisBody/eventList/0/example:note', detail: expect.stringContaining('U+0000') },
    ]);
    const long = await raw({ ...first.epcisBody.eventList[0]!, eventID: `urn:example:${'x'.repeat(2000)}` });
    expect(long.status).toBe(400);
    expect(long.body.errors).toEqual([
      { pointer: '/epcisBody/eventList/0/eventID', detail: expect.stringContaining('at most 1000') },
    ]);

    // E1 is the capturer's; the other party's key may not put observations on its chain.
    const theirs = await firstApp().client.request<{ rule: string }>('POST', '/capture', {
      key: firstApp().keys.other,
      body: { ...first, epcisBody: { eventList: [{ ...own, eventID: undefined, action: 'OBSERVE', bizStep: 'storing' }] } },
    });
    expect(theirs.status).toBe(409);
    expect(theirs.body.rule).toBe('not-holder');
  });

  it('takes capture from operator keys only, and shows a job to its own party only', async () => {
    const document = commissioning(['urn:epc:id:sgtin:4012345.011111.K1']);
    const byReader = await first.client.request('POST', '/capture', { key: first.keys.reader, body: document });
    expect(byReader.status).toBe(403);
    const job = await captured(first, document);
    const asReader = await first.client.request('GET', `/capture/${job.captureID}`, { key: first.keys.reader });
    expect(asReader.status).toBe(403);
    const notAnId = await first.client.request('GET', '/capture/nope', { key: first.keys.capturer });
    expect(notAnId.status).toBe(400);
  });
});

/** The products (not shipments) a record of the event names: its subject, or the subjects of an observation. */
function stepsOfEventSubjects(event: { [key: string]: JsonValue }, hashId: string, subject: string): string[] {
  const { steps } = stepsOfEvent({ event, pointer: '', hashId }, PARTY, undefined);
  const named = steps.flatMap((step) => {
    const command = step.command;
    switch (command.type) {
      case 'observe':
        return command.entities;
      case 'pack':
      case 'unpack':
        return command.products;
      case 'transform':
        return [...command.inputs, ...command.outputs];
      default:
        return [subject];
    }
  });
  return named.filter((id) => id.startsWith('/01/') && !isShipmentId(id));
}

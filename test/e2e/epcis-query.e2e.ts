import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EPCIS_CONTEXT } from '../../src/epcis/custody-rendering.js';
import { checkEpcisJson } from '../../src/epcis/epcis-schema.js';
import { epcUrn } from '../../src/gs1/epc-urn.js';
import {
  type CustodyApp,
  gln,
  gtin,
  type RecordedStep,
  sgtin,
  shipmentId,
  sscc,
  startCustodyApp,
} from '../support/custody-api.js';

const MAKER = gln(1);
const MAKER_SITE = gln(2);
const DC = gln(4, '409876');
const DC_SITE = gln(5, '409876');
const ITEM_GTIN = gtin(134352);
const BAG_GTIN = gtin(134369);
const PALLET = sscc(7654321);
const DL = 'https://id.gs1.org';

interface QueryDocument {
  type: string;
  schemaVersion: string;
  epcisBody: { queryResults: { queryName: string; resultsBody: { eventList: Record<string, unknown>[] } } };
}

describe('the EPCIS query of a chain recorded through the REST routes', () => {
  let app: CustodyApp;
  const steps: RecordedStep[] = [];
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 8, minute)).toISOString();
  const items = [1, 2, 3].map((n) => sgtin(ITEM_GTIN, `SN-${n}`));
  const lot = `/01/${ITEM_GTIN}/10/LOT-1`;
  const bag = sgtin(BAG_GTIN, 'BAG-1');

  /** GET /events as the DC reads it, each answer held to GS1's schema. */
  const query = async (parameters: string) => {
    const response = await app.client.request<QueryDocument>('GET', `/events${parameters}`, { key: app.keys.dc! });
    if (response.status === 200) expect(checkEpcisJson(response.body)).toEqual({ ok: true });
    return response;
  };
  const eventsOf = async (parameters: string) => (await query(parameters)).body.epcisBody.queryResults.resultsBody.eventList;

  beforeAll(async () => {
    app = await startCustodyApp([
      { name: 'maker', role: 'operator', party: MAKER },
      { name: 'dc', role: 'operator', party: DC },
    ]);
    const { client, keys } = app;
    const record = async (path: string, key: string, body: Record<string, unknown>) => {
      const response = await client.post(path, key, body);
      expect(response.status === 201 ? 201 : response.body).toBe(201);
      steps.push(response.body);
      return response.body;
    };
    const maker = { owner: MAKER, location: MAKER_SITE };
    for (const i of items.keys()) {
      await record('/products', keys.maker!, {
        gtin: ITEM_GTIN,
        serial: `SN-${i + 1}`,
        name: 'Vaccine',
        ...maker,
        occurredAt: at(i),
      });
    }
    await record('/products', keys.maker!, {
      gtin: ITEM_GTIN,
      lot: 'LOT-1',
      name: 'Bulk vaccine',
      quantity: 50,
      uom: 'KGM',
      ...maker,
      occurredAt: at(3),
    });
    await record('/shipments', keys.maker!, {
      sscc: PALLET,
      owner: MAKER,
      origin: MAKER_SITE,
      destination: DC_SITE,
      consignee: DC,
      occurredAt: at(4),
    });
    const move = { shipment: shipmentId(PALLET), location: MAKER_SITE, party: MAKER };
    await record('/shipments/pack', keys.maker!, { ...move, products: items, occurredAt: at(5) });
    await record('/shipments/dispatch', keys.maker!, { ...move, occurredAt: at(6) });
    await record('/custody/handover', keys.maker!, {
      subject: shipmentId(PALLET),
      from: MAKER,
      to: DC,
      location: MAKER_SITE,
      occurredAt: at(7),
    });
    await record('/shipments/receive', keys.dc!, {
      shipment: shipmentId(PALLET),
      location: DC_SITE,
      party: DC,
      occurredAt: at(30),
    });
    await record('/custody/inspect', keys.dc!, {
      subject: shipmentId(PALLET),
      party: DC,
      location: DC_SITE,
      result: 'failed',
      occurredAt: at(31),
    });
    await record('/custody/transform', keys.maker!, {
      party: MAKER,
      location: MAKER_SITE,
      inputs: [{ product: lot, quantity: 20, uom: 'KGM' }],
      outputs: [{ product: bag }],
      occurredAt: at(32),
    });
    // Every step is projected once the last one answers.
    const last = steps.at(-1)!.eventId;
    for (let tries = 0; (await eventsOf(`?EQ_eventID=urn:uuid:${last}`)).length === 0; tries++) {
      if (tries > 200) throw new Error('the last step was not projected');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  afterAll(() => app.close());

  it('answers every step, in ledger order, as an EPCISQueryDocument of schema-valid events', async () => {
    const response = await query('');
    expect(response.status).toBe(200);
    expect(response.headers.get('gs1-epcis-version')).toBe('2.0.0');
    expect(response.body).toMatchObject({
      type: 'EPCISQueryDocument',
      schemaVersion: '2.0',
      '@context': [EPCIS_CONTEXT],
      epcisBody: { queryResults: { queryName: 'SimpleEventQuery' } },
    });
    const events = response.body.epcisBody.queryResults.resultsBody.eventList;
    expect(events.map((event) => event.eventID)).toEqual(steps.map((step) => `urn:uuid:${step.eventId}`));
    expect(events.map((event) => [event.type, event.bizStep])).toEqual([
      ['ObjectEvent', 'commissioning'],
      ['ObjectEvent', 'commissioning'],
      ['ObjectEvent', 'commissioning'],
      ['ObjectEvent', 'commissioning'],
      ['ObjectEvent', 'commissioning'],
      ['AggregationEvent', 'packing'],
      ['ObjectEvent', 'shipping'],
      ['ObjectEvent', 'accepting'],
      ['ObjectEvent', 'receiving'],
      ['ObjectEvent', 'inspecting'],
      ['TransformationEvent', undefined],
    ]);
    expect(response.headers.get('link')).toBeNull();
  });

  it('finds a product by its EPC URN and by its Digital Link on any domain alike, as an EPC or a child', async () => {
    const urn = epcUrn({ kind: 'sgtin', gtin: ITEM_GTIN, serial: 'SN-1' }, 7);
    const byUrn = await eventsOf(`?MATCH_epc=${encodeURIComponent(urn)}`);
    const byLink = await eventsOf(`?MATCH_epc=${encodeURIComponent(`https://example.com/shop${items[0]}`)}`);
    const history = ['commissioning', 'packing', 'shipping', 'accepting', 'receiving', 'inspecting'];
    expect(byUrn.map((event) => event.bizStep)).toEqual(history);
    expect(byLink).toEqual(byUrn);
    // The pallet is the packing's parent: an EPC of every other step of its own, any EPC of all.
    const pallet = encodeURIComponent(epcUrn({ kind: 'sscc', sscc: PALLET }, 7));
    expect((await eventsOf(`?MATCH_epc=${pallet}`)).map((event) => event.bizStep)).toEqual(
      history.filter((s) => s !== 'packing'),
    );
    expect((await eventsOf(`?MATCH_anyEPC=${pallet}`)).map((event) => event.bizStep)).toEqual(history);
  });

  it('filters by parent, input, output, class, vocabulary in either form, place, action, type and time', async () => {
    const parent = await eventsOf(`?MATCH_parentID=${encodeURIComponent(epcUrn({ kind: 'sscc', sscc: PALLET }, 7))}`);
    expect(parent).toEqual([expect.objectContaining({ type: 'AggregationEvent', childEPCs: items.map((item) => DL + item) })]);
    expect(await eventsOf(`?MATCH_inputEPC=${encodeURIComponent(DL + bag)}`)).toEqual([]);
    expect((await eventsOf(`?MATCH_outputEPC=${encodeURIComponent(DL + bag)}`)).map((e) => e.type)).toEqual([
      'TransformationEvent',
    ]);
    const classes = await eventsOf(
      `?MATCH_epcClass=${encodeURIComponent(epcUrn({ kind: 'lgtin', gtin: ITEM_GTIN, lot: 'LOT-1' }, 7))}`,
    );
    expect(classes.map((event) => event.type)).toEqual(['ObjectEvent', 'TransformationEvent']);
    expect(classes[1]).toMatchObject({ inputQuantityList: [{ epcClass: DL + lot, quantity: 20, uom: 'KGM' }] });
    const shipping = await eventsOf('?EQ_bizStep=https://ref.gs1.org/cbv/BizStep-shipping,receiving');
    expect(shipping.map((event) => event.bizStep)).toEqual(['shipping', 'receiving']);
    expect((await eventsOf('?EQ_disposition=non_conformant')).map((e) => e.bizStep)).toEqual(['inspecting']);
    const atDc = await eventsOf(`?EQ_bizLocation=${encodeURIComponent(epcUrn({ kind: 'location', gln: DC_SITE }, 6))}`);
    expect(atDc.map((event) => event.bizStep)).toEqual(['receiving', 'inspecting']);
    expect((await eventsOf('?EQ_action=ADD&eventType=ObjectEvent')).length).toBe(5);
    const later = await eventsOf(`?GE_eventTime=${encodeURIComponent(at(30))}&LT_eventTime=${encodeURIComponent(at(32))}`);
    expect(later.map((event) => event.bizStep)).toEqual(['receiving', 'inspecting']);
    expect(await eventsOf('?EXISTS_errorDeclaration')).toEqual([]);
  });

  it('pages in ledger order with an opaque token in a Link header, and answers one event by its id', async () => {
    const seen: unknown[] = [];
    let next: string | null = '/events?perPage=4&EQ_action=ADD,OBSERVE,DELETE';
    let pages = 0;
    while (next) {
      const response = await query(next.slice('/events'.length));
      expect(response.status).toBe(200);
      seen.push(...response.body.epcisBody.queryResults.resultsBody.eventList.map((event) => event.eventID));
      next = /^<([^>]+)>; rel="next"$/.exec(response.headers.get('link') ?? '')?.[1] ?? null;
      pages++;
    }
    // The transformation has no action: ten events, in pages of 4, 4 and 2.
    expect(pages).toBe(3);
    expect(seen).toEqual(steps.slice(0, 10).map((step) => `urn:uuid:${step.eventId}`));

    const id = `urn:uuid:${steps[6]!.eventId}`;
    const one = await app.client.request('GET', `/events/${encodeURIComponent(id)}`, {
      key: app.keys.dc!,
    });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      eventID: id,
      bizStep: 'shipping',
      epcList: [DL + shipmentId(PALLET), ...items.map((item) => DL + item)],
    });
    const missing = await app.client.request(
      'GET',
      `/events/${encodeURIComponent('urn:uuid:00000000-0000-4000-8000-000000000000')}`,
      {
        key: app.keys.dc!,
      },
    );
    expect(missing.status).toBe(404);
    expect(missing.contentType).toMatch(/^application\/problem\+json/);
  });

  it('answers a 400 problem naming each wrong parameter, and a 401 without a key', async () => {
    const wrong = await app.client.request<{ errors: { pointer: string }[] }>(
      'GET',
      '/events?EQ_action=MOVE&perPage=0&MATCH_epc=https://id.gs1.org/00/106141411234567890&GE_eventTime=yesterday&color=red',
      { key: app.keys.dc! },
    );
    expect(wrong.status).toBe(400);
    expect(wrong.contentType).toMatch(/^application\/problem\+json/);
    expect(wrong.body.errors.map((error) => error.pointer)).toEqual(['/color']);
    const values = await app.client.request<{ errors: { pointer: string }[] }>(
      'GET',
      '/events?EQ_action=MOVE&perPage=0&MATCH_epc=https://id.gs1.org/00/106141411234567890&GE_eventTime=yesterday',
      { key: app.keys.dc! },
    );
    expect(values.body.errors.map((error) => error.pointer).sort()).toEqual([
      '/EQ_action',
      '/GE_eventTime',
      '/MATCH_epc',
      '/perPage',
    ]);
    expect((await app.client.request('GET', '/events')).status).toBe(401);
  });
});

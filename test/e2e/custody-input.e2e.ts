import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Kafka } from 'kafkajs';
import { type CustodyApp, type CustodyClient, gln, gtin, sgtin, startCustodyApp, topicEnd } from '../support/custody-api.js';

const MAKER = gln(21);
const SITE = gln(22);
const OTHER = gln(23, '405432');
const G = gtin(4242);
const past = '2026-11-01T08:00:00Z';
const commission = { gtin: G, serial: 'SN-1', name: 'Widget', owner: MAKER, location: SITE, occurredAt: past };
const handover = { subject: sgtin(G, 'SN-1'), from: MAKER, to: OTHER, location: SITE, occurredAt: past };
const BODY_LIMIT = 16_384;
const MAX_BATCH = 5;

interface BadInput {
  readonly route: string;
  readonly key?: 'maker' | 'auditor' | 'unknown' | 'none';
  readonly body?: unknown;
  readonly raw?: string;
  readonly contentType?: string;
  readonly idempotencyKey?: string;
  readonly status: number;
  /** The JSON pointer the problem names, where the fault is in one field. */
  readonly pointer?: string;
}

/** Each a request a client can send; each must be a 4xx problem+json, and nothing recorded. */
const BAD_INPUT: Record<string, BadInput> = {
  'a GTIN with a wrong check digit': {
    route: '/products',
    body: { ...commission, gtin: '09506000134353' },
    status: 400,
    pointer: '/gtin',
  },
  'a GLN with a wrong check digit': {
    route: '/products',
    body: { ...commission, location: '4012345000010' },
    status: 400,
    pointer: '/location',
  },
  'an SSCC with a wrong check digit': {
    route: '/shipments',
    body: { sscc: '106141411234567890', owner: MAKER, origin: SITE, destination: SITE, consignee: OTHER, occurredAt: past },
    status: 400,
    pointer: '/sscc',
  },
  'a product path with a wrong GTIN': {
    route: '/custody/handover',
    body: { ...handover, subject: '/01/09506000134353/21/SN-1' },
    status: 400,
    pointer: '/subject',
  },
  'a shipment where a product belongs': {
    route: '/products/decommission',
    body: { product: '/00/106141411234567897', party: MAKER, location: SITE, reason: 'destroyed', occurredAt: past },
    status: 400,
    pointer: '/product',
  },
  'a missing field': { route: '/products', body: { ...commission, location: undefined }, status: 400, pointer: '/location' },
  'a number for a string': { route: '/products', body: { ...commission, name: 42 }, status: 400, pointer: '/name' },
  'a string for a list': {
    route: '/shipments/pack',
    body: { shipment: '/00/106141411234567897', products: sgtin(G, 'SN-1'), party: MAKER, location: SITE, occurredAt: past },
    status: 400,
    pointer: '/products',
  },
  'an unknown field': { route: '/products', body: { ...commission, colour: 'red' }, status: 400, pointer: '/colour' },
  'a reason outside the list': {
    route: '/products/decommission',
    body: { product: sgtin(G, 'SN-1'), party: MAKER, location: SITE, reason: 'lost', occurredAt: past },
    status: 400,
    pointer: '/reason',
  },
  'a day that is not on the calendar': {
    route: '/custody/handover',
    body: { ...handover, occurredAt: '2026-02-30T10:00:00Z' },
    status: 400,
    pointer: '/occurredAt',
  },
  'a time without an offset': {
    route: '/custody/handover',
    body: { ...handover, occurredAt: '2026-11-20T10:00:00' },
    status: 400,
    pointer: '/occurredAt',
  },
  'a date with no time': {
    route: '/custody/handover',
    body: { ...handover, occurredAt: '2026-11-20' },
    status: 400,
    pointer: '/occurredAt',
  },
  'neither a serial nor a lot': {
    route: '/products',
    body: { ...commission, serial: undefined },
    status: 400,
    pointer: '/serial',
  },
  'a serial outside GS1 character set 82': {
    route: '/products',
    body: { ...commission, serial: 'SN 1 ü' },
    status: 400,
    pointer: '/serial',
  },
  'nested objects as attributes': {
    route: '/products',
    body: { ...commission, attributes: { a: { b: { c: 1 } } } },
    status: 400,
    pointer: '/attributes/a',
  },
  'an evidence URL that is not http': {
    route: '/custody/handover',
    body: { ...handover, evidence: { url: 'javascript:alert(1)' } },
    status: 400,
    pointer: '/evidence/url',
  },
  'a document hash that is not SHA-256 hex': {
    route: '/custody/handover',
    body: { ...handover, evidence: { documentHash: 'abc' } },
    status: 400,
    pointer: '/evidence/documentHash',
  },
  'an injection string as a serial': {
    route: '/products',
    body: { ...commission, serial: "'; DROP TABLE x;--" },
    status: 400,
    pointer: '/serial',
  },
  'a body that is a list': { route: '/products', body: [commission], status: 400 },
  'a body that is null': { route: '/products', raw: 'null', status: 400 },
  'malformed JSON': { route: '/products', raw: '{"gtin": "0950', status: 400 },
  'an empty body': { route: '/products', raw: '', status: 400 },
  'a body that is not JSON': { route: '/products', raw: 'gtin=1', contentType: 'application/x-www-form-urlencoded', status: 415 },
  'a JSON body sent as text/plain': {
    route: '/products',
    raw: JSON.stringify(commission),
    contentType: 'text/plain',
    status: 415,
  },
  'a JSON body declared as UTF-16': {
    route: '/products',
    raw: JSON.stringify(commission),
    contentType: 'application/json; charset=utf-16',
    status: 415,
  },
  'a body over the size limit': { route: '/products', body: { ...commission, name: 'x'.repeat(BODY_LIMIT) }, status: 413 },
  'a lone surrogate in a string': {
    route: '/products',
    raw: JSON.stringify(commission).replace('Widget', '\\ud800'),
    status: 422,
  },
  'another party as owner': { route: '/products', body: { ...commission, owner: OTHER }, status: 403, pointer: '/owner' },
  'another party handing over': { route: '/custody/handover', body: { ...handover, from: OTHER }, status: 403, pointer: '/from' },
  'no API key': { route: '/products', key: 'none', body: commission, status: 401 },
  'an unknown API key': { route: '/products', key: 'unknown', body: commission, status: 401 },
  'a read-only key': { route: '/products', key: 'auditor', body: commission, status: 403 },
  'a batch over the step limit': {
    route: '/custody/batch',
    body: { steps: Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({ type: 'commission', ...commission, serial: `B${i}` })) },
    status: 400,
    pointer: '/steps',
  },
  'a batch step with a wrong check digit': {
    route: '/custody/batch',
    body: {
      steps: [
        { type: 'commission', ...commission },
        { type: 'commission', ...commission, serial: 'SN-2', gtin: '09506000134353' },
      ],
    },
    status: 400,
    pointer: '/steps/1/gtin',
  },
  'a batch step of an unknown type': {
    route: '/custody/batch',
    body: { steps: [{ type: 'teleport', ...handover }] },
    status: 400,
    pointer: '/steps/0/type',
  },
  'a batch step for another party': {
    route: '/custody/batch',
    body: {
      steps: [
        { type: 'commission', ...commission },
        { type: 'handover', ...handover, from: OTHER },
      ],
    },
    status: 403,
    pointer: '/steps/1/from',
  },
  // PostgreSQL's text and jsonb hold no U+0000, nor times at offsets beyond ±15:59: such a record would stop the projector.
  'a name holding U+0000': { route: '/products', body: { ...commission, name: 'Vaccine\u0000' }, status: 400, pointer: '/name' },
  'an attribute name holding U+0000': {
    route: '/products',
    body: { ...commission, attributes: { 'lot\u0000': 'x' } },
    status: 400,
    pointer: '/attributes/lot\u0000',
  },
  'a time at an offset beyond ±14:00': {
    route: '/products',
    body: { ...commission, occurredAt: '2026-11-26T09:00:00+15:00' },
    status: 400,
    pointer: '/occurredAt',
  },
  'an Idempotency-Key that is too long': { route: '/products', body: commission, idempotencyKey: 'k'.repeat(256), status: 400 },
};

describe('bad input over HTTP', () => {
  let app: CustodyApp;
  let client: CustodyClient;
  let kafka: Kafka;
  let topic: string;
  let keys: Record<string, string>;

  beforeAll(async () => {
    app = await startCustodyApp(
      [
        { name: 'maker', role: 'operator', party: MAKER },
        { name: 'auditor', role: 'auditor' },
        { name: 'consumer', role: 'consumer' },
      ],
      { HTTP_BODY_LIMIT_BYTES: String(BODY_LIMIT), CUSTODY_MAX_BATCH_STEPS: String(MAX_BATCH) },
    );
    ({ client, kafka } = app);
    keys = { ...app.keys, unknown: 'cust_notAKeyAnyoneWasGiven' };
    topic = app.config.ledger.topic;
  });

  afterAll(() => app.close());

  it.each(Object.entries(BAD_INPUT))('answers %s with a 4xx problem and records nothing', async (_, input) => {
    const before = await topicEnd(kafka, topic);
    const keyName = input.key ?? 'maker';
    const response = await client.request('POST', input.route, {
      ...(keyName !== 'none' ? { key: keys[keyName] } : {}),
      ...(input.raw !== undefined ? { rawBody: input.raw } : { body: input.body }),
      ...(input.contentType ? { contentType: input.contentType } : {}),
      ...(input.idempotencyKey !== undefined ? { idempotencyKey: input.idempotencyKey } : {}),
    });
    expect(response.status === input.status ? input.status : response.body).toBe(input.status);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: input.status, title: expect.any(String), detail: expect.any(String) });
    if (input.pointer !== undefined) {
      const pointers = (response.body.errors as { pointer: string }[]).map((e) => e.pointer);
      expect(pointers).toContain(input.pointer);
    }
    expect(await topicEnd(kafka, topic)).toBe(before);
  });

  it('answers a body in another media type than JSON with a 415 at every route that takes a body', async () => {
    const { body: document } = await client.request<{ paths: Record<string, { post?: unknown }> }>('GET', '/docs-json');
    const bodyRoutes = Object.keys(document.paths).filter((path) => document.paths[path]!.post !== undefined);
    expect(bodyRoutes).toContain('/custody/batch');
    for (const route of bodyRoutes) {
      for (const contentType of ['text/plain', 'text/plain; charset=utf-8', 'application/xml']) {
        const response = await client.request('POST', route, {
          key: keys.maker,
          rawBody: JSON.stringify(commission),
          contentType,
        });
        expect({ route, contentType, status: response.status, type: response.contentType.split(';')[0] }).toEqual({
          route,
          contentType,
          status: 415,
          type: 'application/problem+json',
        });
        expect(response.body).toMatchObject({ status: 415, detail: expect.stringContaining('application/json') });
      }
    }
    // A JSON body with its charset named (UTF-8, the only one JSON has) is taken.
    const named = await client.request('POST', '/products', {
      key: keys.maker,
      rawBody: JSON.stringify({ ...commission, serial: 'CHARSET-1' }),
      contentType: 'application/json; charset=UTF-8',
    });
    expect(named.status === 201 ? 201 : named.body).toBe(201);
  });

  it('tells a caller without a key how to authenticate', async () => {
    const response = await client.request('GET', '/ledger/heads');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await client.request('GET', '/ledger/heads', { key: keys.consumer })).status).toBe(200);
    expect((await client.request('GET', '/ledger/heads', { key: keys.auditor })).status).toBe(200);
  });

  it('publishes an OpenAPI document of every step route, with examples, and a page to read it', async () => {
    const { status, body } = await client.request<{
      paths: Record<string, { post?: { requestBody?: { content: Record<string, { examples?: unknown }> } } }>;
    }>('GET', '/docs-json');
    expect(status).toBe(200);
    const routes = [
      '/products',
      '/products/decommission',
      '/shipments',
      '/shipments/pack',
      '/shipments/unpack',
      '/shipments/dispatch',
      '/shipments/receive',
      '/custody/handover',
      '/custody/inspect',
      '/custody/transform',
      '/custody/batch',
    ];
    for (const route of routes) {
      const content = body.paths[route]?.post?.requestBody?.content['application/json'];
      expect({ route, example: content?.examples !== undefined }).toEqual({ route, example: true });
    }
    const page = await client.request('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.contentType).toMatch(/^text\/html/);
    expect((await fetch(`${app.running.url}/docs/swagger-ui-bundle.js`)).status).toBe(200);
  });
});

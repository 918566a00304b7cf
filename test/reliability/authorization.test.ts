import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { type CustodyApp, gln, gtin, sgtin, shipmentId, sscc, startCustodyApp, topicEnd } from '../support/custody-api.js';

const P = gln(51);
const SITE = gln(52);
const OTHER = gln(53, '405432');
const G = gtin(5100);
const AT = '2026-11-01T08:00:00Z';
const SSCC = sscc(51001);
const HELD = sgtin(G, 'HELD-1');
const SHIPMENT = shipmentId(SSCC);

/**
 * Who may call what, as docs/api.md says it, written out here rather than read from the code's
 * own marks: every documented route must be in this table (a new route fails the test until
 * someone decides who may call it).
 *   public: no key; read: any key; operator: an operator key acting for its own party; audit: an auditor key.
 */
/**
 * operator: an operator key acting for the party its body or path names (another party's is a
 * 403); own-party: any operator key, acting as its own party (EPCIS capture: the capturer is the
 * key's party, and a capture job answers to that party only).
 */
const POLICY: Record<string, 'public' | 'read' | 'operator' | 'own-party' | 'audit'> = {
  'GET /health': 'public',
  'GET /health/ready': 'public',
  'GET /metrics': 'public',
  'GET /ledger/public-key': 'public',
  'GET /verification/keys': 'public',
  'GET /ledger/heads': 'read',
  'GET /products/01/{gtin}/21/{serial}': 'read',
  'GET /products/01/{gtin}/10/{lot}': 'read',
  'GET /products/01/{gtin}/21/{serial}/history': 'read',
  'GET /products/01/{gtin}/10/{lot}/history': 'read',
  'GET /products/01/{gtin}/21/{serial}/trace/backward': 'read',
  'GET /products/01/{gtin}/10/{lot}/trace/backward': 'read',
  'GET /products/01/{gtin}/10/{lot}/trace/forward': 'read',
  'GET /products/01/{gtin}/21/{serial}/attestation': 'read',
  'GET /products/01/{gtin}/10/{lot}/attestation': 'read',
  'GET /shipments/00/{sscc}': 'read',
  'GET /shipments/00/{sscc}/contents': 'read',
  'POST /products': 'operator',
  'POST /products/decommission': 'operator',
  'POST /shipments': 'operator',
  'POST /shipments/pack': 'operator',
  'POST /shipments/unpack': 'operator',
  'POST /shipments/dispatch': 'operator',
  'POST /shipments/receive': 'operator',
  'POST /custody/handover': 'operator',
  'POST /custody/inspect': 'operator',
  'POST /custody/transform': 'operator',
  'POST /custody/batch': 'operator',
  'GET /01/{gtin}/21/{serial}': 'public',
  'GET /01/{gtin}/10/{lot}': 'public',
  'GET /assets/{name}': 'public',
  'PUT /registry/parties/{gln}': 'operator',
  'PUT /registry/locations/{gln}': 'operator',
  'POST /audits': 'audit',
  'GET /audits/{id}': 'audit',
  'POST /capture': 'own-party',
  'GET /capture/{id}': 'own-party',
  'GET /events': 'read',
  'GET /events/{eventID}': 'read',
};

/**
 * A body for each step route that the operator of P could record (or that a rule would decide
 * on): acting for P, so any other key must be refused before anything is decided. The
 * pointer is the field that names the acting party.
 */
const STEP_BODIES: Record<string, { body: Record<string, unknown>; pointer: string }> = {
  '/products': {
    body: { gtin: G, serial: 'NEW-1', name: 'Widget', owner: P, location: SITE, occurredAt: AT },
    pointer: '/owner',
  },
  '/products/decommission': {
    body: { product: HELD, party: P, location: SITE, reason: 'destroyed', occurredAt: AT },
    pointer: '/party',
  },
  '/shipments': {
    body: { sscc: sscc(51002), owner: P, origin: SITE, destination: SITE, consignee: P, occurredAt: AT },
    pointer: '/owner',
  },
  '/shipments/pack': {
    body: { shipment: SHIPMENT, products: [HELD], party: P, location: SITE, occurredAt: AT },
    pointer: '/party',
  },
  '/shipments/unpack': {
    body: { shipment: SHIPMENT, products: [HELD], party: P, location: SITE, occurredAt: AT },
    pointer: '/party',
  },
  '/shipments/dispatch': { body: { shipment: SHIPMENT, party: P, location: SITE, occurredAt: AT }, pointer: '/party' },
  '/shipments/receive': { body: { shipment: SHIPMENT, party: P, location: SITE, occurredAt: AT }, pointer: '/party' },
  '/custody/handover': {
    body: { subject: HELD, from: P, to: OTHER, location: SITE, occurredAt: AT },
    pointer: '/from',
  },
  '/custody/inspect': {
    body: { subject: HELD, party: P, location: SITE, result: 'passed', occurredAt: AT },
    pointer: '/party',
  },
  '/custody/transform': {
    body: { party: P, location: SITE, inputs: [{ product: HELD }], outputs: [{ product: sgtin(G, 'MADE-1') }], occurredAt: AT },
    pointer: '/party',
  },
  '/custody/batch': {
    body: { steps: [{ type: 'commission', gtin: G, serial: 'NEW-2', name: 'Widget', owner: P, location: SITE, occurredAt: AT }] },
    pointer: '/steps/0/owner',
  },
};

/** The party registry's operator routes: each names the party it acts for in its path or body. */
const REGISTRY_BODIES: Record<string, { body: Record<string, unknown>; pointer: string }> = {
  '/registry/parties/{gln}': { body: { name: 'P', role: 'manufacturer', country: 'DE' }, pointer: '/gln' },
  '/registry/locations/{gln}': { body: { party: P, name: 'Site', country: 'DE', visibility: 'public' }, pointer: '/party' },
};

const concrete = (path: string) =>
  path
    .replace('{gtin}', G)
    .replace('{serial}', 'HELD-1')
    .replace('{lot}', 'LOT-1')
    .replace('{sscc}', SSCC)
    .replace('{gln}', P)
    .replace('{id}', randomUUID())
    .replace('{eventID}', encodeURIComponent(`urn:uuid:${randomUUID()}`));

type Caller = 'none' | 'unknown' | 'consumer' | 'auditor' | 'other-operator' | 'operator';

describe('authorization of every route', () => {
  let app: CustodyApp;
  let keys: Record<Caller, string | undefined>;
  let documented: string[];

  beforeAll(async () => {
    app = await startCustodyApp([
      { name: 'operator', role: 'operator', party: P },
      { name: 'other-operator', role: 'operator', party: OTHER },
      { name: 'consumer', role: 'consumer' },
      { name: 'auditor', role: 'auditor' },
    ]);
    keys = {
      none: undefined,
      unknown: 'cust_notAKeyAnyoneWasGiven',
      consumer: app.keys.consumer,
      auditor: app.keys.auditor,
      'other-operator': app.keys['other-operator'],
      operator: app.keys.operator,
    };
    const operator = app.keys.operator!;
    const setup: [string, unknown][] = [
      ['/products', { gtin: G, serial: 'HELD-1', name: 'Widget', owner: P, location: SITE, occurredAt: AT }],
      ['/shipments', { sscc: SSCC, owner: P, origin: SITE, destination: SITE, consignee: P, occurredAt: AT }],
    ];
    for (const [path, body] of setup) expect((await app.client.post(path, operator, body)).status).toBe(201);
    const { body } = await app.client.request<{ paths: Record<string, Record<string, unknown>> }>('GET', '/docs-json');
    documented = Object.entries(body.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
  });

  afterAll(() => app.close());

  const call = (route: string, caller: Caller) => {
    const [method, path] = route.split(' ') as [string, string];
    const step = method === 'PUT' ? REGISTRY_BODIES[path] : STEP_BODIES[path];
    return app.client.request(method, concrete(path), {
      ...(keys[caller] !== undefined ? { key: keys[caller] } : {}),
      ...(method === 'POST' || method === 'PUT' ? { body: step?.body ?? {} } : {}),
    });
  };

  it('has a policy for every documented route, and every operator route a body', () => {
    expect(documented.sort()).toEqual(Object.keys(POLICY).sort());
    const operatorRoutes = Object.entries(POLICY)
      .filter(([, access]) => access === 'operator')
      .map(([route]) => route);
    expect(operatorRoutes.sort()).toEqual(
      [
        ...Object.keys(STEP_BODIES).map((path) => `POST ${path}`),
        ...Object.keys(REGISTRY_BODIES).map((path) => `PUT ${path}`),
      ].sort(),
    );
  });

  it('denies every route where it must, with a problem, and appends nothing', async () => {
    const before = await topicEnd(app.kafka, app.config.ledger.topic);
    const verdicts: string[] = [];
    const expected: string[] = [];
    const callers: Caller[] = ['none', 'unknown', 'consumer', 'auditor', 'other-operator'];
    for (const [route, access] of Object.entries(POLICY)) {
      // POST /audits is allowed for the auditor and starts an audit: probed below on its own.
      for (const caller of callers.filter((c) => !(route === 'POST /audits' && c === 'auditor'))) {
        const response = await call(route, caller);
        const denied = response.status === 401 || response.status === 403;
        let verdict = denied ? String(response.status) : 'allowed';
        if (denied) {
          if (!response.contentType.startsWith('application/problem+json')) verdict += ' without a problem';
          if (response.status === 401 && !response.headers.get('www-authenticate')?.startsWith('Bearer')) {
            verdict += ' without WWW-Authenticate';
          }
        }
        if (response.status >= 500) verdict = `server error ${response.status}`;
        verdicts.push(`${route} by ${caller}: ${verdict}`);
        const mayCall =
          access === 'public' ||
          (caller !== 'none' && caller !== 'unknown' && access === 'read') ||
          (caller === 'auditor' && access === 'audit') ||
          (caller === 'other-operator' && access === 'own-party');
        const refusal = caller === 'none' || caller === 'unknown' ? '401' : '403';
        expected.push(`${route} by ${caller}: ${mayCall ? 'allowed' : refusal}`);
      }
    }
    expect(verdicts).toEqual(expected);
    expect(await topicEnd(app.kafka, app.config.ledger.topic)).toBe(before);
  });

  it('refuses an operator acting for another party, naming the party field, and appends nothing', async () => {
    const before = await topicEnd(app.kafka, app.config.ledger.topic);
    for (const [route, { pointer }] of [
      ...Object.entries(STEP_BODIES).map(([path, step]) => [`POST ${path}`, step] as const),
      ...Object.entries(REGISTRY_BODIES).map(([path, step]) => [`PUT ${path}`, step] as const),
    ]) {
      const response = await call(route, 'other-operator');
      const pointers = ((response.body.errors ?? []) as { pointer: string }[]).map((error) => error.pointer);
      expect({ route, status: response.status, pointers }).toEqual({ route, status: 403, pointers: [pointer] });
    }
    for (const route of ['POST /audits', 'GET /audits/{id}'])
      expect({ route, status: (await call(route, 'operator')).status }).toEqual({ route, status: 403 });
    expect(await topicEnd(app.kafka, app.config.ledger.topic)).toBe(before);
  });

  it('lets the keys that may do it do it: the operator records, the auditor starts an audit', async () => {
    expect((await call('POST /products', 'operator')).status).toBe(201);
    expect((await call('POST /audits', 'auditor')).status).toBe(202);
  });
});

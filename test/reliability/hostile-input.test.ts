import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { type CustodyApp, gln, gtin, sgtin, shipmentId, sscc, startCustodyApp, topicEnd } from '../support/custody-api.js';

const P = gln(61);
const SITE = gln(62);
const G = gtin(6100);
/** In the ledger before the fuzzing starts, as is the product KNOWN-1: creating either again is refused. */
const SHIPMENT = shipmentId(sscc(61001));
/** Never in the ledger: every step on them is refused. */
const UNKNOWN_PRODUCT = sgtin(G, 'UNKNOWN-1');
const UNKNOWN_SHIPMENT = shipmentId(sscc(61002));
const AT = '2026-11-01T08:00:00Z';
const BODY_LIMIT = 1_048_576;
const RUNS = Number(process.env.RELIABILITY_FUZZ_RUNS ?? '400');
/** An answer that takes longer than this is a hang. */
const ANSWER_WITHIN_MS = 10_000;

/**
 * A body for every step route that passes validation but is refused by a custody rule (the
 * product or shipment exists already, or is unknown; in a batch, every step is refused): a
 * mutation of it can only be refused too, so the fuzzer may send anything and nothing may be
 * appended.
 */
const TEMPLATES: Record<string, Record<string, unknown>> = {
  '/products': { gtin: G, serial: 'KNOWN-1', name: 'Widget', owner: P, location: SITE, occurredAt: AT },
  '/products/decommission': { product: UNKNOWN_PRODUCT, party: P, location: SITE, reason: 'destroyed', occurredAt: AT },
  '/shipments': { sscc: sscc(61001), owner: P, origin: SITE, destination: SITE, consignee: P, occurredAt: AT },
  '/shipments/pack': { shipment: SHIPMENT, products: [UNKNOWN_PRODUCT], party: P, location: SITE, occurredAt: AT },
  '/shipments/unpack': { shipment: SHIPMENT, products: [UNKNOWN_PRODUCT], party: P, location: SITE, occurredAt: AT },
  '/shipments/dispatch': { shipment: UNKNOWN_SHIPMENT, party: P, location: SITE, occurredAt: AT },
  '/shipments/receive': { shipment: UNKNOWN_SHIPMENT, party: P, location: SITE, occurredAt: AT },
  '/custody/handover': { subject: UNKNOWN_PRODUCT, from: P, to: gln(63), location: SITE, occurredAt: AT },
  '/custody/inspect': { subject: UNKNOWN_PRODUCT, party: P, location: SITE, result: 'passed', note: 'ok', occurredAt: AT },
  '/custody/transform': {
    party: P,
    location: SITE,
    inputs: [{ product: UNKNOWN_PRODUCT, quantity: 1, uom: 'KGM' }],
    outputs: [{ product: sgtin(G, 'OUT-1') }],
    occurredAt: AT,
  },
  '/custody/batch': {
    steps: [
      { type: 'commission', gtin: G, serial: 'KNOWN-1', name: 'Widget', owner: P, location: SITE, occurredAt: AT },
      { type: 'handover', subject: UNKNOWN_PRODUCT, from: P, to: gln(63), location: SITE, occurredAt: AT },
    ],
  },
};
/**
 * EPCIS capture: the commissioning of KNOWN-1 twice. As it is, a repeat within the document; one
 * mutation can change one of the two events at most, and the other still commissions what the
 * ledger holds: refused either way.
 */
const KNOWN_COMMISSIONING = {
  type: 'ObjectEvent',
  eventTime: AT,
  eventTimeZoneOffset: '+00:00',
  epcList: [`https://id.gs1.org/01/${G}/21/KNOWN-1`],
  action: 'ADD',
  bizStep: 'commissioning',
  disposition: 'active',
  readPoint: { id: `https://id.gs1.org/414/${SITE}` },
};
TEMPLATES['/capture'] = {
  '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: AT,
  epcisBody: { eventList: [KNOWN_COMMISSIONING, structuredClone(KNOWN_COMMISSIONING)] },
};
const ROUTES = Object.keys(TEMPLATES);

/** Strings a serial, GTIN, GLN or path can never be: each holds a space or a character outside GS1 character set 82. */
const INJECTIONS = [
  "' OR '1'='1",
  "'; DROP TABLE custody_events; --",
  '" OR ""="',
  '<script>alert(1)</script> ',
  '{{7*7}} ${7*7}',
  '../../../../etc/passwd ',
  '%00 %0d%0a Set-Cookie: x=1',
  '\u0000\u0001\u001f',
  '$(reboot) `id`',
  '{"$ne": null} ',
  '\ud800 lone surrogate',
  '\u202e right-to-left ',
  'null ',
  '__proto__ ',
  '\u00e9\u0301 \ufeff',
  '0x7fffffff ',
  '9'.repeat(400) + ' ',
];

const hostileString = fc.oneof(
  fc.constantFrom(...INJECTIONS),
  fc.string({ unit: 'binary', maxLength: 64 }).map((s) => `${s} `),
  fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'x '.repeat(n)),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(null, true, false, 0, -1, 1e308, -0, [], {}, [null], { $gt: '' }),
  fc.double(),
  fc.jsonValue({ maxDepth: 4 }).filter((value) => typeof value !== 'string'),
  // JSON.stringify recurses; deeper nesting is sent as text (deepNesting).
  fc.integer({ min: 100, max: 2_000 }).map((depth) => nested(depth)),
);

/** An array nested `depth` deep. */
function nested(depth: number): unknown {
  let value: unknown = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

interface Sent {
  readonly route: string;
  readonly body: string | Uint8Array;
  readonly contentType?: string;
  readonly idempotencyKey?: string;
  readonly what: string;
}

/** Replaces, removes or adds a field at some depth of a template. */
function mutate(template: unknown, path: readonly number[], value: unknown, kind: 'replace' | 'remove' | 'add'): unknown {
  const copy = structuredClone(template);
  let target = copy as Record<string, unknown>;
  for (const step of path) {
    const keys = Object.keys(target);
    const key = keys[step % keys.length]!;
    const next = target[key];
    if (typeof next !== 'object' || next === null) break;
    target = next as Record<string, unknown>;
  }
  const keys = Object.keys(target);
  const key = keys[(path.at(-1) ?? 0) % Math.max(1, keys.length)];
  if (Array.isArray(target)) {
    if (kind === 'add' || key === undefined) target.push(value);
    else target.splice(Number(key), 1, ...(kind === 'remove' ? [] : [value]));
  } else if (kind === 'add' || key === undefined) target['unexpected'] = value;
  else if (kind === 'remove') Reflect.deleteProperty(target, key);
  else target[key] = value;
  return copy;
}

const route = fc.constantFrom(...ROUTES);
const mutated: fc.Arbitrary<Sent> = fc
  .record({
    route,
    path: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    value: hostileValue,
    kind: fc.constantFrom('replace' as const, 'replace' as const, 'remove' as const, 'add' as const),
  })
  .map(({ route, path, value, kind }) => ({
    route,
    body: JSON.stringify(mutate(TEMPLATES[route], path, value, kind)),
    what: `${kind} at ${path.join('.')}`,
  }));
const randomJson: fc.Arbitrary<Sent> = fc
  .record({ route, value: fc.jsonValue() })
  .map(({ route, value }) => ({ route, body: JSON.stringify(value), what: 'random JSON' }));
const malformedJson: fc.Arbitrary<Sent> = fc
  .record({ route, cut: fc.nat(), junk: fc.string({ unit: 'binary', maxLength: 8 }) })
  .map(({ route, cut, junk }) => {
    const text = JSON.stringify(TEMPLATES[route]);
    const at = cut % text.length;
    return { route, body: text.slice(0, at) + junk + text.slice(at + 1, at + 1 + (cut % 3) * 10), what: 'malformed JSON' };
  });
const randomText: fc.Arbitrary<Sent> = fc
  .record({ route, text: fc.string({ unit: 'binary', maxLength: 200 }) })
  .map(({ route, text }) => ({ route, body: text, what: 'random text' }));
/** Bytes that are not UTF-8 (a lone continuation byte, an overlong form, an encoded surrogate, 0xFF) in a string of the body. */
const invalidUtf8: fc.Arbitrary<Sent> = fc
  .record({
    route,
    bytes: fc.constantFrom([0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff, 0xfe], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]),
    at: fc.nat(),
  })
  .map(({ route, bytes, at }) => {
    const text = Buffer.from(JSON.stringify(TEMPLATES[route]));
    // Into a string value: just after an opening quote.
    const quotes = [...text.keys()].filter((i) => text[i] === 0x22);
    const i = (quotes[at % quotes.length] ?? 0) + 1;
    return { route, body: Buffer.concat([text.subarray(0, i), Buffer.from(bytes), text.subarray(i)]), what: 'invalid UTF-8' };
  });
const deepNesting: fc.Arbitrary<Sent> = fc
  .record({ route, depth: fc.integer({ min: 1_000, max: 400_000 }), object: fc.boolean() })
  .map(({ route, depth, object }) => ({
    route,
    body: object ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth),
    what: `nesting ${depth} deep`,
  }));
const hugeBody: fc.Arbitrary<Sent> = fc
  .record({ route, size: fc.integer({ min: BODY_LIMIT - 1000, max: 3 * BODY_LIMIT }) })
  .map(({ route, size }) => ({
    route,
    body: JSON.stringify({ ...TEMPLATES[route], name: 'x'.repeat(size) }),
    what: `a body of ${size} bytes`,
  }));
const wrongContentType: fc.Arbitrary<Sent> = fc
  .record({
    route,
    contentType: fc.constantFrom(
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/json-patch+json',
      'application/json; charset=utf-16',
      'application/jsonx',
      'text/json',
      '*/*',
      '',
    ),
  })
  .map(({ route, contentType }) => ({ route, body: JSON.stringify(TEMPLATES[route]), contentType, what: 'content type' }));
const oddIdempotencyKey: fc.Arbitrary<Sent> = fc
  .record({
    route,
    key: fc.oneof(
      fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 300 }),
      fc.constant(''),
    ),
  })
  .map(({ route, key }) => ({ route, body: JSON.stringify(TEMPLATES[route]), idempotencyKey: key, what: 'Idempotency-Key' }));

const hostileRequest = fc.oneof(
  { arbitrary: mutated, weight: 6 },
  { arbitrary: randomJson, weight: 2 },
  { arbitrary: malformedJson, weight: 2 },
  { arbitrary: randomText, weight: 1 },
  { arbitrary: invalidUtf8, weight: 2 },
  { arbitrary: deepNesting, weight: 1 },
  { arbitrary: hugeBody, weight: 1 },
  { arbitrary: wrongContentType, weight: 1 },
  { arbitrary: oddIdempotencyKey, weight: 1 },
);

describe('hostile input at every step route and EPCIS capture (fast-check)', () => {
  let app: CustodyApp;
  let key: string;

  beforeAll(async () => {
    app = await startCustodyApp([{ name: 'fuzzer', role: 'operator', party: P }], { HTTP_BODY_LIMIT_BYTES: String(BODY_LIMIT) });
    key = app.keys.fuzzer!;
    const setup = [
      ['/products', TEMPLATES['/products']],
      ['/shipments', TEMPLATES['/shipments']],
    ] as const;
    for (const [path, body] of setup) expect((await app.client.post(path, key, body)).status).toBe(201);
  });

  afterAll(() => app.close());

  it('covers every step route of the OpenAPI document', async () => {
    const { body } = await app.client.request<{ paths: Record<string, { post?: unknown }> }>('GET', '/docs-json');
    const stepRoutes = Object.keys(body.paths).filter((path) => body.paths[path]!.post && path !== '/audits');
    expect(stepRoutes.sort()).toEqual([...ROUTES].sort());
  });

  it('refuses every template as it is with a 4xx: the fuzzer starts from requests that record nothing', async () => {
    const before = await topicEnd(app.kafka, app.config.ledger.topic);
    for (const path of ROUTES) {
      const response = await app.client.post(path, key, TEMPLATES[path]);
      expect({ path, status: response.status }).toEqual({ path, status: 409 });
    }
    expect(await topicEnd(app.kafka, app.config.ledger.topic)).toBe(before);
  });

  it(`answers ${RUNS} hostile requests with a 4xx problem, fast, appends nothing and stays healthy`, async () => {
    const before = await topicEnd(app.kafka, app.config.ledger.topic);
    const seen = new Map<number, number>();
    let slowest = 0;
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (sent) => {
        const t0 = performance.now();
        const response = await fetch(app.running.url + sent.route, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${key}`,
            ...(sent.contentType !== '' ? { 'content-type': sent.contentType ?? 'application/json' } : {}),
            ...(sent.idempotencyKey !== undefined ? { 'idempotency-key': sent.idempotencyKey } : {}),
          },
          body: sent.body,
          signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
        });
        const text = await response.text();
        slowest = Math.max(slowest, performance.now() - t0);
        seen.set(response.status, (seen.get(response.status) ?? 0) + 1);
        const problem = JSON.parse(text) as { status?: unknown; title?: unknown };
        const verdict = {
          status: response.status >= 400 && response.status < 500 ? '4xx' : response.status,
          contentType: response.headers.get('content-type')?.split(';')[0],
          problemStatus: problem.status === response.status,
        };
        expect({ what: sent.what, ...verdict }).toEqual({
          what: sent.what,
          status: '4xx',
          contentType: 'application/problem+json',
          problemStatus: true,
        });
      }),
      { numRuns: RUNS },
    );
    expect(await topicEnd(app.kafka, app.config.ledger.topic)).toBe(before);
    expect((await app.client.request('GET', '/health')).status).toBe(200);
    expect((await app.client.request('GET', '/health/ready')).status).toBe(200);
    // And it still records a valid step.
    const fine = await app.client.post('/products', key, { ...TEMPLATES['/products'], serial: 'AFTER-1' });
    expect(fine.status).toBe(201);
    process.stderr.write(
      `[reliability:hostile-input] ${JSON.stringify({ runs: RUNS, statuses: Object.fromEntries(seen), slowestMs: Math.round(slowest) })}\n`,
    );
  }, 300_000);
});

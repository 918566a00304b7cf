import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type CustodyApp,
  startCustodyApp,
  gln,
  gtin,
  readLedger,
  sgtin,
  shipmentId,
  sscc,
  topicEnd,
} from '../support/custody-api.js';

const MAKER = gln(11);
const SITE = gln(12);
const CARRIER = gln(13, '405432');
const DC = gln(14, '409876');
const G = gtin(777);
const product = (serial: string) => sgtin(G, serial);
const S1 = shipmentId(sscc(1));
const S2 = shipmentId(sscc(2));
const S3 = shipmentId(sscc(3));
const past = '2026-11-01T08:00:00Z';

describe('custody rules over HTTP', () => {
  let app: CustodyApp;
  const ok = async (path: string, key: string, body: unknown) => {
    const response = await app.client.post(path, key, body);
    expect(response.status === 201 ? 201 : response.body).toBe(201);
    return response.body;
  };

  beforeAll(async () => {
    app = await startCustodyApp([
      { name: 'maker', role: 'operator', party: MAKER },
      { name: 'carrier', role: 'operator', party: CARRIER },
      { name: 'dc', role: 'operator', party: DC },
    ]);
    // The world the rules are broken in, recorded through the API.
    const maker = app.keys.maker!;
    for (const serial of ['P1', 'P2', 'P3', 'P4', 'P5', 'RACE']) {
      await ok('/products', maker, { gtin: G, serial, name: 'Widget', owner: MAKER, location: SITE, occurredAt: past });
    }
    for (const n of [1, 2, 3]) {
      await ok('/shipments', maker, {
        sscc: sscc(n),
        owner: MAKER,
        origin: SITE,
        destination: gln(15, '409876'),
        consignee: DC,
        occurredAt: past,
      });
    }
    const move = { party: MAKER, location: SITE, occurredAt: past };
    await ok('/shipments/pack', maker, { shipment: S1, products: [product('P4')], ...move });
    await ok('/products/decommission', maker, { product: product('P3'), reason: 'destroyed', ...move });
    await ok('/shipments/pack', maker, { shipment: S3, products: [product('P5')], ...move });
    await ok('/shipments/dispatch', maker, { shipment: S3, ...move });
  });

  afterAll(() => app.close());

  const handover = (subject: string, from: string, occurredAt = past) => ({ subject, from, to: DC, location: SITE, occurredAt });
  const inFuture = () => new Date(Date.now() + 24 * 3600_000).toISOString();

  // Each rule of the issue broken once: [rule, route, key name, body].
  const cases: [string, string, string, () => unknown][] = [
    ['unknown-entity', '/custody/handover', 'maker', () => handover(product('NEVER-COMMISSIONED'), MAKER)],
    [
      'decommissioned',
      '/custody/inspect',
      'maker',
      () => ({ subject: product('P3'), party: MAKER, location: SITE, result: 'passed', occurredAt: past }),
    ],
    ['not-holder', '/custody/handover', 'carrier', () => handover(product('P1'), CARRIER)],
    [
      'receive-before-dispatch',
      '/shipments/receive',
      'dc',
      () => ({ shipment: S2, party: DC, location: gln(15, '409876'), occurredAt: past }),
    ],
    [
      'not-consignee',
      '/shipments/receive',
      'carrier',
      () => ({ shipment: S3, party: CARRIER, location: gln(15, '409876'), occurredAt: past }),
    ],
    [
      'packed-elsewhere',
      '/shipments/pack',
      'maker',
      () => ({ shipment: S2, products: [product('P4')], party: MAKER, location: SITE, occurredAt: past }),
    ],
    [
      'packed-elsewhere',
      '/shipments/pack',
      'maker',
      () => ({ shipment: S2, products: [product('P5')], party: MAKER, location: SITE, occurredAt: past }),
    ],
    [
      'shipment-in-transit',
      '/shipments/pack',
      'maker',
      () => ({ shipment: S3, products: [product('P2')], party: MAKER, location: SITE, occurredAt: past }),
    ],
    [
      'not-inside',
      '/shipments/unpack',
      'maker',
      () => ({ shipment: S1, products: [product('P1')], party: MAKER, location: SITE, occurredAt: past }),
    ],
    ['occurred-in-future', '/custody/handover', 'maker', () => handover(product('P1'), MAKER, inFuture())],
    [
      'already-exists',
      '/products',
      'maker',
      () => ({ gtin: G, serial: 'P1', name: 'Widget', owner: MAKER, location: SITE, occurredAt: past }),
    ],
    ['step-on-packed-product', '/custody/handover', 'maker', () => handover(product('P4'), MAKER)],
  ];

  it.each(cases)(
    'refuses a step that breaks %s with a 409 naming it, and leaves the ledger topic as it was',
    async (rule, path, keyName, body) => {
      const before = await topicEnd(app.kafka, app.config.ledger.topic);
      const response = await app.client.post<{ detail: string }>(path, app.keys[keyName]!, body());
      expect(response.status).toBe(409);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({ type: '/problems/rule-violated', status: 409, rule });
      expect(response.body.detail.length).toBeGreaterThan(10);
      expect(await topicEnd(app.kafka, app.config.ledger.topic)).toBe(before);
    },
  );

  it('lets exactly one of 20 concurrent handovers of a product by its holder through', async () => {
    const subject = product('RACE');
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        app.client.post('/custody/handover', app.keys.maker!, {
          subject,
          from: MAKER,
          to: gln(100 + i, '406543'),
          location: SITE,
          occurredAt: past,
        }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, ...Array<number>(19).fill(409)]);
    for (const refused of responses.filter((r) => r.status === 409)) expect(refused.body).toMatchObject({ rule: 'not-holder' });
    const records = await readLedger(app.kafka, app.config.ledger.topic, app.config.ledger.id, app.client);
    const handovers = records.filter((s) => s.record.eventType === 'custody.handover' && s.record.entities[0]?.id === subject);
    expect(handovers).toHaveLength(1);
    const winner = responses.find((r) => r.status === 201)!;
    expect(handovers[0]!.hash).toBe(winner.body.receipt.hash);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeRecord, encodeRecord } from '../../src/ledger/record-codec.js';
import { type CustodyApp, gln, gtin, startCustodyApp } from '../support/custody-api.js';
import { produceRaw, rawValues } from '../support/ledger-harness.js';

const MAKER = gln(41);
const SITE = gln(42);
const G = gtin(9191);
const commission = (serial: string) => ({
  gtin: G,
  serial,
  name: 'Widget',
  owner: MAKER,
  location: SITE,
  occurredAt: '2026-11-01T08:00:00Z',
});

describe('the projection seen from outside', () => {
  let app: CustodyApp;
  let maker: string;

  beforeAll(async () => {
    app = await startCustodyApp([{ name: 'maker', role: 'operator', party: MAKER }], { AUTH_ANONYMOUS_READS: 'true' });
    maker = app.keys.maker!;
  });

  afterAll(() => app.close());

  it('reports its lag in readiness and metrics, then quarantines a forged record: degraded, and the forgery visible nowhere', async () => {
    const first = await app.client.post('/products', maker, commission('A'));
    expect(first.status).toBe(201);
    const product = await app.client.request<{ product: { location: string } }>(
      'GET',
      `/products/01/${G}/21/A?waitFor=0:${first.body.receipt.sequence}`,
    );
    expect(product.body.product.location).toBe(SITE);
    const ready = await app.client.request<{ info: { projection: { partitions: { lag: number }[] } } }>('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.info.projection.partitions[0]).toMatchObject({ lag: 0 });
    expect((await app.client.request('GET', '/metrics')).body).toMatch(/custodian_projection_lag_records\{partition="0"\} 0/);

    // An outsider appends a copy of the commission with another location, at the sequence the
    // chain already holds: no checkpoint can ever cover it.
    const values = await rawValues(app.kafka, app.config.ledger.topic);
    const original = values
      .map((value) => decodeRecord(value).record)
      .find((record) => record.eventType === 'product.commissioned')!;
    const forged = encodeRecord({ ...original, payload: { ...original.payload, location: gln(99) } });
    await produceRaw(app.kafka, app.config.ledger.topic, [forged.bytes]);
    // The writer does not extend the chain past it: nothing more is acknowledged.
    const refused = await app.client.post('/products', maker, commission('B'));
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ type: '/problems/ledger-broken' });

    const deadline = Date.now() + 20_000;
    let health = await app.client.request<{
      error?: { projection?: { state: string; quarantined: { problem: { kind: string } }[] } };
    }>('GET', '/health/ready');
    // Readiness may turn 503 first for the writer, which found the forgery too: wait for the projection's part.
    while (health.body.error?.projection?.state !== 'degraded' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      health = await app.client.request('GET', '/health/ready');
    }
    expect(health.status).toBe(503);
    expect(health.body.error?.projection).toMatchObject({
      state: 'degraded',
      quarantined: [{ problem: { kind: 'injected' } }],
    });
    expect((await app.client.request('GET', '/metrics')).body).toMatch(/custodian_projection_quarantined\{partition="0"\} 1/);
    const after = await app.client.request<{ product: { location: string } }>('GET', `/products/01/${G}/21/A`);
    expect(after.body.product.location).toBe(SITE);
    const history = await app.client.request<{ steps: unknown[] }>('GET', `/products/01/${G}/21/A/history`);
    expect(history.body.steps).toHaveLength(1);
  });
});

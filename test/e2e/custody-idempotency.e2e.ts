import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Kafka } from 'kafkajs';
import type { CustodianConfig } from '../../src/infrastructure/config/config.js';
import {
  type CustodyApp,
  type CustodyClient,
  startCustodyApp,
  gln,
  gtin,
  readLedger,
  type RecordedStep,
  sgtin,
  shipmentId,
  sscc,
  topicEnd,
} from '../support/custody-api.js';

const MAKER = gln(31);
const SITE = gln(32);
const CARRIER = gln(33, '405432');
const G = gtin(5151);
const past = '2026-11-01T08:00:00Z';
const commission = (serial: string) => ({ gtin: G, serial, name: 'Widget', owner: MAKER, location: SITE, occurredAt: past });

describe('idempotent requests and batch capture over HTTP', () => {
  let app: CustodyApp;
  let config: CustodianConfig;
  let client: CustodyClient;
  let kafka: Kafka;
  let maker: string;

  const eventsWithId = async (eventId: string) =>
    (await readLedger(kafka, config.ledger.topic, config.ledger.id, client)).filter((s) => s.record.eventId === eventId);

  beforeAll(async () => {
    app = await startCustodyApp([{ name: 'maker', role: 'operator', party: MAKER }]);
    ({ config, client, kafka } = app);
    maker = app.keys.maker!;
  });

  afterAll(() => app.close());

  it('records a retried request once and answers every retry with the first receipt', async () => {
    const first = await client.post('/products', maker, commission('IDEM-1'), 'key-idem-1');
    expect(first.status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const retry = await client.post('/products', maker, commission('IDEM-1'), 'key-idem-1');
      expect({ status: retry.status, body: retry.body }).toEqual({ status: 201, body: first.body });
    }
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => client.post('/products', maker, commission('IDEM-1'), 'key-idem-1')),
    );
    for (const retry of concurrent) expect(retry.body).toEqual(first.body);
    expect(await eventsWithId(first.body.eventId)).toHaveLength(1);
  });

  it('records one of many concurrent first attempts; the others get its receipt or a retriable 409', async () => {
    const attempt = () => client.post('/products', maker, commission('IDEM-2'), 'key-idem-2');
    const responses = await Promise.all(Array.from({ length: 10 }, attempt));
    const created = responses.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const r of created) expect(r.body).toEqual(created[0]!.body);
    for (const r of responses.filter((r) => r.status !== 201)) {
      expect(r.body).toMatchObject({ status: 409, type: '/problems/idempotency-key-in-use' });
    }
    expect((await attempt()).body).toEqual(created[0]!.body);
    expect(await eventsWithId(created[0]!.body.eventId)).toHaveLength(1);
  });

  it('refuses the same key with a different body or route with a 422, recording nothing', async () => {
    expect((await client.post('/products', maker, commission('IDEM-3'), 'key-idem-3')).status).toBe(201);
    const before = await topicEnd(kafka, config.ledger.topic);
    const otherBody = await client.post('/products', maker, commission('IDEM-3-OTHER'), 'key-idem-3');
    expect(otherBody.status).toBe(422);
    expect(otherBody.body).toMatchObject({ type: '/problems/idempotency-key-reused' });
    const otherRoute = await client.post(
      '/custody/inspect',
      maker,
      { subject: sgtin(G, 'IDEM-3'), party: MAKER, location: SITE, result: 'passed', occurredAt: past },
      'key-idem-3',
    );
    expect(otherRoute.status).toBe(422);
    expect(await topicEnd(kafka, config.ledger.topic)).toBe(before);
  });

  it('answers a retry from the ledger even after the app restarted and the rule would now refuse it', async () => {
    await client.post('/products', maker, commission('IDEM-4'), 'key-idem-4a');
    const handover = { subject: sgtin(G, 'IDEM-4'), from: MAKER, to: CARRIER, location: SITE, occurredAt: past };
    const first = await client.post('/custody/handover', maker, handover, 'key-idem-4b');
    expect(first.status).toBe(201);
    // Without the key, the same handover is refused: the maker no longer holds the product.
    expect((await client.post('/custody/handover', maker, handover)).body).toMatchObject({ rule: 'not-holder' });

    await app.restart();
    client = app.client;
    const retry = await client.post('/custody/handover', maker, handover, 'key-idem-4b');
    expect({ status: retry.status, body: retry.body }).toEqual({ status: 201, body: first.body });
  });

  describe('batch capture', () => {
    const pallet = shipmentId(sscc(51));
    const steps = [
      { type: 'commission', ...commission('BATCH-1') },
      { type: 'commission', ...commission('BATCH-2') },
      {
        type: 'create-shipment',
        sscc: sscc(51),
        owner: MAKER,
        origin: SITE,
        destination: gln(34, '409876'),
        consignee: gln(35, '409876'),
        occurredAt: past,
      },
      {
        type: 'pack',
        shipment: pallet,
        products: [sgtin(G, 'BATCH-1'), sgtin(G, 'BATCH-2')],
        party: MAKER,
        location: SITE,
        occurredAt: past,
      },
      { type: 'dispatch', shipment: pallet, party: MAKER, location: SITE, occurredAt: past },
    ];

    it('records nothing of a batch when one step breaks a rule, and names that step', async () => {
      const before = await topicEnd(kafka, config.ledger.topic);
      const broken = [
        ...steps,
        { type: 'unpack', shipment: pallet, products: [sgtin(G, 'BATCH-1')], party: MAKER, location: SITE, occurredAt: past },
      ];
      const response = await client.post('/custody/batch', maker, { steps: broken });
      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({ rule: 'shipment-in-transit', detail: expect.stringMatching(/^steps 5:/) });
      expect(await topicEnd(kafka, config.ledger.topic)).toBe(before);
      // Nothing of it is there: the first product can still be commissioned on its own.
      expect((await client.post('/products', maker, commission('BATCH-1'))).status).toBe(201);
    });

    it('records a batch in order as consecutive records under one checkpoint, once per Idempotency-Key', async () => {
      const batch = steps.map((step) =>
        step.type === 'commission' && 'serial' in step ? { ...step, serial: `${step.serial}-B` } : step,
      );
      const fixed = batch.map((step) =>
        step.type === 'pack' ? { ...step, products: [sgtin(G, 'BATCH-1-B'), sgtin(G, 'BATCH-2-B')] } : step,
      );
      const response = await client.post<{ steps: RecordedStep[] }>('/custody/batch', maker, { steps: fixed }, 'key-batch-1');
      expect(response.status === 201 ? 201 : response.body).toBe(201);
      const recorded = response.body.steps;
      expect(recorded.map((s) => s.eventType)).toEqual([
        'product.commissioned',
        'product.commissioned',
        'shipment.created',
        'shipment.packed',
        'shipment.dispatched',
      ]);
      const sequences = recorded.map((s) => s.receipt.sequence);
      expect(sequences).toEqual(sequences.map((_, i) => sequences[0]! + i));
      expect(new Set(recorded.map((s) => s.receipt.checkpointSize))).toEqual(new Set([sequences[0]! + 5]));

      const retry = await client.post<{ steps: RecordedStep[] }>('/custody/batch', maker, { steps: fixed }, 'key-batch-1');
      expect(retry.body).toEqual(response.body);
      const records = await readLedger(kafka, config.ledger.topic, config.ledger.id, client);
      expect(records.filter((s) => recorded.some((r) => r.eventId === s.record.eventId))).toHaveLength(5);
    });
  });
});

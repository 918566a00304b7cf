import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import kafkajs from 'kafkajs';
import { type CustodyApp, gln, gtin, type RecordedStep, sgtin, startCustodyApp } from '../support/custody-api.js';

const { ConfigResourceTypes } = kafkajs;

const MAKER = gln(61);
const SITE = gln(62);
const G = gtin(6161);

// The documented limits, at their defaults, fit together: the largest batch of the smallest steps.
describe('the batch limits at their defaults', () => {
  let app: CustodyApp;

  beforeAll(async () => {
    app = await startCustodyApp([{ name: 'maker', role: 'operator', party: MAKER }]);
  });

  afterAll(() => app.close());

  it('records CUSTODY_MAX_BATCH_STEPS minimal commissionings with an Idempotency-Key in one batch', async () => {
    const { maxBatchSteps } = app.config.custody;
    expect(maxBatchSteps).toBe(1000);
    const steps = Array.from({ length: maxBatchSteps }, (_, i) => ({
      type: 'commission',
      gtin: G,
      serial: `SN-${String(i).padStart(6, '0')}`,
      name: 'Widget',
      owner: MAKER,
      location: SITE,
      occurredAt: '2026-11-01T08:00:00Z',
    }));
    const response = await app.client.post<{ steps: RecordedStep[] }>(
      '/custody/batch',
      app.keys.maker!,
      { steps },
      'max-batch-1',
    );
    expect(response.status === 201 ? 201 : response.body).toBe(201);
    expect(response.body.steps).toHaveLength(maxBatchSteps);
    const last = response.body.steps.at(-1)!.receipt;

    // Every reader takes the transaction: the projection, and the verifier of an attestation.
    const read = await app.client.request<{ steps: unknown[] }>(
      'GET',
      `/products${sgtin(G, steps.at(-1)!.serial)}/history?waitFor=${last.partition}:${last.sequence}`,
      { key: app.keys.maker! },
    );
    expect(read.status === 200 ? read.body.steps.length : read.body).toBe(1);
    const attestation = await app.client.request<{ attestation: { verdict: string } }>(
      'GET',
      `/products${sgtin(G, steps[0]!.serial)}/attestation`,
      { key: app.keys.maker! },
    );
    expect(attestation.status === 200 ? attestation.body.attestation.verdict : attestation.body).toBe('verified');
  }, 120_000);

  it('created the ledger topic to take a transaction of LEDGER_MAX_BATCH_BYTES', async () => {
    const admin = app.kafka.admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: app.config.ledger.topic, configNames: ['max.message.bytes'] }],
      });
      const maxMessageBytes = Number(described.resources[0]?.configEntries[0]?.configValue);
      expect(maxMessageBytes).toBeGreaterThanOrEqual(app.config.ledger.maxBatchBytes);
    } finally {
      await admin.disconnect();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import { type CustodyApp, gln, readLedger, startCustodyApp } from '../support/custody-api.js';
import { setDatabaseReachable } from '../support/environment.js';
import { projectionAndRebuild } from '../support/projection-harness.js';
import { custodyWorkload, duplicates, receiptsNotInLedger, StepLoad, stepRecords } from '../support/step-load.js';

const MAKER = gln(81);
const SITE = gln(82);
const CARRIER = gln(83, '405432');
const OUTAGE_MS = Number(process.env.RELIABILITY_DATABASE_OUTAGE_MS ?? '6000');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The application's own test database is closed to connections and its connections ended;
// the PostgreSQL server, shared with other tests, is never touched.
describe('a PostgreSQL outage under load', () => {
  let app: CustodyApp;
  let databaseName: string;

  beforeAll(async () => {
    app = await startCustodyApp(
      [
        { name: 'maker', role: 'operator', party: MAKER },
        { name: 'reader', role: 'consumer' },
      ],
      { HEALTH_TIMEOUT_MS: '1000', READ_WAIT_TIMEOUT_MS: '1000' },
    );
    databaseName = new URL(app.config.database.url).pathname.slice(1);
  });

  afterAll(async () => {
    await setDatabaseReachable(databaseName, true);
    await app.close();
  });

  it('keeps recording steps in the ledger, answers reads 503, and the projection catches up to equal a rebuild', async () => {
    const { client } = app;
    const reader = app.keys.reader!;
    const load = new StepLoad({
      url: () => app.running.url,
      apiKey: app.keys.maker!,
      concurrency: 4,
      timeoutMs: 15_000,
      next: custodyWorkload({ owner: MAKER, site: SITE, to: CARRIER, prefix: 'db', gtinNumber: 8001 }),
    });
    load.start();
    let during: { reads: number[]; readTypes: string[]; readiness: number; readinessDown: string[]; acknowledged: number };
    try {
      await sleep(1500);
      const first = [...load.acknowledged.values()][0]!.steps[0]!;
      const productPath = `/products${first.subject}`;
      expect((await client.request('GET', productPath, { key: reader })).status).toBe(200);

      await setDatabaseReachable(databaseName, false);
      const outageStart = Date.now();
      const acknowledgedAtStart = load.acknowledged.size;
      await sleep(1000);
      const reads = await Promise.all(
        [productPath, `${productPath}/history`, `${productPath}/trace/backward`].map((path) =>
          client.request('GET', path, { key: reader }),
        ),
      );
      const readiness = await client.request<{ error?: Record<string, unknown> }>('GET', '/health/ready');
      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStart)));
      during = {
        reads: reads.map((r) => r.status),
        readTypes: reads.map((r) => `${r.contentType.split(';')[0]} ${String(r.body.type)}`),
        readiness: readiness.status,
        readinessDown: Object.keys(readiness.body.error ?? {}),
        acknowledged: load.acknowledged.size - acknowledgedAtStart,
      };
      await setDatabaseReachable(databaseName, true);
      await sleep(1500);
    } finally {
      await load.stop();
    }

    // During the outage: steps still acknowledged, reads a retryable 503 problem, readiness names the database.
    expect(during.acknowledged).toBeGreaterThan(0);
    expect(during.reads).toEqual([503, 503, 503]);
    expect(during.readTypes).toEqual(Array(3).fill('application/problem+json /problems/database-unavailable'));
    expect(during.readiness).toBe(503);
    expect(during.readinessDown).toContain('database');
    // No request failed at all: the writer does not need the database.
    expect(load.summary()).toEqual({ 201: load.requests });

    const ledger = await readLedger(app.kafka, app.config.ledger.topic, app.config.ledger.id, client);
    const acknowledgedSteps = [...load.acknowledged.values()].flatMap(({ steps }) => steps);
    expect(duplicates(ledger)).toEqual([]);
    expect(receiptsNotInLedger(acknowledgedSteps, ledger)).toEqual([]);
    expect(stepRecords(ledger)).toHaveLength(acknowledgedSteps.length);

    const { body: key } = await client.request<{ keyName: string; publicKey: string }>('GET', '/ledger/public-key');
    const verifier = new CheckpointVerifier(key.keyName, Uint8Array.from(Buffer.from(key.publicKey, 'base64')));
    const end = BigInt(ledger.at(-1)!.offset) + 1n;
    const { live, rebuilt } = await projectionAndRebuild(
      { kafka: app.kafka, topic: app.config.ledger.topic, ledgerId: app.config.ledger.id, verifier },
      app.config.database.url,
      end,
    );
    expect(live.custody_events).toHaveLength(acknowledgedSteps.length);
    expect(live).toEqual(rebuilt);
    expect((await client.request('GET', '/health/ready')).status).toBe(200);

    process.stderr.write(
      `[reliability:database] ${JSON.stringify({ outageMs: OUTAGE_MS, requests: load.requests, statuses: load.summary(), during })}\n`,
    );
  }, 120_000);
});

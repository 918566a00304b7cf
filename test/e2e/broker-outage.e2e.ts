import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { reserveTestDatabase, type TestDatabase, testConfig } from '../support/environment.js';
import { type RunningApplication, startApplication } from '../support/application.js';
import { startOwnKafka } from '../support/test-stack.mjs';

interface Readiness {
  status: string;
  error: Record<string, { status: string; message?: string }>;
  info: Record<string, { status: string }>;
}

async function readiness(url: string): Promise<{ status: number; body: Readiness }> {
  const response = await fetch(`${url}/health/ready`);
  return { status: response.status, body: (await response.json()) as Readiness };
}

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!done(last) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    last = await probe();
  }
  return last;
}

// Runs against a broker of its own, so stopping it cannot disturb any other test.
describe('readiness through a Kafka broker outage', () => {
  let broker: Awaited<ReturnType<typeof startOwnKafka>>;
  let database: TestDatabase | undefined;
  let running: RunningApplication | undefined;
  let url: string;

  beforeAll(async () => {
    broker = await startOwnKafka('custodian-outage-');
    const brokers = broker.brokers;
    database = reserveTestDatabase();
    running = await startApplication(testConfig(database, { KAFKA_BROKERS: brokers, HEALTH_TIMEOUT_MS: '1500' }));
    url = running.url;
  }, 120_000);

  afterAll(async () => {
    await running?.close();
    await database?.drop();
    await broker.remove();
  }, 120_000);

  it('is 200 with the broker up, 503 naming Kafka while it is down, and 200 again after it restarts', async () => {
    const before = await readiness(url);
    expect(before.status).toBe(200);

    await broker.stop();
    const during = await eventually(
      () => readiness(url),
      (r) => r.status === 503,
      10_000,
    );
    expect(during.status).toBe(503);
    expect(during.body.status).toBe('error');
    expect(Object.keys(during.body.error)).toEqual(['kafka']);
    expect(during.body.error.kafka!.status).toBe('down');
    expect(during.body.info.database).toMatchObject({ status: 'up' });

    await broker.start();
    const after = await eventually(
      () => readiness(url),
      (r) => r.status === 200,
      30_000,
    );
    expect(after.status).toBe(200);
    expect(after.body.status).toBe('ok');
    // The projector lost its feed during the outage and follows the ledger again.
    type Projection = { projection?: { partitions?: { status: string }[] } };
    const projecting = (r: { body: Readiness }) => (r.body.info as unknown as Projection).projection?.partitions?.[0]?.status;
    const following = await eventually(
      () => readiness(url),
      (r) => projecting(r) === 'projecting',
      30_000,
    );
    expect(projecting(following)).toBe('projecting');
  }, 120_000);
});

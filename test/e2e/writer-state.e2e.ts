import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type CustodyApp, gln, gtin, startCustodyApp, topicEnd } from '../support/custody-api.js';
import { type RunningApplication, RecordingLogger, startApplication } from '../support/application.js';
import { produceRaw, rawValues } from '../support/ledger-harness.js';

const MAKER = gln(21);
const SITE = gln(22);
const G = gtin(4242);

function commission(serial: string) {
  return { gtin: G, serial, name: 'Vial', owner: MAKER, location: SITE, occurredAt: '2026-11-01T08:00:00Z' };
}

interface Readiness {
  status: string;
  error?: Record<string, { status: string; partitions?: { partition: number; state: string; reason: string }[] }>;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a writer whose ledger was appended to from outside', () => {
  let app: CustodyApp;

  beforeAll(async () => {
    app = await startCustodyApp([{ name: 'maker', role: 'operator', party: MAKER }], { AUTH_ANONYMOUS_READS: 'true' });
  });

  afterAll(async () => {
    await app.close();
  });

  it('stops acknowledging, answers 503 naming the break, and readiness says why', async () => {
    const key = app.keys.maker!;
    expect((await app.client.post('/products', key, commission('A-1'))).status).toBe(201);
    await topicEnd(app.kafka, app.config.ledger.topic);
    // A copy of a record of this very ledger, produced by someone who can write to the topic.
    const values = await rawValues(app.kafka, app.config.ledger.topic);
    await produceRaw(app.kafka, app.config.ledger.topic, [values.at(-2)!]);
    const readable = (await rawValues(app.kafka, app.config.ledger.topic)).length;

    const refused = await app.client.post('/products', key, commission('A-2'));
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({
      type: '/problems/ledger-broken',
      detail: expect.stringMatching(/Nothing was recorded: .*holds records this writer did not write/) as unknown,
    });
    expect((await app.client.post('/products', key, commission('A-3'))).body).toMatchObject({ type: '/problems/ledger-broken' });
    // The refused batches were aborted: nothing of them is readable.
    await topicEnd(app.kafka, app.config.ledger.topic);
    expect(await rawValues(app.kafka, app.config.ledger.topic)).toHaveLength(readable);

    const ready = await app.client.request<Readiness>('GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error?.ledger?.partitions).toEqual([
      { partition: 0, state: 'failed', reason: expect.stringMatching(/holds records this writer did not write/) as unknown },
    ]);
    const heads = await app.client.request<{ status: string; reason: string }[]>('GET', '/ledger/heads');
    expect(heads.body[0]).toMatchObject({ status: 'failed', reason: expect.stringMatching(/did not write/) as unknown });
  }, 60_000);
});

describe('an instance whose writer another instance fenced', () => {
  let app: CustodyApp;
  let second: RunningApplication | undefined;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    app = await startCustodyApp([{ name: 'maker', role: 'operator', party: MAKER }], {
      LEDGER_RECLAIM_DELAY_MS: '200',
      LEDGER_RECLAIM_MAX_DELAY_MS: '400',
    });
    await app.running.close();
    app.running = await startApplication(app.config, logger);
    app.client = new (app.client.constructor as new (url: string) => typeof app.client)(app.running.url);
  });

  afterAll(async () => {
    await second?.close();
    await app.close();
  });

  it('is not ready and refuses steps while fenced, without a stack trace per request, and takes over again once the other stops', async () => {
    const key = app.keys.maker!;
    expect((await app.client.post('/products', key, commission('B-1'))).status).toBe(201);
    // A second instance against the same ledger fences the first one's writer. (Nest's static
    // logger is the last application's: both log to the same recorder.)
    second = await startApplication(app.config, logger);
    const refused = await Promise.all([1, 2, 3].map((n) => app.client.post('/products', key, commission(`B-F${n}`))));
    expect(refused.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(refused[0]!.body).toMatchObject({ type: '/problems/ledger-unavailable', retryable: true });
    const ready = await app.client.request<Readiness>('GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error?.ledger?.partitions).toEqual([
      { partition: 0, state: 'fenced', reason: expect.stringMatching(/another writer took over/) as unknown },
    ]);
    // The refusals were expected answers, not incidents: no failed request logged with a stack,
    // and the fencing logged once, by the writer.
    expect(logger.lines.filter((line) => line.stack !== undefined || line.message.includes('request failed'))).toEqual([]);
    expect(
      logger.lines.filter((line) => line.message.includes('takes the partition back once the other writer is idle')),
    ).toHaveLength(1);

    await second.close();
    second = undefined;
    await waitFor(async () => (await app.client.request('GET', '/health/ready')).status === 200);
    expect((await app.client.post('/products', key, commission('B-2'))).status).toBe(201);
  }, 90_000);
});

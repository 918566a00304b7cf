import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type CustodyApp, gln, readLedger, startCustodyApp } from '../support/custody-api.js';
import { GENESIS_EVENT } from '../../src/ledger/ledger-record.js';
import { custodyWorkload, duplicates, receiptsNotInLedger, StepLoad, stepRecords } from '../support/step-load.js';
import { startOwnKafka } from '../support/test-stack.mjs';

const MAKER = gln(91);
const SITE = gln(92);
const CARRIER = gln(93, '405432');
/**
 * How long the broker stays down, at least; and at least KNOWN_OUTAGE_MS after the first 503,
 * so that there is a phase in which the writer knows the broker is gone (the requests in flight
 * when it went away take the producer's retries, 10 to 15 s, to fail).
 */
const OUTAGE_MS = Number(process.env.RELIABILITY_BROKER_OUTAGE_MS ?? '10000');
const KNOWN_OUTAGE_MS = 5_000;
/**
 * How long a request may take once the writer found the broker gone: it must fail fast. The
 * requests in flight when the broker went away wait out the producer's retries first (10 to
 * 15 s, WRITER_RETRY in src/ledger/adapters/kafka-partition-log.ts), or in the worst case the
 * Kafka client's request timeout (30 s, seen once in a 60 s outage): none may take longer than
 * NEVER_HANG_MS.
 */
const FAIL_FAST_MS = 1_000;
const NEVER_HANG_MS = 35_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Head {
  partition: number;
  status: string;
  genesisHash: string | null;
  nextSequence: number;
}

// Runs against a broker of its own, so stopping it cannot disturb any other test or benchmark.
describe('a Kafka broker outage under load', () => {
  let broker: Awaited<ReturnType<typeof startOwnKafka>>;
  let app: CustodyApp;

  beforeAll(async () => {
    broker = await startOwnKafka('custodian-broker-outage-');
    const brokers = broker.brokers;
    app = await startCustodyApp(
      [
        { name: 'maker', role: 'operator', party: MAKER },
        { name: 'reader', role: 'consumer' },
      ],
      { KAFKA_BROKERS: brokers, HEALTH_TIMEOUT_MS: '1500' },
    );
  }, 180_000);

  afterAll(async () => {
    await app.close();
    await broker.remove();
  }, 120_000);

  it('answers 503 fast while the broker is down, records again after, and keeps one chain with nothing acknowledged lost', async () => {
    const { client } = app;
    const reader = app.keys.reader!;
    const headBefore = (await client.request<Head[]>('GET', '/ledger/heads', { key: reader })).body[0]!;
    const load = new StepLoad({
      url: () => app.running.url,
      apiKey: app.keys.maker!,
      concurrency: 4,
      timeoutMs: 60_000,
      next: custodyWorkload({ owner: MAKER, site: SITE, to: CARRIER, prefix: 'broker', gtinNumber: 9001 }),
    });
    load.start();
    let outage: { stopping: number; from: number; to: number; started: number };
    let recoveredAfterMs: number;
    try {
      await sleep(2000);
      expect(load.acknowledged.size).toBeGreaterThan(0);
      const stopping = Date.now();
      await broker.stop();
      const from = Date.now();
      await sleep(OUTAGE_MS);
      const firstRefusal = () => load.answers.find((answer) => answer.at > from && answer.status === 503)?.at;
      while (firstRefusal() === undefined && Date.now() - from < NEVER_HANG_MS) await sleep(100);
      await sleep(Math.max(0, (firstRefusal() ?? 0) + KNOWN_OUTAGE_MS - Date.now()));
      const to = Date.now();
      await broker.start();
      const started = Date.now();
      outage = { stopping, from, to, started };
      const acknowledged = load.acknowledged.size;
      while (load.acknowledged.size < acknowledged + 20 && Date.now() - started < 60_000) await sleep(100);
      recoveredAfterMs = Date.now() - started;
    } finally {
      await load.stop();
    }

    // Requests that took long, by when they were sent, from the moment the broker was told to stop.
    const slowAnswers = load.answers
      .filter((answer) => answer.ms > 2000)
      .map((answer) => ({
        sentAtMs: Math.round(answer.at - answer.ms - outage.stopping),
        ms: Math.round(answer.ms),
        status: answer.status,
      }));
    process.stderr.write(
      `[reliability:broker] timeline ${JSON.stringify({
        stopTookMs: outage.from - outage.stopping,
        downMs: outage.to - outage.from,
        startTookMs: outage.started - outage.to,
        slowAnswers: slowAnswers.slice(0, 20),
      })}\n`,
    );

    // During the outage (a second into it, once requests that were in flight have failed):
    // 503 problems; once the first came back, each later one answered fast. Never a 500 and never a hang.
    const during = load.answers.filter((answer) => answer.at > outage.from + 1000 && answer.at <= outage.to);
    const statusesDuring = [...new Set(during.map((answer) => answer.status))];
    expect(during.length).toBeGreaterThan(0);
    expect(statusesDuring).toEqual([503]);
    const firstUnavailable = Math.min(...during.map((answer) => answer.at));
    const afterFirst = during.filter((answer) => answer.at - answer.ms > firstUnavailable);
    expect(afterFirst.length).toBeGreaterThan(0);
    const slowestAfterFirst = Math.max(...afterFirst.map((answer) => answer.ms));
    expect(slowestAfterFirst).toBeLessThan(FAIL_FAST_MS);
    const slowest = Math.max(...load.answers.map((answer) => answer.ms));
    expect(slowest).toBeLessThan(NEVER_HANG_MS);
    expect(load.statuses.get(500) ?? 0).toBe(0);
    expect(load.statuses.get('timeout') ?? 0).toBe(0);
    // Nothing recorded, or (a commit cut off by the outage) not known: both safe to retry with the key.
    const problemTypes = new Set([...load.failed.values()].filter((f) => f.status === 503).map((f) => f.problemType));
    expect(problemTypes).toContain('/problems/ledger-unavailable');
    expect(
      [...problemTypes].filter((type) => type !== '/problems/ledger-unavailable' && type !== '/problems/outcome-unknown'),
    ).toEqual([]);
    // And after it, steps are acknowledged again.
    expect(recoveredAfterMs).toBeLessThan(60_000);

    // Every 503 is safe to retry with its key; afterwards each step is in the ledger once, on the same chain.
    const retried = await load.retryFailed();
    expect(retried.size).toBe(load.failed.size);
    const ledger = await readLedger(app.kafka, app.config.ledger.topic, app.config.ledger.id, client);
    const acknowledgedSteps = [...load.acknowledged.values()].flatMap(({ steps }) => steps);
    const retriedSteps = [...retried.values()].flat();
    expect(duplicates(ledger)).toEqual([]);
    expect(receiptsNotInLedger([...acknowledgedSteps, ...retriedSteps], ledger)).toEqual([]);
    expect(stepRecords(ledger)).toHaveLength(acknowledgedSteps.length + retriedSteps.length);
    expect(ledger.filter((stored) => stored.record.eventType === GENESIS_EVENT)).toHaveLength(1);
    const headAfter = (await client.request<Head[]>('GET', '/ledger/heads', { key: reader })).body[0]!;
    expect(headAfter).toMatchObject({ status: 'open', genesisHash: headBefore.genesisHash });
    expect(headAfter.nextSequence).toBe(ledger.length);

    process.stderr.write(
      `[reliability:broker] ${JSON.stringify({
        outageMs: outage.to - outage.from,
        recoveredAfterStartMs: recoveredAfterMs,
        requests: load.requests,
        statuses: load.summary(),
        answersDuringOutage: during.length,
        firstUnavailableAfterMs: firstUnavailable - outage.from,
        slowestMs: Math.round(slowest),
        slowestAfterFirstUnavailableMs: Math.round(slowestAfterFirst),
        retried: retried.size,
        stepsInLedger: stepRecords(ledger).length,
      })}\n`,
    );
  }, 240_000);
});

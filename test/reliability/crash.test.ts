import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { idempotentEventId } from '../../src/custody/step-recorder.js';
import { CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import { GENESIS_EVENT } from '../../src/ledger/ledger-record.js';
import { type CustodianProcess, startCustodianProcess } from '../support/custodian-process.js';
import { CustodyClient, gln, type RecordedStep, readLedger, writeApiKeys } from '../support/custody-api.js';
import { reserveTestDatabase, type TestDatabase, testDataDir, testKafkaBrokers, uniqueName } from '../support/environment.js';
import { testKafka } from '../support/ledger-harness.js';
import { projectionAndRebuild } from '../support/projection-harness.js';
import { custodyWorkload, duplicates, receiptsNotInLedger, StepLoad, stepRecords } from '../support/step-load.js';
import { freePort } from '../support/test-stack.mjs';

const MAKER = gln(71);
const SITE = gln(72);
const CARRIER = gln(73, '405432');
/** SIGKILLs of the application; RELIABILITY_KILLS runs more. */
const KILLS = Number(process.env.RELIABILITY_KILLS ?? '3');
const CONCURRENCY = 8;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the writer logged at a start about its snapshot (ledger-parts.ts, logSnapshot). */
const RESUMED = /partition \d+: resumed from the snapshot at tree size (\d+), (\d+) records verified after it/g;
const REFUSED = /partition \d+: snapshot not used, the whole partition is read and verified: (.*)/g;

/**
 * Each run twice: with the default snapshot interval (10,000 records: a run this short takes no
 * snapshot, every restart reads the whole partition), and with a snapshot every 200 records, so
 * that restarts resume from the newest snapshot and verify only the tail after it (issue 16),
 * with the process killed at any point of taking one.
 */
const RUNS = [
  { reading: 'every restart reading the whole partition', snapshotRecords: null },
  { reading: 'restarts resuming from writer snapshots taken every 200 records', snapshotRecords: 200 },
] as const;

// The built application as a real process, killed with SIGKILL under load at random moments:
// no shutdown hook runs, whatever was in flight is cut off.
describe.each(RUNS)(`the application killed with SIGKILL ${KILLS} times under HTTP load, $reading`, ({ snapshotRecords }) => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let apiKey: string;
  let app: CustodianProcess | undefined;

  beforeAll(async () => {
    database = reserveTestDatabase();
    const dataDir = testDataDir();
    const keys = writeApiKeys(dataDir, [{ name: 'maker', role: 'operator', party: MAKER }]);
    apiKey = keys.keys.maker!;
    env = {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers(),
      LEDGER_TOPIC: uniqueName('custodian.ledger.crash'),
      LEDGER_ID: uniqueName('crash'),
      // The same data directory at every start: the generated checkpoint key stays the same.
      CUSTODIAN_DATA_DIR: dataDir,
      API_KEYS_FILE: keys.file,
      PORT: String(await freePort()),
      // With snapshots, the writer's line about the snapshot it started from is logged at 'log'.
      LOG_LEVEL: snapshotRecords ? 'log' : 'error',
      ...(snapshotRecords ? { LEDGER_SNAPSHOT_RECORDS: String(snapshotRecords) } : {}),
    };
    app = await startCustodianProcess(env);
  });

  afterAll(async () => {
    if (app && app.child.exitCode === null && app.child.signalCode === null) await app.stop('SIGKILL');
    await database.drop();
  });

  it('keeps every acknowledged step exactly once, the chain verifying and the read models equal to a rebuild', async () => {
    const url = app!.url;
    const load = new StepLoad({
      url: () => url,
      apiKey,
      concurrency: CONCURRENCY,
      timeoutMs: 30_000,
      next: custodyWorkload({ owner: MAKER, site: SITE, to: CARRIER, prefix: 'crash' }),
    });
    load.start();
    const kills: {
      afterMs: number;
      acknowledgedBefore: number;
      restartMs: number;
      resumed: { treeSize: number; tail: number }[];
      refused: string[];
    }[] = [];
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        // A random moment, once this incarnation has acknowledged something.
        const acknowledged = load.acknowledged.size;
        const afterMs = 500 + Math.floor(Math.random() * 2500);
        await sleep(afterMs);
        const deadline = Date.now() + 20_000;
        while (load.acknowledged.size <= acknowledged && Date.now() < deadline) await sleep(50);
        expect(load.acknowledged.size).toBeGreaterThan(acknowledged);
        const exit = await app!.stop('SIGKILL');
        expect(exit.signal).toBe('SIGKILL');
        const t0 = Date.now();
        app = await startCustodianProcess(env);
        // The writer starts before the application is ready: its line is in the output by now.
        const output = app.output();
        kills.push({
          afterMs,
          acknowledgedBefore: load.acknowledged.size,
          restartMs: Date.now() - t0,
          resumed: [...output.matchAll(RESUMED)].map((m) => ({ treeSize: Number(m[1]), tail: Number(m[2]) })),
          refused: [...output.matchAll(REFUSED)].map((m) => m[1]!),
        });
      }
      const acknowledged = load.acknowledged.size;
      const deadline = Date.now() + 20_000;
      while (load.acknowledged.size <= acknowledged + 10 && Date.now() < deadline) await sleep(50);
    } finally {
      await load.stop();
    }
    expect(kills).toHaveLength(KILLS);
    // A snapshot is committed whole or not at all: a kill never leaves one that a restart refuses.
    expect(kills.flatMap((kill) => kill.refused)).toEqual([]);
    if (snapshotRecords) {
      // Snapshots every 200 records: at least one restart resumed from one (most do).
      expect(kills.filter((kill) => kill.resumed.length === 1).length).toBeGreaterThanOrEqual(1);
    } else {
      expect(kills.flatMap((kill) => kill.resumed)).toEqual([]);
    }
    expect(load.statuses.get('timeout') ?? 0).toBe(0);
    expect(load.statuses.get(500) ?? 0).toBe(0);

    const client = new CustodyClient(url);
    const kafka = testKafka('custodian-crash-check');
    const topic = env.LEDGER_TOPIC!;
    const ledgerId = env.LEDGER_ID!;

    // Before any retry: every receipt points at its record, nothing is there twice, and every
    // other step in the ledger is one whose request was cut off (its answer was lost).
    const before = await readLedger(kafka, topic, ledgerId, client);
    const acknowledgedSteps = [...load.acknowledged.values()].flatMap(({ steps }) => steps);
    expect(duplicates(before)).toEqual([]);
    expect(receiptsNotInLedger(acknowledgedSteps, before)).toEqual([]);
    const failedEventIds = new Map<string, string>();
    for (const [key, failure] of load.failed) {
      const count = failure.request.route === '/custody/batch' ? 3 : 1;
      for (let i = 0; i < count; i++) failedEventIds.set(idempotentEventId('maker', key, i), key);
    }
    const acknowledgedIds = load.acknowledgedEventIds();
    const unexplained = stepRecords(before)
      .map((stored) => stored.record.eventId)
      .filter((id) => !acknowledgedIds.has(id) && !failedEventIds.has(id));
    expect(unexplained).toEqual([]);

    // Each failed request retried with its own key: one recorded already is answered with its
    // first receipt and recorded no second time; one that was not is recorded now.
    const retried = await load.retryFailed();
    expect(retried.size).toBe(load.failed.size);
    const beforeByEventId = new Map(before.map((stored) => [stored.record.eventId, stored]));
    for (const step of [...retried.values()].flat()) {
      const earlier = beforeByEventId.get(step.eventId);
      if (earlier)
        expect({ id: step.eventId, offset: step.receipt.offset }).toEqual({ id: step.eventId, offset: earlier.offset });
    }

    const after = await readLedger(kafka, topic, ledgerId, client);
    const retriedSteps: RecordedStep[] = [...retried.values()].flat();
    expect(duplicates(after)).toEqual([]);
    expect(receiptsNotInLedger([...acknowledgedSteps, ...retriedSteps], after)).toEqual([]);
    const expected = new Set([...acknowledgedIds, ...retriedSteps.map((step) => step.eventId)]);
    const inLedger = stepRecords(after).map((stored) => stored.record.eventId);
    expect(inLedger.length).toBe(expected.size);
    expect(new Set(inLedger)).toEqual(expected);
    // One chain: a single genesis, every restart extended it (readLedger verified every link).
    expect(after.filter((stored) => stored.record.eventType === GENESIS_EVENT)).toHaveLength(1);

    const { body: key } = await client.request<{ keyName: string; publicKey: string }>('GET', '/ledger/public-key');
    const verifier = new CheckpointVerifier(key.keyName, Uint8Array.from(Buffer.from(key.publicKey, 'base64')));
    const end = BigInt(after.at(-1)!.offset) + 1n;
    const { live, rebuilt } = await projectionAndRebuild({ kafka, topic, ledgerId, verifier }, database.url, end);
    expect(live.custody_events).toHaveLength(inLedger.length);
    expect(live).toEqual(rebuilt);

    process.stderr.write(
      `[reliability:crash${snapshotRecords ? `, snapshots every ${snapshotRecords} records` : ''}] ${JSON.stringify({
        kills,
        requests: load.requests,
        statuses: load.summary(),
        acknowledgedRequests: load.acknowledged.size,
        acknowledgedSteps: acknowledgedSteps.length,
        failedRequests: load.failed.size,
        failedButRecorded: [...retried.values()].flat().filter((step) => beforeByEventId.has(step.eventId)).length,
        stepsInLedger: inLedger.length,
      })}\n`,
    );
  }, 300_000);
});

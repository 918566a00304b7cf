import { MIGRATIONS } from '../../migrations/index.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { writeApiKeys } from '../support/api-key-file.js';
import { collect, type CustodianProcess, exited, MAIN, startCustodianProcess } from '../support/custodian-process.js';
import { gln, gtin, sgtin } from '../support/custody-api.js';
import { reserveTestDatabase, type TestDatabase, testDataDir, testKafkaBrokers, uniqueName } from '../support/environment.js';
import { testKafka } from '../support/ledger-harness.js';
import { freePort, startOwnKafka } from '../support/test-stack.mjs';

/** The lines a process logged at error level or above (JSON lines; anything else on stderr counts too). */
function errorLines(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => {
      if (!line.startsWith('{')) return true;
      const { level } = JSON.parse(line) as { level?: string };
      return level === 'error' || level === 'fatal';
    });
}

// The built artefact, started as the start command starts it: a real process with real signals.
describe('the custodian process', () => {
  it('refuses to start on an invalid variable and names it', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, DATABASE_URL: 'postgres://127.0.0.1/custodian', LEDGER_PARTITIONS: '0' },
    });
    const log = collect(child);
    const { code } = await exited(child);
    expect(code).toBe(2);
    expect(log.output()).toContain('LEDGER_PARTITIONS="0": must be a whole number from 1 to 1024');
  });

  it('refuses to start on a ledger topic that would refuse its transactions, and says what to change', async () => {
    // A topic as an earlier version created it: everything kept, Kafka's default max.message.bytes (1 MiB).
    const topic = uniqueName('custodian.ledger.small');
    const admin = testKafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic,
            numPartitions: 1,
            configEntries: [
              { name: 'retention.ms', value: '-1' },
              { name: 'retention.bytes', value: '-1' },
            ],
          },
        ],
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
    const database = reserveTestDatabase();
    try {
      const child = spawn(process.execPath, [MAIN], {
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: database.url,
          KAFKA_BROKERS: testKafkaBrokers(),
          LEDGER_TOPIC: topic,
          LEDGER_ID: uniqueName('small'),
          CUSTODIAN_DATA_DIR: testDataDir(),
          PORT: '0',
        },
      });
      const log = collect(child);
      const { code } = await exited(child);
      expect(code).toBe(2);
      expect(log.output()).toContain(
        `custodian: Refusing to use ledger topic "${topic}":\n  - max.message.bytes=1048588: Kafka would refuse a transaction of LEDGER_MAX_BATCH_BYTES=2000000`,
      );
      expect(log.output()).toContain(`--add-config max.message.bytes=4194304) or lower LEDGER_MAX_BATCH_BYTES`);
    } finally {
      await database.drop();
    }
  }, 60_000);

  it('logs no error in a healthy start on a new broker, a few steps, reads, an attestation, and a graceful stop', async () => {
    // A broker that never served a transaction or a consumer group: its coordinators load on
    // first use, which kafkajs answers with retries it logs as errors unless they are routed.
    const broker = await startOwnKafka('custodian-healthy-start-');
    const database = reserveTestDatabase();
    const dataDir = testDataDir();
    const maker = gln(71);
    const { file, keys } = writeApiKeys(dataDir, [{ name: 'maker', role: 'operator', party: maker }]);
    let server: CustodianProcess | undefined;
    try {
      server = await startCustodianProcess({
        DATABASE_URL: database.url,
        KAFKA_BROKERS: broker.brokers,
        LEDGER_TOPIC: uniqueName('custodian.ledger.healthy'),
        LEDGER_ID: uniqueName('healthy'),
        CUSTODIAN_DATA_DIR: dataDir,
        API_KEYS_FILE: file,
        WITNESS_DIR: join(dataDir, 'witness'),
        WITNESS_INTERVAL_MS: '500',
        PORT: String(await freePort()),
      });
      const headers = { authorization: `Bearer ${keys.maker!}`, 'content-type': 'application/json' };
      const product = gtin(7171);
      let receipt = { partition: 0, sequence: 0 };
      for (const serial of ['H-1', 'H-2', 'H-3']) {
        const body = { gtin: product, serial, name: 'Widget', owner: maker, location: maker, occurredAt: '2026-11-01T08:00:00Z' };
        const response = await fetch(`${server.url}/products`, { method: 'POST', headers, body: JSON.stringify(body) });
        expect(response.status).toBe(201);
        ({ receipt } = (await response.json()) as { receipt: typeof receipt });
      }
      const path = `/products${sgtin(product, 'H-3')}`;
      const read = await fetch(`${server.url}${path}?waitFor=${receipt.partition}:${receipt.sequence}`, { headers });
      expect(read.status).toBe(200);
      const attestation = await fetch(`${server.url}${path}/attestation?evidence=true`, { headers });
      expect(attestation.status).toBe(200);
      // Heartbeats, a witness publication or two, the follower catching up.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
      const { code, signal } = await server.stop('SIGTERM');
      expect(code === 0 || signal === 'SIGTERM').toBe(true);
      expect(server.output()).toContain('Custodian stopped gracefully on SIGTERM');
      expect(errorLines(server.output())).toEqual([]);
    } finally {
      if (server?.child.exitCode === null && server.child.signalCode === null) await server.stop('SIGKILL');
      await database.drop();
      await broker.remove();
    }
  }, 120_000);

  describe('started with a fresh database', () => {
    let database: TestDatabase;
    let child: ChildProcess;
    let log: { output: () => string };

    beforeAll(() => {
      database = reserveTestDatabase();
      child = spawn(process.execPath, [MAIN], {
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: database.url,
          KAFKA_BROKERS: testKafkaBrokers(),
          LEDGER_TOPIC: uniqueName('custodian.ledger.process'),
          LEDGER_ID: uniqueName('process'),
          CUSTODIAN_DATA_DIR: testDataDir(),
          PORT: '0',
        },
      });
      log = collect(child);
    });

    afterAll(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await database.drop();
    });

    it('creates the database, migrates, serves, and stops gracefully on SIGTERM', async () => {
      const deadline = Date.now() + 30_000;
      let url: string | undefined;
      while (!url && Date.now() < deadline && child.exitCode === null) {
        url = /Custodian is serving on (http:\/\/[^ ]+) /.exec(log.output())?.[1];
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(url).toBeDefined();
      const lines = log
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: string; message: string; context?: string });
      expect(lines.find((line) => line.context === 'Bootstrap')?.message).toMatch(
        new RegExp(`: created, ${MIGRATIONS.length} migration\\(s\\) applied$`),
      );
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);

      const exit = exited(child);
      child.kill('SIGTERM');
      const { code, signal } = await exit;
      // Nest re-raises the signal after its shutdown hooks ran.
      expect(code === 0 || signal === 'SIGTERM').toBe(true);
      expect(log.output()).toContain('Custodian stopped gracefully on SIGTERM');
    }, 60_000);
  });
});

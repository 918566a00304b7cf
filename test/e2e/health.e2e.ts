import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConsoleLogger } from '@nestjs/common';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { createApplication } from '../../src/application.js';
import { prepareDatabase } from '../../src/infrastructure/database/database-provisioning.js';
import { createKafkaClient } from '../../src/infrastructure/kafka/kafka-client.js';
import { reserveTestDatabase, type TestDatabase, testConfig, testKafkaBrokers, uniqueName } from '../support/environment.js';
import { type RunningApplication, startApplication } from '../support/application.js';

const { ConfigResourceTypes } = kafkajs;

describe('Custodian over HTTP', () => {
  let database: TestDatabase;
  let running: RunningApplication | undefined;
  let url: string;
  let ledgerTopic: string;

  beforeAll(async () => {
    database = reserveTestDatabase();
    // Anonymous reads are on, so /ledger/heads answers without a key.
    const config = testConfig(database, { AUTH_ANONYMOUS_READS: 'true' });
    ledgerTopic = config.ledger.topic;
    running = await startApplication(config);
    url = running.url;
  });

  afterAll(async () => {
    await running?.close();
    await database.drop();
  });

  it('answers liveness', async () => {
    const response = await fetch(`${url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('is ready when Kafka and PostgreSQL are reachable', async () => {
    const response = await fetch(`${url}/health/ready`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; info: Record<string, { status: string }> };
    expect(body.status).toBe('ok');
    expect(body.info.kafka).toMatchObject({ status: 'up', brokers: 1, ledgerTopic, partitions: 1 });
    expect(body.info.database).toMatchObject({ status: 'up' });
  });

  it('created its ledger topic with infinite retention and no compaction', async () => {
    const admin = createKafkaClient({ brokers: [testKafkaBrokers()], clientId: 'custodian-test' }, new ConsoleLogger()).admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: ledgerTopic,
            configNames: ['cleanup.policy', 'retention.ms', 'retention.bytes'],
          },
        ],
      });
      const config = Object.fromEntries(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
      expect(config).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' });
    } finally {
      await admin.disconnect();
    }
  });

  it('serves the checkpoint key, and has written and pinned the genesis of its ledger', async () => {
    const key = (await (await fetch(`${url}/ledger/public-key`)).json()) as Record<string, string>;
    expect(key.algorithm).toBe('Ed25519');
    expect(key.verifierKey).toBe(
      `${key.keyName}+${key.keyId}+${Buffer.concat([Buffer.of(1), Buffer.from(key.publicKey!, 'base64')]).toString('base64')}`,
    );
    const heads = (await (await fetch(`${url}/ledger/heads`)).json()) as {
      partition: number;
      status: string;
      genesisHash: string;
      nextSequence: number;
    }[];
    expect(heads).toEqual([
      {
        partition: 0,
        status: 'open',
        reason: null,
        genesisHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        nextSequence: 2,
        headHash: expect.any(String),
      },
    ]);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const pinned = await client.query('SELECT genesis_hash FROM ledger_genesis');
      expect(pinned.rows).toEqual([{ genesis_hash: heads[0]!.genesisHash }]);
    } finally {
      await client.end();
    }
  });

  it('answers an unknown route with problem+json', async () => {
    const response = await fetch(`${url}/no/such/thing`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await response.json()).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'Cannot GET /no/such/thing',
      instance: '/no/such/thing',
    });
  });

  it('answers a malformed JSON body with a 400 problem, not a 500', async () => {
    const response = await fetch(`${url}/health`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"unterminated": ',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({
      status: 400,
      title: 'Bad Request',
      detail: expect.stringMatching(/not valid JSON/),
    });
  });
});

describe('starting on a ledger topic that would lose history', () => {
  it('refuses to start and says why', async () => {
    const database = reserveTestDatabase();
    const topic = uniqueName('custodian.ledger.short-lived');
    const admin = createKafkaClient({ brokers: [testKafkaBrokers()], clientId: 'custodian-test' }, new ConsoleLogger()).admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '86400000' }] }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    await prepareDatabase(database.url);
    const app = await createApplication(testConfig(database, { LEDGER_TOPIC: topic }), new ConsoleLogger({ logLevels: [] }));
    try {
      await expect(app.init()).rejects.toThrow(/Refusing to use ledger topic .*\n.*retention.ms=86400000/);
    } finally {
      await app.close().catch(() => undefined);
      await database.drop();
    }
  });
});

import { describe, expect, it } from '@jest/globals';
import { hostname } from 'node:os';
import { ConfigError, loadApiKeysFile, loadConfig, redactUrl } from './config.js';

const minimal = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/custodian' };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives sane defaults when only the database is named', () => {
    const config = loadConfig(minimal);
    expect(config.http).toEqual({ host: '127.0.0.1', port: 3000, bodyLimitBytes: 1_048_576 });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:19092']);
    expect(config.ledger).toEqual({
      id: 'custodian',
      topic: 'custodian.ledger',
      partitions: 1,
      replicationFactor: 1,
      signingKey: undefined,
      genesis: new Map(),
      maxBatch: 500,
      maxBatchBytes: 2_000_000,
      maxPayloadBytes: 65_536,
      reclaimDelayMs: { initial: 1000, max: 30_000 },
      snapshotRecords: 10_000,
      snapshotIntervalMs: 60_000,
      stateCacheEntries: 100_000,
    });
    expect(config.dataDir).toBe('.data');
    expect(config.log).toEqual({ level: 'log', format: 'json' });
    expect(config.custody).toEqual({ occurredAtSkewMs: 300_000, maxBatchSteps: 1000 });
    expect(config.projection).toEqual({ enabled: true, readWaitMs: 2000 });
    expect(config.auth).toEqual({ apiKeysFile: '.data/api-keys.json', anonymousReads: false });
  });

  it('reads every variable it documents', () => {
    const config = loadConfig({
      ...minimal,
      HOST: '0.0.0.0',
      PORT: '8080',
      HTTP_BODY_LIMIT_BYTES: '2048',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'text',
      KAFKA_BROKERS: 'k1:9092, k2:9093',
      KAFKA_CLIENT_ID: 'custodian-eu',
      LEDGER_TOPIC: 'acme.ledger',
      LEDGER_PARTITIONS: '4',
      LEDGER_REPLICATION_FACTOR: '3',
      LEDGER_ID: 'acme-eu',
      LEDGER_SIGNING_KEY: Buffer.alloc(32, 7).toString('base64'),
      LEDGER_GENESIS: `0:${'a'.repeat(64)}, 3:${'b'.repeat(64)}`,
      LEDGER_MAX_BATCH: '100',
      LEDGER_MAX_BATCH_BYTES: '500000',
      LEDGER_MAX_PAYLOAD_BYTES: '4096',
      LEDGER_RECLAIM_DELAY_MS: '250',
      LEDGER_RECLAIM_MAX_DELAY_MS: '5000',
      LEDGER_SNAPSHOT_RECORDS: '500',
      LEDGER_SNAPSHOT_INTERVAL_MS: '2000',
      LEDGER_STATE_CACHE_ENTRIES: '20000',
      CUSTODIAN_DATA_DIR: '/var/lib/custodian',
      HEALTH_TIMEOUT_MS: '500',
      CUSTODY_OCCURRED_AT_SKEW_SECONDS: '30',
      CUSTODY_MAX_BATCH_STEPS: '50',
      API_KEYS_FILE: '/etc/custodian/keys.json',
      AUTH_ANONYMOUS_READS: 'true',
      PROJECTOR_ENABLED: 'false',
      READ_WAIT_TIMEOUT_MS: '500',
    });
    expect(config.http).toEqual({ host: '0.0.0.0', port: 8080, bodyLimitBytes: 2048 });
    expect(config.log).toEqual({ level: 'debug', format: 'text' });
    expect(config.kafka).toEqual({ brokers: ['k1:9092', 'k2:9093'], clientId: 'custodian-eu' });
    expect(config.ledger).toEqual({
      id: 'acme-eu',
      topic: 'acme.ledger',
      partitions: 4,
      replicationFactor: 3,
      signingKey: Buffer.alloc(32, 7).toString('base64'),
      genesis: new Map([
        [0, 'a'.repeat(64)],
        [3, 'b'.repeat(64)],
      ]),
      maxBatch: 100,
      maxBatchBytes: 500_000,
      maxPayloadBytes: 4096,
      reclaimDelayMs: { initial: 250, max: 5000 },
      snapshotRecords: 500,
      snapshotIntervalMs: 2000,
      stateCacheEntries: 20_000,
    });
    expect(config.dataDir).toBe('/var/lib/custodian');
    expect(config.health.timeoutMs).toBe(500);
    expect(config.custody).toEqual({ occurredAtSkewMs: 30_000, maxBatchSteps: 50 });
    expect(config.projection).toEqual({ enabled: false, readWaitMs: 500 });
    expect(config.auth).toEqual({ apiKeysFile: '/etc/custodian/keys.json', anonymousReads: true });
  });

  it('names the variable and the allowed range for a bad number', () => {
    expect(problemsOf({ ...minimal, PORT: '70000' })).toEqual(['PORT="70000": must be a whole number from 0 to 65535']);
    expect(problemsOf({ ...minimal, LEDGER_PARTITIONS: 'two' })).toEqual([
      'LEDGER_PARTITIONS="two": must be a whole number from 1 to 1024',
    ]);
  });

  it("reads the consumer page's rate limit and resolver URL, the URL without a trailing slash", () => {
    expect(loadConfig(minimal).consumer).toEqual({ rateLimitPerMinute: 60, resolverBaseUrl: undefined });
    const config = loadConfig({
      ...minimal,
      CONSUMER_RATE_LIMIT_PER_MINUTE: '600',
      RESOLVER_BASE_URL: 'https://id.example.com/',
    });
    expect(config.consumer).toEqual({ rateLimitPerMinute: 600, resolverBaseUrl: 'https://id.example.com' });
    expect(problemsOf({ ...minimal, RESOLVER_BASE_URL: 'https://id.example.com/?x=1' })).toEqual([
      'RESOLVER_BASE_URL: must be an http(s) URL without query',
    ]);
    expect(problemsOf({ ...minimal, CONSUMER_RATE_LIMIT_PER_MINUTE: '0' })).toHaveLength(1);
  });

  it('reads the cluster settings: off by default, forwarded writes on PORT + 1000, advertised where the others reach it', () => {
    expect(loadConfig(minimal).cluster).toEqual({
      enabled: false,
      host: '127.0.0.1',
      port: 4000,
      advertisedHost: '127.0.0.1',
      sessionTimeoutMs: 3000,
      forwardTimeoutMs: 10_000,
    });
    const config = loadConfig({
      ...minimal,
      PORT: '3001',
      CLUSTER_ENABLED: 'true',
      CLUSTER_HOST: '0.0.0.0',
      CLUSTER_SESSION_TIMEOUT_MS: '6000',
    });
    expect(config.cluster).toMatchObject({ enabled: true, host: '0.0.0.0', port: 4001, sessionTimeoutMs: 6000 });
    // Listening on every interface: the others reach it by its host name (a container's), unless told.
    expect(config.cluster.advertisedHost).toBe(hostname());
    // A writer that moves verifies the tail after its last snapshot: snapshots come more often.
    expect(config.ledger).toMatchObject({ snapshotRecords: 2000, snapshotIntervalMs: 10_000 });
    expect(loadConfig(minimal).ledger).toMatchObject({ snapshotRecords: 10_000, snapshotIntervalMs: 60_000 });
    expect(loadConfig({ ...minimal, CLUSTER_HOST: '0.0.0.0', CLUSTER_ADVERTISED_HOST: 'app-2' }).cluster.advertisedHost).toBe(
      'app-2',
    );
    expect(problemsOf({ ...minimal, PORT: '0', CLUSTER_ENABLED: 'true' })).toEqual([
      'CLUSTER_PORT: set a port for forwarded writes (PORT is 0)',
    ]);
    expect(problemsOf({ ...minimal, CLUSTER_SESSION_TIMEOUT_MS: '10' })).toHaveLength(1);
  });

  it('names the allowed values for an enumeration', () => {
    expect(problemsOf({ ...minimal, LOG_LEVEL: 'loud' })).toEqual([
      'LOG_LEVEL="loud": must be one of fatal, error, warn, log, debug, verbose',
    ]);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ DATABASE_URL: 'mysql://x/y', KAFKA_BROKERS: 'nohost', LEDGER_TOPIC: 'bad topic!' });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^DATABASE_URL: must use the postgres:\/\//);
    expect(problems[1]).toMatch(/^KAFKA_BROKERS="nohost": must be a comma-separated list of host:port/);
    expect(problems[2]).toMatch(/^LEDGER_TOPIC="bad topic!"/);
  });

  it('refuses a genesis pin for a partition the ledger does not have, and a malformed key', () => {
    expect(problemsOf({ ...minimal, LEDGER_GENESIS: `1:${'a'.repeat(64)}` })).toEqual([
      'LEDGER_GENESIS: must list partition:hash pairs (64 lowercase hex digits), each partition below 1 once',
    ]);
    expect(problemsOf({ ...minimal, LEDGER_SIGNING_KEY: 'c2hvcnQ=' })[0]).toMatch(
      /^LEDGER_SIGNING_KEY: must be a 32-byte Ed25519/,
    );
  });

  it('requires a database URL that names a database', () => {
    expect(problemsOf({})[0]).toMatch(/^DATABASE_URL is not set/);
    expect(problemsOf({ DATABASE_URL: 'postgres://127.0.0.1:5432' })[0]).toMatch(/must name a database/);
  });

  it('puts every problem in the error message', () => {
    expect(() => loadConfig({ ...minimal, PORT: '-1' })).toThrow(/Invalid configuration:\n {2}- PORT="-1"/);
  });
});

describe('loadApiKeysFile', () => {
  it('finds the key file where the server does, without a database', () => {
    expect(loadApiKeysFile({})).toBe('.data/api-keys.json');
    expect(loadApiKeysFile({ CUSTODIAN_DATA_DIR: '/var/lib/custodian' })).toBe('/var/lib/custodian/api-keys.json');
    const env = { CUSTODIAN_DATA_DIR: '/var/lib/custodian', API_KEYS_FILE: '/etc/custodian/keys.json' };
    expect(loadApiKeysFile(env)).toBe(loadConfig({ ...minimal, ...env }).auth.apiKeysFile);
  });
});

describe('redactUrl', () => {
  it('masks the password and keeps the rest', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/custodian')).toBe('postgres://app:***@db:5432/custodian');
    expect(redactUrl('postgres://db:5432/custodian')).toBe('postgres://db:5432/custodian');
  });
});

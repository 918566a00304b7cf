/** What a test worker needs to reach the services started by global-setup.ts. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type CustodianConfig, loadConfig } from '../../src/infrastructure/config/config.js';
import { maintenanceUrl } from '../../src/infrastructure/database/database-provisioning.js';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS } from './test-stack.mjs';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest's global setup (npm test)`);
  return value;
}

export function testKafkaBrokers(): string {
  return required(TEST_KAFKA_BROKERS);
}

/** A name unique to this test run, for topics, databases and consumer groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: maintenanceUrl(required(TEST_DATABASE_URL)) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A database name no other test uses, not yet created (so tests can see it being created).
 * drop() removes it, closing any connection still open.
 */
export function reserveTestDatabase(): TestDatabase {
  const name = uniqueName('custodian_test');
  const url = new URL(required(TEST_DATABASE_URL));
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => onServer((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

export async function databaseExists(name: string): Promise<boolean> {
  return onServer(async (client) => {
    const result = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return result.rowCount === 1;
  });
}

/** A fresh directory for local state such as a generated writer key. */
export function testDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'custodian-data-'));
}

/**
 * Configuration for an application under test: the test services, and a ledger of its own
 * (topic, ledger id and so transactional ids, data directory), so tests never fence each other.
 */
export function testConfig(database: TestDatabase, env: Record<string, string> = {}): CustodianConfig {
  return loadConfig({
    DATABASE_URL: database.url,
    KAFKA_BROKERS: testKafkaBrokers(),
    LEDGER_TOPIC: uniqueName('custodian.ledger.test'),
    LEDGER_ID: uniqueName('test'),
    CUSTODIAN_DATA_DIR: testDataDir(),
    PORT: '0',
    LOG_LEVEL: 'warn',
    ...env,
  });
}

/**
 * Opens or closes one test database to connections, as a database outage looks to the
 * application: closing also ends every connection it has. Only this database is touched, never
 * the server, which other tests and benchmarks share.
 */
export async function setDatabaseReachable(name: string, reachable: boolean): Promise<void> {
  await onServer(async (client) => {
    await client.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS ${reachable ? 'true' : 'false'}`);
    if (!reachable) {
      await client.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
    }
  });
}

/** How many server connections are open to a database (a connection leak shows here). */
export async function databaseConnections(name: string): Promise<number> {
  return onServer(async (client) => {
    const result = await client.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [name]);
    return Number(result.rows[0]?.n ?? 0);
  });
}

import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options.js';

const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const DUPLICATE_DATABASE = '42P04';
/** The advisory lock that serialises migrations of one database: "CUSTMIGR" as two int4 keys. */
const MIGRATION_LOCK = [0x43555354, 0x4d494752] as const;

export class DatabaseProvisioningError extends Error {
  override name = 'DatabaseProvisioningError';
}

export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!DATABASE_NAME.test(name)) {
    throw new DatabaseProvisioningError(
      `database name ${JSON.stringify(name)} must start with a letter or _ and hold up to 63 of A-Z a-z 0-9 _`,
    );
  }
  return name;
}

/** The same server, but its maintenance database `postgres`. */
export function maintenanceUrl(url: string): string {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  return admin.toString();
}

/**
 * Creates the database named by the URL when it does not exist. Returns whether it did. Several
 * instances starting at once take turns (an advisory lock on the maintenance database, keyed by
 * the name): two concurrent CREATE DATABASE of one name fail on a unique index, not as 42P04.
 */
export async function ensureDatabaseExists(url: string): Promise<boolean> {
  const name = databaseName(url);
  const client = new pg.Client({ connectionString: maintenanceUrl(url) });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [MIGRATION_LOCK[0], name]);
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      // Identifiers cannot be bound as parameters; the name was checked against DATABASE_NAME.
      await client.query(`CREATE DATABASE "${name}" ENCODING 'UTF8'`);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === DUPLICATE_DATABASE) return false;
      throw error;
    }
  } finally {
    await client.end();
  }
}

/**
 * Applies every pending migration, each in its own transaction. Returns their names. Several
 * instances starting at once against a fresh database (docs/scaling.md) take turns: the first
 * migrates while holding a session-level advisory lock, the others wait for it and then find
 * nothing left to do (two concurrent runs would both create the same types and tables).
 */
export async function runMigrations(url: string): Promise<string[]> {
  const lock = new pg.Client({ connectionString: url, application_name: 'custodian-migrations' });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1, $2)', [...MIGRATION_LOCK]);
    const dataSource = new DataSource(dataSourceOptions(url));
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((migration) => migration.name);
    } finally {
      await dataSource.destroy();
    }
  } finally {
    // Ending the session releases its lock, also when the migrations failed.
    await lock.end();
  }
}

/** What the start command does before serving: the database exists and is migrated. */
export async function prepareDatabase(url: string): Promise<{ created: boolean; migrations: string[] }> {
  const created = await ensureDatabaseExists(url);
  const migrations = await runMigrations(url);
  return { created, migrations };
}

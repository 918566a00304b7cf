import { MIGRATIONS } from '../../migrations/index.js';
import { afterEach, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/infrastructure/database/data-source-options.js';
import { prepareDatabase } from '../../src/infrastructure/database/database-provisioning.js';
import { databaseExists, reserveTestDatabase, type TestDatabase } from '../support/environment.js';

describe('preparing the database', () => {
  let database: TestDatabase | undefined;

  afterEach(async () => {
    await database?.drop();
  });

  it('creates a missing database and runs every migration on it, once', async () => {
    database = reserveTestDatabase();
    expect(await databaseExists(database.name)).toBe(false);

    const first = await prepareDatabase(database.url);
    expect(first).toEqual({ created: true, migrations: MIGRATIONS.map((migration) => migration.name) });
    expect(await databaseExists(database.name)).toBe(true);

    const second = await prepareDatabase(database.url);
    expect(second).toEqual({ created: false, migrations: [] });

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const applied = await client.query('SELECT name FROM schema_migrations ORDER BY id');
      expect(applied.rows).toEqual(MIGRATIONS.map((migration) => ({ name: migration.name })));
      const columns = await client.query(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'ledger_genesis' ORDER BY ordinal_position`,
      );
      expect(columns.rows.map((row: { column_name: string }) => row.column_name)).toEqual([
        'ledger_id',
        'partition',
        'genesis_hash',
        'pinned_at',
      ]);
    } finally {
      await client.end();
    }
  });

  it('migrates once when three instances start at the same moment on a fresh database', async () => {
    database = reserveTestDatabase();
    const runs = await Promise.all([0, 1, 2].map(() => prepareDatabase(database!.url)));
    // Exactly one created the database and applied the migrations; the others found it done.
    expect(runs.filter((run) => run.created)).toHaveLength(1);
    expect(runs.map((run) => run.migrations.length).sort((a, b) => a - b)).toEqual([0, 0, MIGRATIONS.length]);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const applied = await client.query('SELECT name FROM schema_migrations ORDER BY id');
      expect(applied.rows).toEqual(MIGRATIONS.map((migration) => ({ name: migration.name })));
    } finally {
      await client.end();
    }
  });

  it('reverts every migration, newest first, and applies them all again', async () => {
    database = reserveTestDatabase();
    await prepareDatabase(database.url);
    const dataSource = new DataSource(dataSourceOptions(database.url));
    await dataSource.initialize();
    try {
      const columns = async () =>
        (
          await dataSource.query<{ name: string }[]>(
            `SELECT table_name || '.' || column_name AS name FROM information_schema.columns
              WHERE table_schema = 'public'
                AND table_name IN ('ledger_genesis', 'custody_events', 'products', 'ledger_snapshot', 'registry_locations',
                                   'epcis_events')`,
          )
        ).map((row) => row.name);
      const migrated = await columns();
      expect(migrated).toEqual(
        expect.arrayContaining([
          'ledger_genesis.genesis_hash',
          'custody_events.payload',
          'products.quantity',
          'ledger_snapshot.note',
          'registry_locations.visibility',
          'epcis_events.event',
        ]),
      );
      let undone = 0;
      const undo = async () => {
        await dataSource.undoLastMigration();
        undone++;
      };
      // The migrations after the EPCIS query's tables first (they have tables of their own).
      while (MIGRATIONS.length - undone - 1 > MIGRATIONS.findIndex((m) => m.name === 'EpcisEvents1767000000000')) await undo();
      await undo();
      expect(await columns()).toContain('registry_locations.visibility');
      expect(await columns()).not.toContain('epcis_events.event');
      await undo();
      expect(await columns()).toContain('ledger_snapshot.note');
      expect(await columns()).not.toContain('registry_locations.visibility');
      await undo();
      expect(await columns()).toContain('products.quantity');
      expect(await columns()).not.toContain('ledger_snapshot.note');
      await undo();
      expect(await columns()).toContain('products.holder');
      expect(await columns()).not.toContain('products.quantity');
      while (undone < MIGRATIONS.length) await undo();
      expect(await columns()).toEqual([]);
      expect((await dataSource.runMigrations()).map((m) => m.name)).toEqual(MIGRATIONS.map((migration) => migration.name));
      expect((await columns()).sort()).toEqual(migrated.sort());
    } finally {
      await dataSource.destroy();
    }
  });

  it('keeps a pinned genesis hash from being changed or deleted', async () => {
    database = reserveTestDatabase();
    await prepareDatabase(database.url);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query(`INSERT INTO ledger_genesis (ledger_id, partition, genesis_hash) VALUES ('dev', 0, $1)`, [
        'a'.repeat(64),
      ]);
      await expect(client.query(`UPDATE ledger_genesis SET genesis_hash = $1`, ['b'.repeat(64)])).rejects.toThrow(/append-only/);
      await expect(client.query('DELETE FROM ledger_genesis')).rejects.toThrow(/append-only/);
      await expect(
        client.query(`INSERT INTO ledger_genesis (ledger_id, partition, genesis_hash) VALUES ('dev', 1, 'not-a-hash')`),
      ).rejects.toThrow(/check constraint/);
      const rows = await client.query('SELECT genesis_hash FROM ledger_genesis');
      expect(rows.rows).toEqual([{ genesis_hash: 'a'.repeat(64) }]);
    } finally {
      await client.end();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource, QueryRunner } from 'typeorm';
import { TableStatistics } from '../../src/ledger/adapters/postgres-statistics.js';
import { reserveTestDatabase } from '../support/environment.js';
import { openDatabase } from '../support/projection-harness.js';

/*
 * The planner's statistics of tables that grow from empty (TableStatistics): a table that
 * changed by more rows than it held at its last analysis is analysed, one that did not is left
 * alone; on a server with autovacuum off (as on these machines) nothing else would analyse it.
 * Each case has tables of its own, with autovacuum off for them, so nothing else analyses them.
 */
describe('table statistics kept by the application', () => {
  const database = reserveTestDatabase();
  let dataSource: DataSource;
  /** One connection for the writes and the flush of their counters (pg_stat_force_next_flush flushes its own). */
  let writer: QueryRunner;

  beforeAll(async () => {
    dataSource = await openDatabase(database.url);
    writer = dataSource.createQueryRunner();
    await writer.connect();
    for (const table of ['ledger_record', 'ledger_tile', 'ledger_entity_record']) {
      await writer.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
    }
  });

  afterAll(async () => {
    await writer.release();
    await dataSource.destroy();
    await database.drop();
  });

  async function reltuples(table: string): Promise<number> {
    const rows: { reltuples: number }[] = await dataSource.query('SELECT reltuples FROM pg_class WHERE relname = $1', [table]);
    return Number(rows[0]?.reltuples);
  }

  /** Writes rows, then waits until the statistics counters show at least `changed` changes since the last analysis. */
  async function write(sql: string, table: string, changed: number): Promise<void> {
    await writer.query(sql);
    await writer.query('SELECT pg_stat_force_next_flush()');
    for (let i = 0; i < 200; i++) {
      const rows: { n: string }[] = await dataSource.query(
        'SELECT n_mod_since_analyze AS n FROM pg_stat_user_tables WHERE relname = $1',
        [table],
      );
      if (Number(rows[0]?.n ?? 0) >= changed) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the counters of ${table} never showed ${changed} changes`);
  }

  const records = (from: number, to: number) =>
    `INSERT INTO ledger_record (ledger_id, partition, sequence, kafka_offset, bytes)
     SELECT 'stats', 0, n, n, '\\x00'::bytea FROM generate_series(${from}, ${to}) AS n`;

  it('analyses a table that grew past what it held, and only then', async () => {
    const statistics = new TableStatistics(dataSource, ['ledger_record', 'ledger_tile']);
    await write(records(0, 4999), 'ledger_record', 5000);
    await write(
      `INSERT INTO ledger_tile (ledger_id, partition, level, index, hashes)
       SELECT 'stats', 0, 0, n, decode(repeat('00', 32), 'hex') FROM generate_series(0, 9) AS n`,
      'ledger_tile',
      10,
    );
    expect(await reltuples('ledger_record')).toBeLessThan(1);

    // 5,000 rows changed, the table held none: due. The tiles changed by 10 only: not due.
    expect(await statistics.refresh()).toEqual(['ledger_record']);
    expect(await reltuples('ledger_record')).toBe(5000);
    // Nothing changed since: nothing to do.
    expect(await statistics.refresh()).toEqual([]);

    // Growing by less than it holds is left to the next time; by more, analysed again.
    await write(records(5000, 7999), 'ledger_record', 3000);
    expect(await statistics.refresh()).toEqual([]);
    await write(records(8000, 12999), 'ledger_record', 8000);
    expect(await statistics.refresh()).toEqual(['ledger_record']);
    expect(await reltuples('ledger_record')).toBe(13000);
  });

  it('refreshes in the background at most once an interval after writes', async () => {
    const statistics = new TableStatistics(dataSource, ['ledger_entity_record'], { intervalMs: 60_000 });
    const rows = (from: number, to: number) =>
      `INSERT INTO ledger_entity_record (ledger_id, partition, entity_id, sequence)
       SELECT 'stats', 0, 'e' || n, n FROM generate_series(${from}, ${to}) AS n`;
    await write(rows(0, 1999), 'ledger_entity_record', 2000);
    statistics.written();
    await statistics.settled();
    expect(await reltuples('ledger_entity_record')).toBe(2000);
    // Within the interval, a change is not looked at; asked directly, it is.
    await write(rows(2000, 9999), 'ledger_entity_record', 8000);
    statistics.written();
    await statistics.settled();
    expect(await reltuples('ledger_entity_record')).toBe(2000);
    expect(await statistics.refresh()).toEqual(['ledger_entity_record']);
  });

  it('takes table names only', () => {
    expect(() => new TableStatistics(dataSource, ['ledger_record; DROP TABLE products'])).toThrow('not a table name');
  });
});

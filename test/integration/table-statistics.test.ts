import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { TableStatistics } from '../../src/ledger/adapters/postgres-statistics.js';
import { reserveTestDatabase } from '../support/environment.js';
import { openDatabase } from '../support/projection-harness.js';

/*
 * The planner's statistics of tables that grow from empty (TableStatistics): a table that
 * changed by more rows than it held at its last analysis is analysed, one that did not is left
 * alone; on a server with autovacuum off (as on these machines) nothing else would analyse it.
 */
describe('table statistics kept by the application', () => {
  const database = reserveTestDatabase();
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await openDatabase(database.url);
    // This test's tables only: what autovacuum may do to them is what this test must not depend on.
    await dataSource.query('ALTER TABLE ledger_record SET (autovacuum_enabled = false)');
    await dataSource.query('ALTER TABLE ledger_tile SET (autovacuum_enabled = false)');
  });

  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  async function reltuples(table: string): Promise<number> {
    const rows: { reltuples: number }[] = await dataSource.query('SELECT reltuples FROM pg_class WHERE relname = $1', [table]);
    return Number(rows[0]?.reltuples);
  }

  /** pg_stat counters reach the catalog views shortly after a commit; the test waits for them. */
  async function modsSinceAnalyze(table: string): Promise<number> {
    await dataSource.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
    const rows: { n: string }[] = await dataSource.query(
      'SELECT n_mod_since_analyze AS n FROM pg_stat_user_tables WHERE relname = $1',
      [table],
    );
    return Number(rows[0]?.n ?? 0);
  }

  it('analyses a table that grew past what it held, and only then', async () => {
    const statistics = new TableStatistics(dataSource, ['ledger_record', 'ledger_tile']);
    await dataSource.query(
      `INSERT INTO ledger_record (ledger_id, partition, sequence, kafka_offset, bytes)
       SELECT 'stats', 0, n, n, '\\x00'::bytea FROM generate_series(0, 4999) AS n`,
    );
    await dataSource.query(
      `INSERT INTO ledger_tile (ledger_id, partition, level, index, hashes)
       SELECT 'stats', 0, 0, n, decode(repeat('00', 32), 'hex') FROM generate_series(0, 9) AS n`,
    );
    for (let i = 0; i < 100 && (await modsSinceAnalyze('ledger_record')) < 5000; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await reltuples('ledger_record')).toBeLessThan(1);

    // 5,000 rows changed, the table held none: due. The tiles changed by 10 only: not due.
    expect(await statistics.refresh()).toEqual(['ledger_record']);
    expect(await reltuples('ledger_record')).toBe(5000);
    // Nothing changed since: nothing to do.
    expect(await statistics.refresh()).toEqual([]);

    // Growing by less than it holds is left to the next time; by more, analysed again.
    await dataSource.query(
      `INSERT INTO ledger_record (ledger_id, partition, sequence, kafka_offset, bytes)
       SELECT 'stats', 0, n, n, '\\x00'::bytea FROM generate_series(5000, 7999) AS n`,
    );
    for (let i = 0; i < 100 && (await modsSinceAnalyze('ledger_record')) < 3000; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await statistics.refresh()).toEqual([]);
    await dataSource.query(
      `INSERT INTO ledger_record (ledger_id, partition, sequence, kafka_offset, bytes)
       SELECT 'stats', 0, n, n, '\\x00'::bytea FROM generate_series(8000, 12999) AS n`,
    );
    for (let i = 0; i < 100 && (await modsSinceAnalyze('ledger_record')) < 8000; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await statistics.refresh()).toEqual(['ledger_record']);
    expect(await reltuples('ledger_record')).toBe(13000);
  });

  it('refreshes in the background at most once an interval after writes', async () => {
    const statistics = new TableStatistics(dataSource, ['ledger_tile'], { intervalMs: 60_000 });
    const tiles = (from: number, to: number) =>
      dataSource.query(
        `INSERT INTO ledger_tile (ledger_id, partition, level, index, hashes)
         SELECT 'stats', 0, 1, n, decode(repeat('00', 32), 'hex') FROM generate_series($1::int, $2::int) AS n`,
        [from, to],
      );
    await tiles(0, 1999);
    for (let i = 0; i < 100 && (await modsSinceAnalyze('ledger_tile')) < 2010; i++) await new Promise((r) => setTimeout(r, 100));
    statistics.written();
    await statistics.settled();
    expect(await reltuples('ledger_tile')).toBe(2010);
    // Within the interval, a change is not looked at.
    await tiles(2000, 9999);
    for (let i = 0; i < 100 && (await modsSinceAnalyze('ledger_tile')) < 8000; i++) await new Promise((r) => setTimeout(r, 100));
    statistics.written();
    await statistics.settled();
    expect(await reltuples('ledger_tile')).toBe(2010);
    expect(await statistics.refresh()).toEqual(['ledger_tile']);
  });

  it('takes table names only', () => {
    expect(() => new TableStatistics(dataSource, ['ledger_record; DROP TABLE products'])).toThrow('not a table name');
  });
});

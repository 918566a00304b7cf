import type { DataSource } from 'typeorm';

/** Tables the planner is told about by name: letters, digits and underscores only (never input). */
const TABLE_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * Keeps PostgreSQL's planner statistics of tables that grow from empty to millions of rows.
 * Without them (a table never analysed, as on a server with autovacuum off, or right after a
 * bulk build) the planner guesses that `ledger_id = $1 AND partition = $2` matches a dozen rows
 * and reads every row of the partition to find a hundred by sequence: an attestation of a
 * 100-step product on a 100k-record ledger took 60 ms in one such statement instead of 0.8.
 *
 * After writes, at most once an interval and in the background, the tables that changed by more
 * rows than they held at their last analysis (and by 1,000 at least) are analysed. Autovacuum,
 * where it runs, analyses far sooner (after 10%): then this finds nothing to do. ANALYZE takes
 * no lock that blocks reads or writes. Tables this role may not analyse (it neither owns them
 * nor is a superuser) are left to autovacuum.
 */
export class TableStatistics {
  private running: Promise<unknown> | null = null;
  private checkedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly dataSource: DataSource,
    private readonly tables: readonly string[],
    private readonly options: { readonly intervalMs?: number; readonly onError?: (error: unknown) => void } = {},
  ) {
    const bad = tables.find((table) => !TABLE_NAME.test(table));
    if (bad !== undefined) throw new Error(`not a table name: ${bad}`);
  }

  /** Rows were written: refresh what is due, in the background, at most once an interval. */
  written(): void {
    const now = Date.now();
    if (this.running || now - this.checkedAt < (this.options.intervalMs ?? 10_000)) return;
    this.checkedAt = now;
    this.running = this.refresh()
      .catch((error: unknown) => {
        try {
          this.options.onError?.(error);
        } catch {
          // A report that fails is not the statistics' failure.
        }
      })
      .finally(() => {
        this.running = null;
      });
  }

  /** Waits for a refresh in the background, if any. */
  async settled(): Promise<void> {
    await this.running;
  }

  /** Analyses the tables due now; their names. */
  async refresh(): Promise<string[]> {
    if (!this.dataSource.isInitialized) return [];
    const due: { relname: string }[] = await this.dataSource.query(
      `SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
        WHERE s.schemaname = current_schema() AND s.relname = ANY($1::text[])
          AND s.n_mod_since_analyze > greatest(1000, c.reltuples)
          -- Only what this role may analyse: PostgreSQL would skip the others with a warning, every time.
          AND (pg_has_role(c.relowner, 'USAGE') OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user))`,
      [this.tables],
    );
    const names = due.map(({ relname }) => relname).filter((name) => this.tables.includes(name));
    for (const name of names) await this.dataSource.query(`ANALYZE ${name}`);
    return names;
  }
}

import type { DataSource, QueryRunner } from 'typeorm';
import type { StoredRecord } from '../ledger/ledger-record.js';
import { loadRows, type TableNames, writeRows, foldBatch, READ_MODEL, type ReadModelTableName } from '../projection/index.js';
import type { Finding } from './attestation.js';
import { type ProjectionPosition, ReadModelSource, type Row, rowDifference } from './read-model-check.js';

/** Where the audit's replay writes: temporary tables of the session, beside the real ones. */
const REPLAY_NAMES: TableNames = (table) => `audit_${table}`;

const TABLES = Object.keys(READ_MODEL) as ReadModelTableName[];

/** A differing row pair as the database finds it: the read model's row and the replay's. */
interface RowPair {
  readonly total: string;
  readonly found: Row | null;
  readonly expected: Row | null;
}

/**
 * A full audit's look at the read models (docs/attestation-format.md §6): the ledger replayed
 * through the projector's own fold and row writes into temporary tables, inside one REPEATABLE
 * READ transaction that also reads the read models. The snapshot is taken first, with the
 * projection's positions, and only the records before each position are replayed: both sides
 * then stand at the same point of the ledger, whatever the projector does meanwhile, and every
 * row of every table is compared, in the database, with nothing held in the process's memory.
 */
export class ReadModelReplay {
  private constructor(
    private readonly runner: QueryRunner,
    private readonly positions: Map<number, ProjectionPosition | null>,
  ) {}

  static async begin(dataSource: DataSource, ledgerId: string, partitions: number): Promise<ReadModelReplay> {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction('REPEATABLE READ');
      // The snapshot starts with the first statement: the positions are read in it.
      const source = new ReadModelSource(dataSource, ledgerId);
      const positions = new Map<number, ProjectionPosition | null>();
      for (let partition = 0; partition < partitions; partition++)
        positions.set(partition, await source.position(runner, partition));
      for (const table of TABLES) {
        await runner.query(`CREATE TEMPORARY TABLE ${REPLAY_NAMES(table)} (LIKE ${table} INCLUDING ALL) ON COMMIT DROP`);
      }
      return new ReadModelReplay(runner, positions);
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
      throw error;
    }
  }

  /** The projection's position of the partition in the snapshot (null: nothing projected). */
  position(partition: number): ProjectionPosition | null {
    return this.positions.get(partition) ?? null;
  }

  /** Projects verified records (all before the partition's position, in order) into the replay's tables. */
  async replay(partition: number, records: readonly StoredRecord[]): Promise<void> {
    if (records.length === 0) return;
    const ids = [...new Set(records.flatMap((stored) => stored.record.entities.map((entity) => entity.id)))];
    const changes = foldBatch(records, await loadRows(this.runner, REPLAY_NAMES, ids));
    await writeRows(this.runner, REPLAY_NAMES, partition, changes);
  }

  /** The rows the replay made of a partition, per table. */
  async rowsReplayed(partition: number): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of TABLES) {
      const [row] = (await this.runner.query(`SELECT count(*)::int AS n FROM ${REPLAY_NAMES(table)} WHERE partition = $1`, [
        partition,
      ])) as { n: number }[];
      counts[table] = row?.n ?? 0;
    }
    return counts;
  }

  /**
   * Every row of every read model held against the replay's: a row missing, a row too many, a
   * column that differs. At most `limit` findings per table; `omitted` counts the rest.
   */
  async compare(limit: number): Promise<{ findings: Finding[]; omitted: number }> {
    const findings: Finding[] = [];
    let omitted = 0;
    for (const name of TABLES) {
      const table = READ_MODEL[name];
      const on = table.key.map((column) => `r.${column} = e.${column}`).join(' AND ');
      const order = table.sequence ? `coalesce(r.${table.sequence}, e.${table.sequence}), ` : '';
      const pairs = (await this.runner.query(
        `SELECT count(*) OVER () AS total, to_jsonb(r) AS found, to_jsonb(e) AS expected
           FROM ${name} r FULL JOIN ${REPLAY_NAMES(name)} e ON ${on}
          WHERE to_jsonb(r) IS DISTINCT FROM to_jsonb(e)
          ORDER BY ${order}coalesce(r.partition, e.partition)
          LIMIT $1`,
        [limit],
      )) as RowPair[];
      omitted += Math.max(0, Number(pairs[0]?.total ?? 0) - pairs.length);
      for (const pair of pairs) findings.push(pairFinding(name, pair));
    }
    return { findings, omitted };
  }

  /** Ends the transaction, which drops the temporary tables; nothing was written to the read models. */
  async end(): Promise<void> {
    try {
      if (this.runner.isTransactionActive) await this.runner.rollbackTransaction();
    } finally {
      await this.runner.release();
    }
  }
}

function pairFinding(name: ReadModelTableName, { found, expected }: RowPair): Finding {
  const table = READ_MODEL[name];
  const row = (found ?? expected) as Row;
  const sequence = table.sequence === null ? null : Number(row[table.sequence]);
  const offset = row.kafka_offset;
  const entityId = ['product_id', 'entity_id', 'id', 'output_id']
    .map((column) => row[column])
    .find((id) => typeof id === 'string');
  const key = table.key.map((column) => `${column} ${String(row[column])}`).join(', ');
  const place = {
    source: 'read-model' as const,
    kind: 'read-model',
    partition: Number(row.partition),
    offset: typeof offset === 'number' || typeof offset === 'string' ? String(offset) : null,
    sequence,
    ...(typeof entityId === 'string' ? { entityId } : {}),
  };
  if (!expected) {
    return {
      ...place,
      field: name,
      expected: '(no row)',
      found: key,
      message: `the read model shows a ${name} row (${key}) the ledger's records do not make`,
    };
  }
  if (!found) {
    return {
      ...place,
      field: name,
      expected: key,
      found: '(no row)',
      message: `the read model lacks the ${name} row (${key}) the ledger's records make`,
    };
  }
  const difference = rowDifference(table, expected, found) ?? { field: name, expected: '(its row)', found: '(another row)' };
  return {
    ...place,
    field: difference.field,
    expected: difference.expected,
    found: difference.found,
    message: `the read model's ${difference.field} of the ${name} row (${key}) is not what the ledger's records say`,
  };
}

import type { DataSource, QueryRunner } from 'typeorm';
import { canonicalize } from '../ledger/canonical-json.js';
import type { StoredRecord } from '../ledger/ledger-record.js';
import { foldBatch, READ_MODEL, type ReadModelTable, type ReadModelTableName } from '../projection/index.js';
import type { Finding } from './attestation.js';

/**
 * The read models held against the ledger (docs/attestation-format.md §1.4 and §6). What a row
 * must hold is what the projector's own fold (projection/read-model-changes.ts) makes of the
 * records: one definition, so the projector and the verifier cannot disagree about the meaning
 * of a record, and every column of every row is compared. Rows are read in one snapshot with
 * the projection's position: the projector writes a batch's rows and its position in one
 * transaction, so no honest row of the snapshot stands at or past that position.
 */

/** A row as PostgreSQL gives it (to_jsonb) or as the fold makes it: column name to value. */
export type Row = Readonly<Record<string, unknown>>;

/** Where the projection of a partition stands, and what it says of the chain there. */
export interface ProjectionPosition {
  readonly nextSequence: number;
  readonly headHash: string | null;
  readonly treeSize: number;
  readonly treeNodes: readonly string[];
}

/** An entity's rows in every read model, read in one snapshot with the projection's position. */
export interface EntitySnapshot {
  /** The projection's next sequence for the partition (0: nothing projected). */
  readonly position: number;
  readonly rows: { readonly [T in ReadModelTableName]?: readonly Row[] };
}

/**
 * How each table's rows that concern one product are found, with $1 the product's id, $2 its
 * partition and $3 the sequences of its records in the ledger. The custody_events rows are those
 * of the product's records and those its entity_history rows point at, so that a row missing
 * from one table is not taken for a row missing from the other.
 */
const PRODUCT_ROWS: { readonly [T in ReadModelTableName]?: string } = {
  // One array of sequences, so that the primary key finds them (an OR with a subquery scans the table).
  custody_events: `partition = $2 AND sequence = ANY(ARRAY(
       SELECT unnest($3::bigint[]) UNION SELECT sequence FROM entity_history WHERE entity_id = $1 AND partition = $2))`,
  entity_history: 'entity_id = $1 AND partition = $2',
  products: 'id = $1',
  containment: 'product_id = $1',
  lineage: 'input_id = $1 OR output_id = $1',
};

/** Reads what the read models say, for the verifier to hold against the ledger. Reads only. */
export class ReadModelSource {
  constructor(
    private readonly dataSource: DataSource,
    private readonly ledgerId: string,
  ) {}

  /** The next sequence the projector will write for the partition (0: nothing projected). */
  async projectedTo(partition: number): Promise<number> {
    return (await this.position(this.dataSource, partition))?.nextSequence ?? 0;
  }

  /**
   * Every row of every read model that concerns the product, with the position, in one snapshot:
   * one statement, which PostgreSQL runs on one snapshot of the database (and one round trip);
   * `sequences` are those of the product's records in the ledger. One result row per read-model
   * row rather than one array per table (tens of kB in one string, parsed at once): the p50 of an
   * attestation at rest fell from about 12 to 9 ms (docs/PERFORMANCE.md#attestation-10m).
   */
  async productSnapshot(id: string, partition: number, sequences: readonly number[]): Promise<EntitySnapshot> {
    const tables = Object.entries(PRODUCT_ROWS) as [ReadModelTableName, string][];
    const selects = tables.map(
      ([table, where]) => `SELECT '${table}' AS "table", to_jsonb(t) AS "row" FROM ${table} t WHERE ${where}`,
    );
    const found = await this.dataSource.query<{ table: string; row: unknown }[]>(
      `${selects.join('\nUNION ALL ')}
       UNION ALL SELECT 'position', to_jsonb(next_sequence) FROM projection_position WHERE ledger_id = $4 AND partition = $2`,
      [id, partition, sequences, this.ledgerId],
    );
    const rows: { -readonly [T in ReadModelTableName]?: Row[] } = {};
    for (const [table] of tables) rows[table] = [];
    let position = 0;
    for (const { table, row } of found) {
      if (table === 'position') position = Number(row);
      else rows[table as ReadModelTableName]?.push(row as Row);
    }
    return { position, rows };
  }

  /** The projection's position of a partition as `reader` (the pool, or a snapshot's runner) sees it. */
  async position(reader: DataSource | QueryRunner, partition: number): Promise<ProjectionPosition | null> {
    const rows = (await reader.query(
      `SELECT next_sequence, head_hash, tree_size, tree_nodes FROM projection_position WHERE ledger_id = $1 AND partition = $2`,
      [this.ledgerId, partition],
    )) as { next_sequence: string; head_hash: string | null; tree_size: string; tree_nodes: string[] }[];
    const row = rows[0];
    return row
      ? {
          nextSequence: Number(row.next_sequence),
          headHash: row.head_hash,
          treeSize: Number(row.tree_size),
          treeNodes: row.tree_nodes,
        }
      : null;
  }
}

/** A column's value in the one form both sides are compared in. */
function comparable(kind: string, value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (kind) {
    case 'time':
      return String(typeof value === 'string' ? Date.parse(value) : Number.NaN);
    case 'number':
      return String(Number(value));
    case 'json':
    case 'texts':
      return canonicalize(value);
    default:
      return typeof value === 'string' ? JSON.stringify(value) : canonicalize(value);
  }
}

/**
 * Whether two values are the same without serialising them (most columns agree, and an
 * attestation compares some thousand values): true only where their comparable forms are equal
 * too; false may still be equal in that form (a time written two ways), which `comparable` says.
 */
function same(kind: string, want: unknown, have: unknown): boolean {
  if (kind === 'json' || kind === 'texts') return sameJson(want ?? null, have ?? null);
  if (kind === 'time' && typeof want === 'string' && typeof have === 'string') {
    const at = Date.parse(want);
    return !Number.isNaN(at) && at === Date.parse(have);
  }
  return want === have && want !== undefined && (typeof want !== 'number' || Number.isFinite(want));
}

/** Whether two JSON values are equal member by member (the canonical forms of equal values are equal). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return a !== undefined && (typeof a !== 'number' || Number.isFinite(a));
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  let members = 0;
  for (const key in left) {
    members += 1;
    if (!Object.hasOwn(right, key) || !sameJson(left[key], right[key])) return false;
  }
  return members === Object.keys(right).length;
}

/** A value as a finding shows it. */
function shown(value: unknown): string {
  if (value === undefined) return '(absent)';
  return typeof value === 'string' ? value : canonicalize(value ?? null);
}

/**
 * The first column (for a JSON column, its first member) in which a row differs from the row
 * the ledger's records fold to, with both values; null when they agree.
 */
export function rowDifference(
  table: ReadModelTable,
  expected: Row,
  found: Row,
): { field: string; expected: string; found: string } | null {
  for (const column of table.columns) {
    const want = expected[column.name];
    const have = found[column.name];
    if (same(column.kind, want, have) || comparable(column.kind, want) === comparable(column.kind, have)) continue;
    if (column.kind === 'json' && isObject(want) && isObject(have)) {
      const members = [...new Set([...Object.keys(want), ...Object.keys(have)])].sort();
      const member = members.find((key) => comparable('json', want[key] ?? null) !== comparable('json', have[key] ?? null));
      if (member !== undefined) {
        const json = (value: unknown) => (value === undefined ? '(absent)' : canonicalize(value));
        return { field: `${table.name}.${column.name}.${member}`, expected: json(want[member]), found: json(have[member]) };
      }
    }
    return { field: `${table.name}.${column.name}`, expected: shown(want ?? null), found: shown(have ?? null) };
  }
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A row's key, as text. */
export function rowKey(table: ReadModelTable, row: Row): string {
  return table.key
    .map((column) => comparable(table.columns.find((c) => c.name === column)?.kind ?? 'text', row[column]))
    .join('|');
}

/** What the ledger says of the read models' rows that concern one product: its records folded by the projector's fold. */
export function expectedProductRows(
  id: string,
  history: readonly StoredRecord[],
): { readonly [T in ReadModelTableName]?: Row[] } {
  // The attestation holds the custody tables below against the records; the EPCIS tables are the full audit's (read-model-replay.ts).
  const changes = foldBatch(history, { products: new Map(), shipments: new Map() }, { epcis: false });
  const product = changes.products.get(id);
  return {
    custody_events: changes.events,
    entity_history: changes.history.filter((row) => row.entity_id === id) as unknown as Row[],
    products: product ? [product as unknown as Row] : [],
    containment: changes.packings.filter((row) => row.product_id === id) as unknown as Row[],
    lineage: changes.lineage.filter((row) => row.input_id === id || row.output_id === id),
  };
}

/** Where in the ledger a row stands, for its finding: the record at its sequence. */
export type RecordAt = (sequence: number) => StoredRecord | undefined;

/**
 * Holds rows against the rows the ledger folds to, table by table: a row missing, a row too
 * many, a column that differs. Rows at or past `position` cannot be in a snapshot taken with
 * it (the projector writes rows and position together): such a row is a finding too.
 */
export function rowFindings(
  tableName: ReadModelTableName,
  expected: readonly Row[],
  found: readonly Row[],
  context: { partition: number; position: number; entityId?: string; recordAt: RecordAt },
): Finding[] {
  const table = READ_MODEL[tableName];
  const findings: Finding[] = [];
  const sequenceOf = (row: Row) => (table.sequence === null ? -1 : Number(row[table.sequence]));
  const finding = (row: Row, field: string, want: string, have: string, message: string): Finding => {
    const sequence = sequenceOf(row);
    const stored = context.recordAt(sequence);
    return {
      source: 'read-model',
      kind: 'read-model',
      partition: context.partition,
      offset: stored?.offset ?? null,
      sequence: Number.isFinite(sequence) ? sequence : null,
      ...(context.entityId === undefined ? {} : { entityId: context.entityId }),
      field,
      expected: want,
      found: have,
      message,
    };
  };
  const wanted = new Map(expected.filter((row) => sequenceOf(row) < context.position).map((row) => [rowKey(table, row), row]));
  for (const row of found) {
    const key = rowKey(table, row);
    const want = wanted.get(key);
    wanted.delete(key);
    if (sequenceOf(row) >= context.position) {
      findings.push(
        finding(
          row,
          `${table.name}.${String(table.sequence)}`,
          `below ${context.position}, the projection's position`,
          String(sequenceOf(row)),
          `the read model shows a ${table.name} row at a sequence the projection has not reached`,
        ),
      );
    } else if (!want) {
      findings.push(
        finding(row, table.name, '(no row)', key, `the read model shows a ${table.name} row the ledger's records do not make`),
      );
    } else {
      const difference = rowDifference(table, want, row);
      if (difference) {
        findings.push(
          finding(
            row,
            difference.field,
            difference.expected,
            difference.found,
            `the read model's ${difference.field} is not what the ledger's records say`,
          ),
        );
      }
    }
  }
  for (const [key, row] of wanted) {
    findings.push(
      finding(row, table.name, key, '(no row)', `the read model lacks a ${table.name} row the ledger's records make`),
    );
  }
  return findings;
}

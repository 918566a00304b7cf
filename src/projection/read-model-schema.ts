/**
 * The read models' tables as the code knows them (the SQL is in migrations/): their columns and
 * types, their keys, and the ledger sequence each row stands at. One description for the
 * projector, which writes them, and for the verifier, which holds them against the ledger.
 */

/** How a column's value is compared: as text, as a number, as an instant, as canonical JSON, as a list of text. */
export type ColumnKind = 'text' | 'number' | 'time' | 'json' | 'texts';

export interface Column {
  readonly name: string;
  /** The SQL type, as jsonb_to_recordset declares it. */
  readonly sql: string;
  readonly kind: ColumnKind;
}

export interface ReadModelTable {
  readonly name: ReadModelTableName;
  readonly columns: readonly Column[];
  /** The columns that name a row (its primary key). */
  readonly key: readonly string[];
  /**
   * The column holding the sequence of the last record that wrote the row: rows at or past the
   * projection's position cannot exist. None for the projector's own bookkeeping.
   */
  readonly sequence: string | null;
}

export type ReadModelTableName =
  | 'custody_events'
  | 'entity_history'
  | 'products'
  | 'shipments'
  | 'containment'
  | 'lineage'
  | 'checkpoints'
  | 'projection_entity_heads';

const text = (name: string): Column => ({ name, sql: 'text', kind: 'text' });
const integer = (name: string, sql = 'bigint'): Column => ({ name, sql, kind: 'number' });
const time = (name: string): Column => ({ name, sql: 'timestamptz', kind: 'time' });
const json = (name: string): Column => ({ name, sql: 'jsonb', kind: 'json' });

export const READ_MODEL: { readonly [T in ReadModelTableName]: ReadModelTable } = {
  custody_events: {
    name: 'custody_events',
    columns: [
      integer('partition', 'integer'),
      integer('sequence'),
      integer('kafka_offset'),
      text('record_hash'),
      { name: 'event_id', sql: 'uuid', kind: 'text' },
      text('event_type'),
      time('occurred_at'),
      text('occurred_at_text'),
      time('recorded_at'),
      text('actor'),
      text('subject'),
      { name: 'entity_ids', sql: 'text[]', kind: 'texts' },
      json('payload'),
    ],
    key: ['partition', 'sequence'],
    sequence: 'sequence',
  },
  entity_history: {
    name: 'entity_history',
    columns: [
      text('entity_id'),
      integer('partition', 'integer'),
      integer('sequence'),
      time('occurred_at'),
      text('event_type'),
      { name: 'parties', sql: 'text[]', kind: 'texts' },
      text('via'),
      text('previous_hash'),
    ],
    key: ['entity_id', 'partition', 'sequence'],
    sequence: 'sequence',
  },
  products: {
    name: 'products',
    columns: [
      text('id'),
      text('gtin'),
      text('serial'),
      text('lot'),
      text('name'),
      json('attributes'),
      text('owner'),
      text('origin'),
      time('commissioned_at'),
      text('status'),
      text('reason'),
      text('holder'),
      text('location'),
      text('shipment'),
      integer('partition', 'integer'),
      integer('last_sequence'),
      { name: 'quantity', sql: 'numeric', kind: 'number' },
      text('uom'),
    ],
    key: ['id'],
    sequence: 'last_sequence',
  },
  shipments: {
    name: 'shipments',
    columns: [
      text('id'),
      text('sscc'),
      text('owner'),
      text('origin'),
      text('destination'),
      text('consignee'),
      time('created_at'),
      text('status'),
      text('holder'),
      text('location'),
      integer('partition', 'integer'),
      integer('last_sequence'),
    ],
    key: ['id'],
    sequence: 'last_sequence',
  },
  containment: {
    name: 'containment',
    columns: [
      text('shipment_id'),
      text('product_id'),
      integer('packed_sequence'),
      time('packed_at'),
      integer('unpacked_sequence'),
      time('unpacked_at'),
      integer('partition', 'integer'),
    ],
    key: ['shipment_id', 'product_id', 'packed_sequence'],
    sequence: 'packed_sequence',
  },
  lineage: {
    name: 'lineage',
    columns: [text('input_id'), text('output_id'), integer('partition', 'integer'), integer('sequence'), time('occurred_at')],
    key: ['input_id', 'output_id', 'partition', 'sequence'],
    sequence: 'sequence',
  },
  checkpoints: {
    name: 'checkpoints',
    columns: [
      integer('partition', 'integer'),
      integer('tree_size'),
      text('root_hash'),
      text('head_hash'),
      text('signed_at'),
      json('note'),
      integer('kafka_offset'),
    ],
    key: ['partition', 'tree_size'],
    // A checkpoint's sequence is its tree size.
    sequence: 'tree_size',
  },
  // The projector's own bookkeeping: each entity's last record hash, which it resumes verifying with.
  projection_entity_heads: {
    name: 'projection_entity_heads',
    columns: [integer('partition', 'integer'), text('entity_id'), text('record_hash')],
    key: ['partition', 'entity_id'],
    sequence: null,
  },
};

/** `(a, b, …)`: the columns of a table, for an INSERT. */
export function columnList(table: ReadModelTable): string {
  return table.columns.map((column) => column.name).join(', ');
}

/** `x(a text, b bigint, …)`: the record type jsonb_to_recordset reads the table's rows as. */
export function recordType(table: ReadModelTable, alias = 'x'): string {
  return `${alias}(${table.columns.map((column) => `${column.name} ${column.sql}`).join(', ')})`;
}

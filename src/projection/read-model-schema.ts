import type { ContainmentRow, LineageRow, ProductRow, ShipmentRow } from '../custody/events/index.js';
import type { EpcisEventRow, EpcisIdentifierRow } from '../epcis/epcis-event-rows.js';
import type { CheckpointRow, CustodyEventRow, HistoryRow } from './read-model-changes.js';

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
  | 'epcis_events'
  | 'epcis_event_ids'
  | 'projection_entity_heads';

/** A column of a given name, by its SQL type. */
type ColumnOf = (name: string) => Column;

const text: ColumnOf = (name) => ({ name, sql: 'text', kind: 'text' });
const uuid: ColumnOf = (name) => ({ name, sql: 'uuid', kind: 'text' });
const int: ColumnOf = (name) => ({ name, sql: 'integer', kind: 'number' });
const bigint: ColumnOf = (name) => ({ name, sql: 'bigint', kind: 'number' });
const numeric: ColumnOf = (name) => ({ name, sql: 'numeric', kind: 'number' });
const time: ColumnOf = (name) => ({ name, sql: 'timestamptz', kind: 'time' });
const json: ColumnOf = (name) => ({ name, sql: 'jsonb', kind: 'json' });
const texts: ColumnOf = (name) => ({ name, sql: 'text[]', kind: 'texts' });
const bool: ColumnOf = (name) => ({ name, sql: 'boolean', kind: 'json' });

/**
 * A table whose rows are `Row`s: one column for each member of the row type, in this order, so
 * a column the row types gain (or lose) and the table do not fails to compile.
 */
function table<Row>(
  name: ReadModelTableName,
  columns: { readonly [C in keyof Row & string]-?: ColumnOf },
  key: readonly (keyof Row & string)[],
  sequence: (keyof Row & string) | null,
): ReadModelTable {
  return {
    name,
    columns: Object.entries<ColumnOf>(columns).map(([column, of]) => of(column)),
    key,
    sequence,
  };
}

export const READ_MODEL: { readonly [T in ReadModelTableName]: ReadModelTable } = {
  custody_events: table<CustodyEventRow>(
    'custody_events',
    {
      partition: int,
      sequence: bigint,
      kafka_offset: bigint,
      record_hash: text,
      event_id: uuid,
      event_type: text,
      occurred_at: time,
      occurred_at_text: text,
      recorded_at: time,
      actor: text,
      subject: text,
      entity_ids: texts,
      payload: json,
    },
    ['partition', 'sequence'],
    'sequence',
  ),
  entity_history: table<HistoryRow>(
    'entity_history',
    {
      entity_id: text,
      partition: int,
      sequence: bigint,
      occurred_at: time,
      event_type: text,
      parties: texts,
      via: text,
      previous_hash: text,
    },
    ['entity_id', 'partition', 'sequence'],
    'sequence',
  ),
  products: table<ProductRow>(
    'products',
    {
      id: text,
      gtin: text,
      serial: text,
      lot: text,
      name: text,
      attributes: json,
      owner: text,
      origin: text,
      commissioned_at: time,
      status: text,
      reason: text,
      holder: text,
      location: text,
      shipment: text,
      partition: int,
      last_sequence: bigint,
      quantity: numeric,
      uom: text,
    },
    ['id'],
    'last_sequence',
  ),
  shipments: table<ShipmentRow>(
    'shipments',
    {
      id: text,
      sscc: text,
      owner: text,
      origin: text,
      destination: text,
      consignee: text,
      created_at: time,
      status: text,
      holder: text,
      location: text,
      partition: int,
      last_sequence: bigint,
    },
    ['id'],
    'last_sequence',
  ),
  containment: table<ContainmentRow>(
    'containment',
    {
      shipment_id: text,
      product_id: text,
      packed_sequence: bigint,
      packed_at: time,
      unpacked_sequence: bigint,
      unpacked_at: time,
      partition: int,
    },
    ['shipment_id', 'product_id', 'packed_sequence'],
    'packed_sequence',
  ),
  lineage: table<LineageRow>(
    'lineage',
    { input_id: text, output_id: text, partition: int, sequence: bigint, occurred_at: time },
    ['input_id', 'output_id', 'partition', 'sequence'],
    'sequence',
  ),
  checkpoints: table<CheckpointRow>(
    'checkpoints',
    {
      partition: int,
      tree_size: bigint,
      root_hash: text,
      head_hash: text,
      signed_at: text,
      note: json,
      kafka_offset: bigint,
    },
    ['partition', 'tree_size'],
    // A checkpoint's sequence is its tree size.
    'tree_size',
  ),
  // The EPCIS query's rows (src/epcis/epcis-event-rows.ts), at the position of the record that carries the event.
  epcis_events: table<EpcisEventRow>(
    'epcis_events',
    {
      partition: int,
      sequence: bigint,
      event_id: text,
      record_event_id: uuid,
      event_type: text,
      event_time: time,
      record_time: time,
      action: text,
      biz_step: text,
      disposition: text,
      read_point: text,
      biz_location: text,
      error_declaration: bool,
      event: json,
    },
    ['partition', 'sequence'],
    'sequence',
  ),
  epcis_event_ids: table<EpcisIdentifierRow>(
    'epcis_event_ids',
    { partition: int, sequence: bigint, role: text, identifier: text },
    ['partition', 'sequence', 'role', 'identifier'],
    'sequence',
  ),
  // The projector's own bookkeeping: each entity's last record hash, which it resumes verifying with.
  projection_entity_heads: table<{ partition: number; entity_id: string; record_hash: string }>(
    'projection_entity_heads',
    { partition: int, entity_id: text, record_hash: text },
    ['partition', 'entity_id'],
    null,
  ),
};

/** `(a, b, …)`: the columns of a table, for an INSERT. */
export function columnList(table: ReadModelTable): string {
  return table.columns.map((column) => column.name).join(', ');
}

/** `x(a text, b bigint, …)`: the record type jsonb_to_recordset reads the table's rows as. */
export function recordType(table: ReadModelTable, alias = 'x'): string {
  return `${alias}(${table.columns.map((column) => `${column.name} ${column.sql}`).join(', ')})`;
}

/**
 * `a, to_json(b) #>> '{}' AS "b", c::float8 AS "c", …`: a table's columns as rows are read back,
 * instants as PostgreSQL writes them in JSON and bigints and numerics as JavaScript numbers, each
 * under the name `as` gives it (its own by default).
 */
export function selectList(table: ReadModelTable, as: (column: string) => string = (column) => column): string {
  return table.columns
    .map(({ name, sql, kind }) => {
      const value =
        kind === 'time' ? `to_json(${name}) #>> '{}'` : kind === 'number' && sql !== 'integer' ? `${name}::float8` : name;
      return value === name && as(name) === name ? name : `${value} AS "${as(name)}"`;
    })
    .join(', ');
}

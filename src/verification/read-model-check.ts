import type { DataSource } from 'typeorm';
import { canonicalize } from '../ledger/canonical-json.js';
import type { StoredRecord } from '../ledger/ledger-record.js';
import type { Finding } from './attestation.js';

/** A custody_events row as the verifier reads it back, with the entity_history row of one entity. */
export interface EventRow {
  readonly partition: number;
  readonly sequence: number;
  readonly kafka_offset: string;
  readonly record_hash: string;
  readonly event_id: string;
  readonly event_type: string;
  readonly occurred_at_text: string;
  /** recorded_at as epoch milliseconds. */
  readonly recorded_at_ms: number;
  readonly actor: string;
  readonly subject: string;
  readonly entity_ids: string[];
  readonly payload: Record<string, unknown>;
  /** entity_history.previous_hash of the entity the rows were read for, when they were. */
  readonly history_previous_hash?: string | null;
  readonly history_event_type?: string;
}

/** The products row of a product: what the read model says of it now. */
export interface ProductStateRow {
  readonly status: string;
  readonly holder: string;
  readonly location: string;
  readonly shipment: string | null;
}

const EVENT_COLUMNS = `e.partition, e.sequence::int AS sequence, e.kafka_offset::text AS kafka_offset, e.record_hash,
  e.event_id::text AS event_id, e.event_type, e.occurred_at_text,
  (extract(epoch FROM e.recorded_at) * 1000)::float8 AS recorded_at_ms, e.actor, e.subject, e.entity_ids, e.payload`;

/** Reads what the read models say, for the verifier to hold against the ledger. Reads only. */
export class ReadModelSource {
  constructor(
    private readonly dataSource: DataSource,
    private readonly ledgerId: string,
  ) {}

  /** The next sequence the projector will write for the partition (0: nothing projected). */
  async projectedTo(partition: number): Promise<number> {
    const rows: { next_sequence: string }[] = await this.dataSource.query(
      'SELECT next_sequence FROM projection_position WHERE ledger_id = $1 AND partition = $2',
      [this.ledgerId, partition],
    );
    return rows[0] ? Number(rows[0].next_sequence) : 0;
  }

  /** Every step in the entity's history, in chain order, with its entity_history row. */
  async historyOf(entityId: string, partition: number): Promise<EventRow[]> {
    return this.dataSource.query(
      `SELECT ${EVENT_COLUMNS}, h.previous_hash AS history_previous_hash, h.event_type AS history_event_type
         FROM entity_history h JOIN custody_events e ON e.partition = h.partition AND e.sequence = h.sequence
        WHERE h.entity_id = $1 AND h.partition = $2
        ORDER BY h.sequence`,
      [entityId, partition],
    );
  }

  async product(id: string): Promise<ProductStateRow | undefined> {
    const rows: ProductStateRow[] = await this.dataSource.query(
      'SELECT status, holder, location, shipment FROM products WHERE id = $1',
      [id],
    );
    return rows[0];
  }

  /** custody_events rows of a partition with sequence in [from, to), in order. */
  async events(partition: number, from: number, to: number): Promise<EventRow[]> {
    return this.dataSource.query(
      `SELECT ${EVENT_COLUMNS} FROM custody_events e
        WHERE e.partition = $1 AND e.sequence >= $2 AND e.sequence < $3 ORDER BY e.sequence`,
      [partition, from, to],
    );
  }

  /** Every products row's state in a partition, keyed by id, for a full audit. */
  async products(partition: number): Promise<Map<string, ProductStateRow>> {
    const rows: (ProductStateRow & { id: string })[] = await this.dataSource.query(
      'SELECT id, status, holder, location, shipment FROM products WHERE partition = $1',
      [partition],
    );
    return new Map(rows.map(({ id, ...state }) => [id, state]));
  }
}

function readModelFinding(
  stored: StoredRecord,
  entityId: string | undefined,
  field: string,
  expected: unknown,
  found: unknown,
  message: string,
): Finding {
  return {
    source: 'read-model',
    kind: 'read-model',
    partition: stored.partition,
    offset: stored.offset,
    sequence: stored.record.sequence,
    ...(entityId === undefined ? {} : { entityId }),
    field,
    expected: typeof expected === 'string' ? expected : JSON.stringify(expected),
    found: typeof found === 'string' ? found : JSON.stringify(found),
    message,
  };
}

/**
 * How a custody_events row differs from the ledger record it projects: the first column (and,
 * for the payload, the first member) that does not say what the record says, or null.
 */
export function eventRowDifference(stored: StoredRecord, row: EventRow, entityId?: string): Finding | null {
  const { record } = stored;
  const differ = (field: string, expected: unknown, found: unknown): Finding =>
    readModelFinding(stored, entityId, field, expected, found, `the read model's ${field} is not what the ledger record says`);
  const ids = record.entities.map((entity) => entity.id);
  const columns: [string, unknown, unknown][] = [
    ['custody_events.kafka_offset', stored.offset, row.kafka_offset],
    ['custody_events.record_hash', stored.hash, row.record_hash],
    ['custody_events.event_id', record.eventId, row.event_id],
    ['custody_events.event_type', record.eventType, row.event_type],
    ['custody_events.occurred_at_text', record.occurredAt, row.occurred_at_text],
    ['custody_events.recorded_at', Date.parse(record.recordedAt), row.recorded_at_ms],
    ['custody_events.actor', record.actor, row.actor],
    ['custody_events.subject', ids[0], row.subject],
    ['custody_events.entity_ids', ids.join(' '), row.entity_ids.join(' ')],
  ];
  for (const [field, expected, found] of columns) {
    if (expected !== found) return differ(field, expected, found);
  }
  const keys = [...new Set([...Object.keys(record.payload), ...Object.keys(row.payload)])].sort();
  for (const key of keys) {
    const expected = key in record.payload ? canonicalize(record.payload[key]) : '(absent)';
    const found = key in row.payload ? canonicalize(row.payload[key]) : '(absent)';
    if (expected !== found) return differ(`custody_events.payload.${key}`, expected, found);
  }
  if (entityId !== undefined) {
    const link = record.entities.find((entity) => entity.id === entityId);
    if (row.history_event_type !== undefined && row.history_event_type !== record.eventType) {
      return differ('entity_history.event_type', record.eventType, row.history_event_type);
    }
    if (row.history_previous_hash !== undefined && (link?.previousHash ?? null) !== row.history_previous_hash) {
      return differ('entity_history.previous_hash', link?.previousHash ?? null, row.history_previous_hash);
    }
  }
  return null;
}

/**
 * Holds an entity's history in the read model against its records in the ledger: the same
 * steps, in the same order, saying the same. Records at or past `projectedTo` are not projected
 * yet (reported apart, as the read model being behind rather than wrong).
 */
export function historyDifferences(
  entityId: string,
  partition: number,
  records: readonly StoredRecord[],
  rows: readonly EventRow[],
  projectedTo: number,
): Finding[] {
  const findings: Finding[] = [];
  const bySequence = new Map(rows.map((row) => [row.sequence, row]));
  const expected = new Set<number>();
  for (const stored of records) {
    const sequence = stored.record.sequence;
    if (sequence >= projectedTo) {
      findings.push({
        source: 'read-model',
        kind: 'read-model-behind',
        partition,
        offset: stored.offset,
        sequence,
        entityId,
        expected: `projected past sequence ${sequence}`,
        found: `projected up to sequence ${projectedTo - 1}`,
        message: 'the read model has not projected this step yet',
      });
      break;
    }
    expected.add(sequence);
    const row = bySequence.get(sequence);
    const difference = row
      ? eventRowDifference(stored, row, entityId)
      : readModelFinding(stored, entityId, 'entity_history', stored.hash, '(no row)', 'the read model lacks this step');
    if (difference) findings.push(difference);
  }
  for (const row of rows) {
    if (row.sequence < projectedTo && !expected.has(row.sequence)) {
      findings.push({
        source: 'read-model',
        kind: 'read-model',
        partition,
        offset: row.kafka_offset,
        sequence: row.sequence,
        entityId,
        field: 'entity_history',
        expected: '(no row)',
        found: row.record_hash,
        message: 'the read model shows a step that is not in the ledger history of this entity',
      });
    }
  }
  return findings;
}

/** Holds the products row against the product's state folded from its ledger records. */
export function productStateDifference(
  entityId: string,
  last: StoredRecord,
  state: ProductStateRow | undefined,
  row: ProductStateRow | undefined,
): Finding | null {
  if (!state) return null;
  if (!row) return readModelFinding(last, entityId, 'products', 'a row', '(no row)', 'the read model lacks the product');
  for (const column of ['status', 'holder', 'location', 'shipment'] as const) {
    if (state[column] !== row[column]) {
      return readModelFinding(
        last,
        entityId,
        `products.${column}`,
        state[column],
        row[column],
        `the read model's products.${column} is not what the ledger's records of the product add up to`,
      );
    }
  }
  return null;
}

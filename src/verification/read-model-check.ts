import type { DataSource } from 'typeorm';
import { canonicalize } from '../ledger/canonical-json.js';
import type { EntityStateModel, StoredRecord } from '../ledger/ledger-record.js';
import { CUSTODY_EVENTS, type ProductState } from '../custody/custody-state.js';
import { type HistoryRow, historyRowsOf } from '../projection/read-model-changes.js';
import type { Finding } from './attestation.js';

/** A custody_events row as the verifier reads it back, with the entity_history row of one entity. */
export interface EventRow {
  readonly partition: number;
  readonly sequence: number;
  readonly kafka_offset: string;
  /** Null when the entity_history row has no custody_events row (historyOf joins them). */
  readonly record_hash: string | null;
  readonly event_id: string;
  readonly event_type: string;
  readonly occurred_at_text: string;
  /** occurred_at (what the history filters on) as epoch milliseconds. */
  readonly occurred_at_ms: number;
  /** recorded_at as epoch milliseconds. */
  readonly recorded_at_ms: number;
  readonly actor: string;
  readonly subject: string;
  readonly entity_ids: string[];
  readonly payload: Record<string, unknown>;
  /** The entity_history row of the entity the rows were read for, when they were. */
  readonly history?: HistoryDbRow;
}

/** An entity_history row as the verifier reads it back. */
export interface HistoryDbRow {
  readonly entity_id: string;
  readonly sequence: number;
  readonly event_type: string;
  readonly occurred_at_ms: number;
  readonly parties: string[];
  readonly via: string | null;
  readonly previous_hash: string | null;
}

/** The products row of a product: what the read model says of it now. */
export interface ProductStateRow {
  readonly status: string;
  readonly holder: string;
  readonly location: string;
  readonly shipment: string | null;
  readonly owner: string;
  readonly origin: string;
  readonly name: string | null;
  /** attributes as canonical JSON, or null. */
  readonly attributes: string | null;
  readonly reason: string | null;
  /** The last sequence the projector changed the row at. */
  readonly last_sequence: number;
}

const PRODUCT_COLUMNS = `status, holder, location, shipment, owner, origin, name, attributes, reason, last_sequence::int AS last_sequence`;
const HISTORY_COLUMNS = `h.entity_id, h.sequence::int AS sequence, h.event_type,
  (extract(epoch FROM h.occurred_at) * 1000)::float8 AS occurred_at_ms, h.parties, h.via, h.previous_hash`;

const EVENT_COLUMNS = `e.partition, e.sequence::int AS sequence, e.kafka_offset::text AS kafka_offset, e.record_hash,
  e.event_id::text AS event_id, e.event_type, e.occurred_at_text,
  (extract(epoch FROM e.occurred_at) * 1000)::float8 AS occurred_at_ms,
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
    const rows: (EventRow & { history: undefined; h: HistoryDbRow })[] = await this.dataSource.query(
      `SELECT ${EVENT_COLUMNS}, json_build_object('entity_id', h.entity_id, 'sequence', h.sequence, 'event_type', h.event_type,
              'occurred_at_ms', (extract(epoch FROM h.occurred_at) * 1000)::float8, 'parties', h.parties, 'via', h.via,
              'previous_hash', h.previous_hash) AS h
         FROM entity_history h LEFT JOIN custody_events e ON e.partition = h.partition AND e.sequence = h.sequence
        WHERE h.entity_id = $1 AND h.partition = $2
        ORDER BY h.sequence`,
      [entityId, partition],
    );
    return rows.map(({ h, ...row }) => ({ ...row, sequence: h.sequence, history: h }));
  }

  async product(id: string): Promise<ProductStateRow | undefined> {
    const rows: ProductStateRow[] = await this.dataSource.query(`SELECT ${PRODUCT_COLUMNS} FROM products WHERE id = $1`, [id]);
    return rows[0] && canonicalAttributes(rows[0]);
  }

  /** entity_history rows of a partition with sequence in [from, to). */
  async historyRows(partition: number, from: number, to: number): Promise<HistoryDbRow[]> {
    return this.dataSource.query(
      `SELECT ${HISTORY_COLUMNS} FROM entity_history h
        WHERE h.partition = $1 AND h.sequence >= $2 AND h.sequence < $3 ORDER BY h.sequence`,
      [partition, from, to],
    );
  }

  /** custody_events rows of a partition with sequence in [from, to), in order. */
  async events(partition: number, from: number, to: number): Promise<EventRow[]> {
    return this.dataSource.query(
      `SELECT ${EVENT_COLUMNS} FROM custody_events e
        WHERE e.partition = $1 AND e.sequence >= $2 AND e.sequence < $3 ORDER BY e.sequence`,
      [partition, from, to],
    );
  }

  /** Every products row in a partition, keyed by id, for a full audit. */
  async products(partition: number): Promise<Map<string, ProductStateRow>> {
    const rows: (ProductStateRow & { id: string })[] = await this.dataSource.query(
      `SELECT id, ${PRODUCT_COLUMNS} FROM products WHERE partition = $1`,
      [partition],
    );
    return new Map(rows.map(({ id, ...state }) => [id, canonicalAttributes(state)]));
  }
}

function canonicalAttributes(row: ProductStateRow): ProductStateRow {
  return { ...row, attributes: row.attributes === null ? null : canonicalize(row.attributes) };
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
    ['custody_events.occurred_at', Date.parse(record.occurredAt), row.occurred_at_ms],
    ['custody_events.recorded_at', Date.parse(record.recordedAt), row.recorded_at_ms],
    ['custody_events.actor', record.actor, row.actor],
    ['custody_events.subject', ids[0], row.subject],
    ['custody_events.entity_ids', ids.join(' '), (row.entity_ids as string[] | null)?.join(' ')],
  ];
  for (const [field, expected, found] of columns) {
    if (expected !== found) return differ(field, expected, found);
  }
  const payload = (row.payload as Record<string, unknown> | null) ?? {};
  const keys = [...new Set([...Object.keys(record.payload), ...Object.keys(payload)])].sort();
  for (const key of keys) {
    const expected = key in record.payload ? canonicalize(record.payload[key]) : '(absent)';
    const found = key in payload ? canonicalize(payload[key]) : '(absent)';
    if (expected !== found) return differ(`custody_events.payload.${key}`, expected, found);
  }
  if (entityId !== undefined && row.history) {
    const expected = historyRowsOf(record).find((history) => history.entity_id === entityId);
    if (expected) return historyRowDifference(stored, expected, row.history);
  }
  return null;
}

/** How an entity_history row differs from the row the record projects to, or null. */
export function historyRowDifference(stored: StoredRecord, expected: HistoryRow, row: HistoryDbRow | undefined): Finding | null {
  const entityId = expected.entity_id;
  if (!row) {
    return readModelFinding(
      stored,
      entityId,
      'entity_history',
      stored.hash,
      '(no row)',
      'the read model lacks this step of the entity',
    );
  }
  const columns: [string, unknown, unknown][] = [
    ['event_type', expected.event_type, row.event_type],
    ['occurred_at', Date.parse(expected.occurred_at), row.occurred_at_ms],
    ['parties', [...expected.parties].sort().join(' '), [...row.parties].sort().join(' ')],
    ['via', expected.via, row.via],
    ['previous_hash', expected.previous_hash, row.previous_hash],
  ];
  for (const [column, want, found] of columns) {
    if (want !== found) {
      return readModelFinding(
        stored,
        entityId,
        `entity_history.${column}`,
        want,
        found,
        `the read model's entity_history.${column} is not what the ledger record says`,
      );
    }
  }
  return null;
}

/**
 * Holds an entity's history in the read model against its records in the ledger: the same
 * steps, in the same order, saying the same. Records at or past `projectedTo` are not projected
 * yet (reported apart, as the read model being behind rather than wrong); rows at or past it
 * are not looked at (the projector may have moved on since the ledger was read).
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
        found: row.record_hash ?? '(a row)',
        message: 'the read model shows a step that is not in the ledger history of this entity',
      });
    }
  }
  return findings;
}

/** What a product's records say its products row must hold: folded as the projector folds them. */
export class ProductFacts {
  private state: unknown = undefined;
  private commission: StoredRecord['record']['payload'] | null = null;
  private reason: string | null = null;
  last: StoredRecord | null = null;

  constructor(
    readonly id: string,
    private readonly stateModel: EntityStateModel,
  ) {}

  observe(stored: StoredRecord): void {
    const { record } = stored;
    this.state = this.stateModel.evolve(this.state, record, this.id);
    this.last = stored;
    if (record.entities[0]?.id !== this.id) return;
    if (record.eventType === CUSTODY_EVENTS.commissioned) this.commission = record.payload;
    if (record.eventType === CUSTODY_EVENTS.decommissioned) this.reason = text(record.payload.reason);
  }

  /** Whether the records are a product's (its commission is among them). */
  get isProduct(): boolean {
    return this.commission !== null && (this.state as { kind?: string } | undefined)?.kind === 'product';
  }

  /** The products row the records add up to, but for last_sequence. */
  expected(): Omit<ProductStateRow, 'last_sequence'> | null {
    if (!this.isProduct || !this.commission) return null;
    const state = this.state as ProductState;
    const attributes = this.commission.attributes;
    return {
      status: state.status,
      holder: state.holder,
      location: state.location,
      shipment: state.shipment,
      owner: text(this.commission.owner),
      origin: text(this.commission.location),
      name: text(this.commission.name) || null,
      attributes: attributes === undefined ? null : canonicalize(attributes),
      reason: this.reason,
    };
  }
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * Holds a products row against what the product's records add up to. A row the projector
 * changed at or past `readTo` (the end of what the verifier read) is newer than the records
 * and is not judged.
 */
export function productDifference(facts: ProductFacts, row: ProductStateRow | undefined, readTo: number): Finding | null {
  const expected = facts.expected();
  const last = facts.last;
  if (!expected || !last) return null;
  if (!row) return readModelFinding(last, facts.id, 'products', 'a row', '(no row)', 'the read model lacks the product');
  if (row.last_sequence >= readTo) return null;
  for (const column of Object.keys(expected) as (keyof typeof expected)[]) {
    if (expected[column] !== row[column]) {
      return readModelFinding(
        last,
        facts.id,
        `products.${column}`,
        expected[column],
        row[column],
        `the read model's products.${column} is not what the ledger's records of the product add up to`,
      );
    }
  }
  return null;
}

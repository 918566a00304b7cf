import type { DataSource } from 'typeorm';
import { READ_MODEL, type ReadModelTable, selectList } from '../projection/index.js';

/**
 * The provenance questions, answered from the read models (migrations/*-read-models.ts); every
 * query is parameterised and has an index. Nothing here writes.
 */
export interface HistoryFilter {
  readonly from?: string;
  readonly to?: string;
  readonly eventType?: string;
  readonly party?: string;
  /** Continue after this (partition, sequence): the cursor of the previous page. */
  readonly after?: { partition: number; sequence: number };
  readonly limit: number;
}

export interface HistoryStep {
  readonly eventType: string;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly actor: string;
  /** The shipment the entity travelled in, when the step was the shipment's. */
  readonly via: string | null;
  readonly subject: string;
  readonly payload: unknown;
  readonly ledger: { partition: number; sequence: number; offset: string; hash: string; eventId: string };
}

export interface TracedProduct {
  readonly id: string;
  readonly status: string;
  readonly holder: string;
  readonly location: string;
  readonly depth: number;
  /** Every party that held it, in order (from its handovers and receipts). */
  readonly holders: string[];
}

const camelCase = (column: string) => column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

export class ProvenanceQueries {
  constructor(private readonly dataSource: DataSource) {}

  async product(id: string): Promise<Record<string, unknown> | undefined> {
    return this.row(READ_MODEL.products, id);
  }

  async shipment(id: string): Promise<Record<string, unknown> | undefined> {
    return this.row(READ_MODEL.shipments, id);
  }

  /** A product's or shipment's row, every column under its name in the API (commissioned_at: commissionedAt). */
  private async row(table: ReadModelTable, id: string): Promise<Record<string, unknown> | undefined> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT ${selectList(table, camelCase)} FROM ${table.name} WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  /** An entity's steps in ledger order, its shipments' steps included, a page at a time. */
  async history(entityId: string, filter: HistoryFilter): Promise<HistoryStep[]> {
    const rows: {
      event_type: string;
      occurred_at_text: string;
      recorded_at: string;
      actor: string;
      via: string | null;
      subject: string;
      payload: unknown;
      partition: number;
      sequence: number;
      kafka_offset: string;
      record_hash: string;
      event_id: string;
    }[] = await this.dataSource.query(
      `SELECT h.event_type, e.occurred_at_text, to_json(e.recorded_at) #>> '{}' AS recorded_at, e.actor, h.via,
              e.subject, e.payload, h.partition, h.sequence::float8 AS sequence, e.kafka_offset::text AS kafka_offset,
              e.record_hash, e.event_id
         FROM entity_history h
         JOIN custody_events e ON e.partition = h.partition AND e.sequence = h.sequence
        WHERE h.entity_id = $1
          AND ($2::timestamptz IS NULL OR h.occurred_at >= $2)
          AND ($3::timestamptz IS NULL OR h.occurred_at < $3)
          AND ($4::text IS NULL OR h.event_type = $4)
          AND ($5::text IS NULL OR h.parties @> ARRAY[$5::text])
          AND ($6::int IS NULL OR (h.partition, h.sequence) > ($6::int, $7::bigint))
        ORDER BY h.partition, h.sequence
        LIMIT $8`,
      [
        entityId,
        filter.from ?? null,
        filter.to ?? null,
        filter.eventType ?? null,
        filter.party ?? null,
        filter.after?.partition ?? null,
        filter.after?.sequence ?? null,
        filter.limit,
      ],
    );
    return rows.map((row) => ({
      eventType: row.event_type,
      occurredAt: row.occurred_at_text,
      recordedAt: row.recorded_at,
      actor: row.actor,
      via: row.via,
      subject: row.subject,
      payload: row.payload,
      ledger: {
        partition: row.partition,
        sequence: row.sequence,
        offset: row.kafka_offset,
        hash: row.record_hash,
        eventId: row.event_id,
      },
    }));
  }

  /** Backward: what a product was made from, through every transformation, to the origins. */
  async backward(id: string): Promise<Record<string, unknown>[]> {
    return this.dataSource.query(
      `WITH RECURSIVE inputs(id, depth) AS (
         SELECT input_id, 1 FROM lineage WHERE output_id = $1
         UNION
         SELECT l.input_id, i.depth + 1 FROM lineage l JOIN inputs i ON l.output_id = i.id WHERE i.depth < 50
       )
       SELECT p.id, min(i.depth) AS depth, p.owner, p.origin, to_json(p.commissioned_at) #>> '{}' AS "commissionedAt", p.status
         FROM inputs i JOIN products p ON p.id = i.id
        GROUP BY p.id ORDER BY depth, p.id`,
      [id],
    );
  }

  /**
   * Forward, the recall question: where every product of a lot went. The lot's products are
   * its LGTIN and every serialised product commissioned with that lot, then whatever they were
   * transformed into; each with its current holder and every party that held it.
   */
  async forward(gtin: string, lot: string, limit: number): Promise<TracedProduct[]> {
    return this.dataSource.query(
      `WITH RECURSIVE members(id, depth) AS (
         SELECT id, 0 FROM products WHERE gtin = $1 AND lot = $2
         UNION
         SELECT l.output_id, m.depth + 1 FROM lineage l JOIN members m ON l.input_id = m.id WHERE m.depth < 50
       ),
       -- The page first: holders are looked up for the products answered, not for the whole lot.
       page AS (SELECT id, min(depth) AS depth FROM members GROUP BY id ORDER BY depth, id LIMIT $3)
       SELECT p.id, p.status, p.holder, p.location, page.depth,
              (SELECT coalesce(array_agg(party ORDER BY first_held), '{}') FROM (
                 SELECT party, min(held) AS first_held FROM (
                   SELECT CASE h.event_type WHEN 'shipment.received' THEN e.payload->>'by' ELSE e.payload->>'to' END AS party,
                          h.sequence AS held
                     FROM entity_history h JOIN custody_events e ON e.partition = h.partition AND e.sequence = h.sequence
                    WHERE h.entity_id = p.id AND h.event_type IN ('custody.handover', 'shipment.received')
                   UNION ALL SELECT p.owner, -1) taken
                 GROUP BY party) parties) AS holders
         FROM page JOIN products p ON p.id = page.id
        ORDER BY page.depth, p.id`,
      [gtin, lot, limit],
    );
  }

  /** The products in a shipment at a moment (now when `at` is not given). */
  async contents(shipmentId: string, at: string | null): Promise<{ productId: string; packedAt: string }[]> {
    return this.dataSource.query(
      `SELECT product_id AS "productId", to_json(packed_at) #>> '{}' AS "packedAt"
         FROM containment
        WHERE shipment_id = $1
          AND packed_at <= coalesce($2::timestamptz, 'infinity')
          AND (unpacked_at IS NULL OR unpacked_at > coalesce($2::timestamptz, 'infinity'))
        ORDER BY product_id`,
      [shipmentId, at],
    );
  }

  /** How far the projection has caught up, per partition. */
  async position(ledgerId: string): Promise<{ partition: number; nextSequence: number; nextOffset: string }[]> {
    return this.dataSource.query(
      `SELECT partition, next_sequence::float8 AS "nextSequence", next_offset::text AS "nextOffset"
         FROM projection_position WHERE ledger_id = $1 ORDER BY partition`,
      [ledgerId],
    );
  }
}

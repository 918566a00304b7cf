import type { ProjectedPosition } from '../infrastructure/http/read-wait.js';
import type { DataSource } from 'typeorm';
import type { EpcisEvent } from './custody-rendering.js';
import type { EventFilter, EventQuery } from './event-query-parameters.js';

/**
 * The EPCIS query's questions, answered from its read models (migrations/*-epcis-events.ts) in
 * ledger order. One statement whatever the filter: a parameter that is null does not filter,
 * and PostgreSQL plans each call with its values, so the filters given use their indexes.
 */
export interface EventPage {
  readonly events: EpcisEvent[];
  /** The position of the page's last event, when more follow. */
  readonly more: { partition: number; sequence: number } | null;
}

const matching = (index: number, roles: string) =>
  `($${index}::text[] IS NULL OR EXISTS (SELECT 1 FROM epcis_event_ids i
      WHERE i.partition = e.partition AND i.sequence = e.sequence AND i.role IN (${roles}) AND i.identifier = ANY($${index})))`;

const EVENTS = `
  SELECT e.partition, e.sequence::float8 AS sequence, e.event
    FROM epcis_events e
   WHERE ($1::text[] IS NULL OR e.event_type = ANY($1))
     AND ($2::timestamptz IS NULL OR e.event_time >= $2)
     AND ($3::timestamptz IS NULL OR e.event_time < $3)
     AND ($4::timestamptz IS NULL OR e.record_time >= $4)
     AND ($5::timestamptz IS NULL OR e.record_time < $5)
     AND ($6::text[] IS NULL OR e.action = ANY($6))
     AND ($7::text[] IS NULL OR e.biz_step = ANY($7))
     AND ($8::text[] IS NULL OR e.disposition = ANY($8))
     AND ($9::text[] IS NULL OR e.read_point = ANY($9))
     AND ($10::text[] IS NULL OR e.biz_location = ANY($10))
     AND ($11::text[] IS NULL OR e.event_id = ANY($11))
     AND (NOT $12::boolean OR e.error_declaration)
     AND ${matching(13, `'epc'`)}
     AND ${matching(14, `'parent'`)}
     AND ${matching(15, `'input'`)}
     AND ${matching(16, `'output'`)}
     AND ${matching(17, `'epc', 'parent', 'input', 'output'`)}
     AND ${matching(18, `'class'`)}
     AND ($19::int IS NULL OR (e.partition, e.sequence) > ($19::int, $20::bigint))
   ORDER BY e.partition, e.sequence
   LIMIT $21`;

function parameters(filter: EventFilter): unknown[] {
  return [
    filter.eventTypes ?? null,
    filter.eventTimeFrom ?? null,
    filter.eventTimeBefore ?? null,
    filter.recordTimeFrom ?? null,
    filter.recordTimeBefore ?? null,
    filter.actions ?? null,
    filter.bizSteps ?? null,
    filter.dispositions ?? null,
    filter.readPoints ?? null,
    filter.bizLocations ?? null,
    filter.eventIDs ?? null,
    filter.errorDeclaration ?? false,
    filter.epcs ?? null,
    filter.parentIDs ?? null,
    filter.inputEPCs ?? null,
    filter.outputEPCs ?? null,
    filter.anyEPCs ?? null,
    filter.epcClasses ?? null,
  ];
}

export class EpcisEventQueries {
  constructor(private readonly dataSource: DataSource) {}

  /** How far the projector has come in each partition (projection_position), for `waitFor`. */
  position(ledgerId: string): Promise<ProjectedPosition[]> {
    return this.dataSource.query(
      `SELECT partition, next_sequence::float8 AS "nextSequence", next_offset::text AS "nextOffset"
         FROM projection_position WHERE ledger_id = $1 ORDER BY partition`,
      [ledgerId],
    );
  }

  /** A page of the events the filter matches, after the query's position, in ledger order. */
  async page(query: EventQuery): Promise<EventPage> {
    const rows: { partition: number; sequence: number; event: EpcisEvent }[] = await this.dataSource.query(EVENTS, [
      ...parameters(query.filter),
      query.after?.partition ?? null,
      query.after?.sequence ?? null,
      query.perPage + 1,
    ]);
    const events = rows.slice(0, query.perPage);
    const last = rows.length > query.perPage ? rows[query.perPage - 1] : undefined;
    return {
      events: events.map((row) => row.event),
      more: last ? { partition: last.partition, sequence: last.sequence } : null,
    };
  }

  /**
   * The event of an eventID. An error declaration carries the id of the event it declares wrong
   * (EPCIS 2.0 §7.4.1.4): then the latest, which says what is known of the event now.
   */
  async event(eventID: string): Promise<EpcisEvent | undefined> {
    const rows: { event: EpcisEvent }[] = await this.dataSource.query(
      'SELECT event FROM epcis_events WHERE event_id = $1 ORDER BY record_time DESC, partition DESC, sequence DESC LIMIT 1',
      [eventID],
    );
    return rows[0]?.event;
  }
}

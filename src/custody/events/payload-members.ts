import type { LedgerRecord } from '../../ledger/ledger-record.js';
import { type Quantity, toMicros } from '../quantity.js';

/**
 * How the event definitions read a record. A payload member that is missing or of another type
 * reads as empty ('' or []), so a fold never throws on a verified record, whichever version of
 * the API recorded it.
 */

export function text(record: LedgerRecord, key: string): string {
  const value = record.payload[key];
  return typeof value === 'string' ? value : '';
}

export function texts(record: LedgerRecord, key: string): string[] {
  const value = record.payload[key];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** The record's subject: its first entity, which routes it. */
export function subjectOf(record: LedgerRecord): string {
  return record.entities[0]?.id ?? '';
}

/** The ids of every entity the record names, the subject first. */
export function entityIdsOf(record: LedgerRecord): string[] {
  return record.entities.map((entity) => entity.id);
}

/**
 * A quantity element (`{ quantity, uom }`, EPCIS) as custody state keeps it, in millionths; null
 * when there is none, or when its amount is not one the rules can keep exactly.
 */
export function quantityIn(value: unknown): Quantity | null {
  const { quantity, uom } = (value ?? {}) as { quantity?: unknown; uom?: unknown };
  if (typeof quantity !== 'number') return null;
  try {
    return { micros: toMicros(quantity), uom: typeof uom === 'string' ? uom : null };
  } catch {
    return null;
  }
}

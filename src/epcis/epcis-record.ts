import type { JsonValue } from '../ledger/canonical-json.js';
import type { LedgerRecord } from '../ledger/ledger-record.js';

/**
 * How an EPCIS event captured through `POST /capture` sits in the ledger (docs/epcis.md,
 * docs/ledger-format.md "EPCIS events"): every record made from it carries the payload member
 * `epcis`. The first record of the event carries the event as captured, whole; when one event
 * becomes several records (a commissioning of three items is three `product.commissioned`
 * records), the others carry only the event's ids and their place among its records.
 */
export const EPCIS_MEMBER = 'epcis';

/** The event type of an EPCIS event that is no custody step: it changes no custody state. */
export { EPCIS_OBSERVED } from '../custody/events/index.js';

export interface EpcisRecordMember {
  readonly [key: string]: JsonValue | undefined;
  /** The event's CBV 2.0 Event Hash ID ("ni:///sha-256;…?ver=CBV2.0"); its eventID when it has none of its own. */
  readonly hashId: string;
  /** Which of the event's records this is (0 for the first, which carries the event) and how many it has. */
  readonly part: number;
  readonly parts: number;
  /** On the first record only: the event as captured (its members unchanged, recordTime left out). */
  readonly event?: { readonly [key: string]: JsonValue };
  /**
   * On the first record only: the capturing document's `@context`, which the event's prefixed
   * names need; absent when it is exactly the standard context (EPCIS_STANDARD_CONTEXT).
   */
  readonly context?: JsonValue;
}

/** The context a document names when it names nothing but EPCIS 2.0's own, which a record leaves out. */
export const EPCIS_STANDARD_CONTEXT = ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'];

/** The eventID of an event: its own as captured, else its Event Hash ID. */
export function eventIdOf(event: { readonly [key: string]: JsonValue | undefined }, hashId: string): string {
  return typeof event.eventID === 'string' ? event.eventID : hashId;
}

/** The `epcis` member of a record, when it has one of the expected shape. */
export function epcisMemberOf(record: Pick<LedgerRecord, 'payload'>): EpcisRecordMember | undefined {
  const member = record.payload[EPCIS_MEMBER];
  if (typeof member !== 'object' || member === null || Array.isArray(member)) return undefined;
  const { hashId, part, parts } = member;
  if (typeof hashId !== 'string') return undefined;
  if (typeof part !== 'number' || typeof parts !== 'number') return undefined;
  return member as EpcisRecordMember;
}

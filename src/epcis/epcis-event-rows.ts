import type { JsonValue } from '../ledger/canonical-json.js';
import type { StoredRecord } from '../ledger/ledger-record.js';
import { toMicrosecondText } from '../ledger/timestamps.js';
import { epcisEventOf, type EpcisEvent } from './custody-rendering.js';
import { normalBizStep, normalDisposition, normalIdentifier } from './query-normal-forms.js';

/**
 * The EPCIS query's read models (migrations/*-epcis-events.ts, docs/epcis-query.md): one
 * epcis_events row per EPCIS event in the ledger, at the ledger position of the record that
 * carries it, and one epcis_event_ids row per identifier it names in a role a MATCH_ parameter
 * looks at. The projector writes them with its other rows; the full audit replays them.
 */

/** An epcis_events row. */
export type EpcisEventRow = {
  partition: number;
  sequence: number;
  /** The EPCIS eventID (`urn:uuid:<eventId>` for a step recorded through Custodian's routes). */
  event_id: string;
  /** The ledger record's eventId. */
  record_event_id: string;
  event_type: string;
  event_time: string | null;
  record_time: string;
  action: string | null;
  biz_step: string | null;
  disposition: string | null;
  read_point: string | null;
  biz_location: string | null;
  error_declaration: boolean;
  event: EpcisEvent;
};

/** The roles of an identifier in an event, as the MATCH_ parameters name them. */
export type IdentifierRole = 'epc' | 'parent' | 'input' | 'output' | 'class';

/** An epcis_event_ids row. */
export type EpcisIdentifierRow = {
  partition: number;
  sequence: number;
  role: IdentifierRole;
  identifier: string;
};

/** Where each role's identifiers are in an event: lists of identifiers, or lists of quantity elements (epcClass). */
const EPC_MEMBERS: readonly (readonly [string, IdentifierRole])[] = [
  ['epcList', 'epc'],
  ['childEPCs', 'epc'],
  ['inputEPCList', 'input'],
  ['outputEPCList', 'output'],
];
const CLASS_MEMBERS = ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList'];

const textOf = (value: JsonValue | undefined): string | null => (typeof value === 'string' ? value : null);

function idOf(value: JsonValue | undefined): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  return textOf(value.id);
}

const strings = (value: JsonValue | undefined): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/** The identifiers an event names, each role and normal form once. */
export function identifiersOf(event: EpcisEvent): { role: IdentifierRole; identifier: string }[] {
  const found = new Map<string, { role: IdentifierRole; identifier: string }>();
  const add = (role: IdentifierRole, value: string) => {
    const identifier = normalIdentifier(value);
    found.set(`${role}\n${identifier}`, { role, identifier });
  };
  for (const [member, role] of EPC_MEMBERS) for (const epc of strings(event[member])) add(role, epc);
  const parent = textOf(event.parentID);
  if (parent !== null) add('parent', parent);
  for (const member of CLASS_MEMBERS) {
    const list = event[member];
    if (!Array.isArray(list)) continue;
    for (const element of list) {
      const epcClass =
        typeof element === 'object' && element !== null && !Array.isArray(element) ? textOf(element.epcClass) : null;
      if (epcClass !== null) add('class', epcClass);
    }
  }
  return [...found.values()];
}

/** The rows of the EPCIS event a verified record carries; none when it carries none. */
export function epcisRowsOf({ record }: StoredRecord): { event: EpcisEventRow; identifiers: EpcisIdentifierRow[] } | undefined {
  const event = epcisEventOf(record);
  if (!event) return undefined;
  const { partition, sequence } = record;
  const eventTime = textOf(event.eventTime);
  const bizStep = textOf(event.bizStep);
  const disposition = textOf(event.disposition);
  const readPoint = idOf(event.readPoint);
  const bizLocation = idOf(event.bizLocation);
  return {
    event: {
      partition,
      sequence,
      event_id: textOf(event.eventID) ?? `urn:uuid:${record.eventId}`,
      record_event_id: record.eventId,
      event_type: textOf(event.type) ?? '',
      event_time: eventTime === null ? null : toMicrosecondText(eventTime),
      record_time: record.recordedAt,
      action: textOf(event.action),
      biz_step: bizStep === null ? null : normalBizStep(bizStep),
      disposition: disposition === null ? null : normalDisposition(disposition),
      read_point: readPoint === null ? null : normalIdentifier(readPoint),
      biz_location: bizLocation === null ? null : normalIdentifier(bizLocation),
      error_declaration: event.errorDeclaration !== undefined && event.errorDeclaration !== null,
      event,
    },
    identifiers: identifiersOf(event).map(({ role, identifier }) => ({ partition, sequence, role, identifier })),
  };
}

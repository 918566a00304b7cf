import {
  custodyHandover,
  custodyInspected,
  custodyTransformed,
  productCommissioned,
  productDecommissioned,
  shipmentCreated,
  shipmentDispatched,
  shipmentPacked,
  shipmentReceived,
  shipmentUnpacked,
} from '../custody/events/index.js';
import { digitalLinkUri } from '../gs1/digital-link-uri.js';
import { isShipmentId, parseDigitalLinkPath } from '../gs1/digital-link.js';
import type { JsonValue } from '../ledger/canonical-json.js';
import type { LedgerRecord } from '../ledger/ledger-record.js';
import { epcisMemberOf, eventIdOf } from './epcis-record.js';
import { isEpcisDateTime } from './epcis-schema.js';

/**
 * Every step in the ledger as the EPCIS 2.0 event it is (docs/epcis-query.md, "Custody steps as
 * EPCIS events"): an event captured through POST /capture as it was captured, a step recorded
 * through Custodian's own routes rendered by the CBV 2.0 mapping below.
 */
export type EpcisEvent = { [member: string]: JsonValue };

/** The context every EPCIS 2.0 JSON-LD document starts with; it expands bare CBV values. */
export const EPCIS_CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';
/** The same context, as GS1 also publishes it (its latest version). */
const EPCIS_CONTEXTS: readonly JsonValue[] = [EPCIS_CONTEXT, 'https://ref.gs1.org/standards/epcis/epcis-context.jsonld'];

/**
 * The EPCIS event a record is, or undefined when it is none: the ledger's own records, a later
 * record of an event captured as several (the first carries the event), a type this version
 * does not know.
 */
export function epcisEventOf(record: LedgerRecord): EpcisEvent | undefined {
  if (record.eventType.startsWith('ledger.')) return undefined;
  const member = epcisMemberOf(record);
  if (member) {
    if (member.part !== 0 || !member.event) return undefined;
    return capturedEvent(member.event, eventIdOf(member.event, member.hashId), record.recordedAt, member.context);
  }
  const rendered = RENDERINGS[record.eventType]?.(record);
  if (!rendered) return undefined;
  // The type comes first, with the header: each rendering names it.
  const { type, ...members } = rendered;
  return { ...eventHeader(record, type as string), ...members };
}

/** The event as captured, with the time it was recorded and its id, and the capturing document's context where it adds to the standard's. */
function capturedEvent(
  event: { readonly [key: string]: JsonValue },
  eventID: string,
  recordedAt: string,
  context: JsonValue | undefined,
): EpcisEvent {
  const extraContext = context !== undefined && !isOnlyStandard(context);
  return {
    ...(extraContext && event['@context'] === undefined ? { '@context': context } : {}),
    ...event,
    eventID: typeof event.eventID === 'string' ? event.eventID : eventID,
    recordTime: recordedAt,
  };
}

function isOnlyStandard(context: JsonValue): boolean {
  return (Array.isArray(context) ? context : [context]).every((entry) => EPCIS_CONTEXTS.includes(entry));
}

/** What every rendered step has: its id (the record's), when it happened, when it was recorded. */
function eventHeader(record: LedgerRecord, type: string): EpcisEvent {
  const { eventTime, offset } = eventTimeOf(record.occurredAt);
  return {
    type,
    eventID: `urn:uuid:${record.eventId}`,
    eventTime,
    eventTimeZoneOffset: offset,
    recordTime: record.recordedAt,
  };
}

const OFFSET = /([+-])(\d{2}):(\d{2})$/;

/**
 * occurredAt and its offset, as EPCIS takes them. A time EPCIS would not take (the ledger allows
 * 24:00:00 and offsets beyond ±14:00, docs/ledger-format.md §2.1) is written as the same instant in UTC.
 */
function eventTimeOf(occurredAt: string): { eventTime: string; offset: string } {
  if (occurredAt.endsWith('Z') && isEpcisDateTime(occurredAt)) return { eventTime: occurredAt, offset: '+00:00' };
  const match = OFFSET.exec(occurredAt);
  const minutes = match ? Number(match[2]) * 60 + Number(match[3]) : Number.NaN;
  if (match && minutes <= 14 * 60 && isEpcisDateTime(occurredAt)) return { eventTime: occurredAt, offset: match[0] };
  return { eventTime: new Date(Date.parse(occurredAt)).toISOString(), offset: '+00:00' };
}

/** A product's or shipment's Digital Link on id.gs1.org; an id that is no such path stays as it is. */
function entityUri(id: string): string {
  const parsed = parseDigitalLinkPath(id);
  return parsed.ok ? digitalLinkUri(parsed.value) : id;
}

const isLot = (id: string) => /^\/01\/\d{14}\/10\//.test(id);
const locationUri = (gln: string) => digitalLinkUri({ kind: 'location', gln });
const partyUri = (gln: string) => digitalLinkUri({ kind: 'party', gln });

/** readPoint and bizLocation: where the step happened (none when the record names no location). */
function at(location: string, bizLocation = true): EpcisEvent {
  if (location === '') return {};
  return { readPoint: { id: locationUri(location) }, ...(bizLocation ? { bizLocation: { id: locationUri(location) } } : {}) };
}

type Quantities = (id: string) => { quantity?: number; uom?: string };
const NO_QUANTITIES: Quantities = () => ({});

/**
 * Entities as EPCIS lists them: items and shipments by instance (epcList), lots by class with
 * their quantity where the record gives one (quantityList). Empty lists are left out.
 */
function listed(ids: readonly string[], epcs: string, classes: string, quantities: Quantities = NO_QUANTITIES): EpcisEvent {
  const instances = ids.filter((id) => !isLot(id)).map(entityUri);
  const lots = ids.filter(isLot).map((id) => ({ epcClass: entityUri(id), ...quantities(id) }));
  return { ...(instances.length ? { [epcs]: instances } : {}), ...(lots.length ? { [classes]: lots } : {}) };
}

const objects = (ids: readonly string[], quantities?: Quantities) => listed(ids, 'epcList', 'quantityList', quantities);
const party = (type: 'owning_party' | 'possessing_party', gln: string) => ({ type, gln });

function sourceList(...sources: { type: string; gln: string }[]): EpcisEvent {
  const list = sources
    .filter((s) => s.gln !== '')
    .map((s) => ({ type: s.type, source: s.type === 'location' ? locationUri(s.gln) : partyUri(s.gln) }));
  return list.length ? { sourceList: list } : {};
}

function destinationList(...destinations: { type: string; gln: string }[]): EpcisEvent {
  const list = destinations
    .filter((d) => d.gln !== '')
    .map((d) => ({ type: d.type, destination: d.type === 'location' ? locationUri(d.gln) : partyUri(d.gln) }));
  return list.length ? { destinationList: list } : {};
}

const ids = (record: LedgerRecord) => record.entities.map((entity) => entity.id);

/** A quantity of a commissioning or a transformation entry, as a quantity element takes it. */
function quantityElement(quantity: unknown, uom: unknown): { quantity?: number; uom?: string } {
  if (typeof quantity !== 'number') return {};
  return { quantity, ...(typeof uom === 'string' ? { uom } : {}) };
}

/** decommissioned: the reason as CBV says it (destroyed: destroying/destroyed; recalled: disposition recalled; else inactive). */
function decommissioning(reason: string): EpcisEvent {
  if (reason === 'destroyed') return { bizStep: 'destroying', disposition: 'destroyed' };
  return { bizStep: 'decommissioning', disposition: reason === 'recalled' ? 'recalled' : 'inactive' };
}

/** One rendering per custody event type (the mapping table in docs/epcis-query.md). */
const RENDERINGS: { readonly [type: string]: (record: LedgerRecord) => EpcisEvent } = {
  [productCommissioned.type]: (record) => {
    const { quantity, uom, location } = productCommissioned.payloadOf(record);
    return {
      type: 'ObjectEvent',
      ...objects(ids(record), () => quantityElement(quantity, uom)),
      action: 'ADD',
      bizStep: 'commissioning',
      disposition: 'active',
      ...at(location),
    };
  },
  [productDecommissioned.type]: (record) => {
    const { reason, location } = productDecommissioned.payloadOf(record);
    return { type: 'ObjectEvent', ...objects(ids(record)), action: 'DELETE', ...decommissioning(reason), ...at(location) };
  },
  [shipmentCreated.type]: (record) => {
    const { owner, location, destination, consignee } = shipmentCreated.payloadOf(record);
    return {
      type: 'ObjectEvent',
      ...objects(ids(record).slice(0, 1)),
      action: 'ADD',
      bizStep: 'commissioning',
      disposition: 'active',
      ...at(location),
      ...sourceList(party('owning_party', owner), { type: 'location', gln: location }),
      ...destinationList(party('owning_party', consignee), { type: 'location', gln: destination }),
    };
  },
  [shipmentPacked.type]: (record) => aggregation(record, 'ADD', 'packing', shipmentPacked.payloadOf(record).location),
  [shipmentUnpacked.type]: (record) => aggregation(record, 'DELETE', 'unpacking', shipmentUnpacked.payloadOf(record).location),
  [shipmentDispatched.type]: (record) => {
    const { party: by, location, destination } = shipmentDispatched.payloadOf(record);
    return {
      type: 'ObjectEvent',
      ...objects(ids(record)),
      action: 'OBSERVE',
      bizStep: 'shipping',
      disposition: 'in_transit',
      // Shipped: it leaves the location, so the location is where it was read, not where it is.
      ...at(location, false),
      ...sourceList(party('possessing_party', by), { type: 'location', gln: location }),
      ...destinationList({ type: 'location', gln: destination }),
    };
  },
  [shipmentReceived.type]: (record) => {
    const { by, location } = shipmentReceived.payloadOf(record);
    return {
      type: 'ObjectEvent',
      ...objects(ids(record)),
      action: 'OBSERVE',
      bizStep: 'receiving',
      disposition: 'in_progress',
      ...at(location),
      ...destinationList(party('possessing_party', by), { type: 'location', gln: location }),
    };
  },
  [custodyHandover.type]: (record) => {
    const { from, to, location } = custodyHandover.payloadOf(record);
    return {
      type: 'ObjectEvent',
      ...objects(ids(record)),
      action: 'OBSERVE',
      // CBV 2.0: accepting is "any business process in which an object changes possession and/or ownership".
      bizStep: 'accepting',
      ...at(location),
      ...sourceList(party('possessing_party', from)),
      ...destinationList(party('possessing_party', to)),
    };
  },
  [custodyInspected.type]: (record) => {
    const { result, location } = custodyInspected.payloadOf(record);
    const disposition = result === 'passed' ? 'conformant' : result === 'failed' ? 'non_conformant' : undefined;
    return {
      type: 'ObjectEvent',
      ...objects(ids(record)),
      action: 'OBSERVE',
      bizStep: 'inspecting',
      ...(disposition ? { disposition } : {}),
      ...at(location),
    };
  },
  [custodyTransformed.type]: (record) => {
    const payload = custodyTransformed.payloadOf(record);
    const outputs = payload.outputs ?? ids(record).slice(payload.inputs.length);
    const given = new Map<unknown, { quantity?: unknown; uom?: unknown }>();
    for (const entry of payload.quantities) {
      const { product } = (entry ?? {}) as { product?: unknown };
      if (!given.has(product)) given.set(product, entry as { quantity?: unknown; uom?: unknown });
    }
    const quantities: Quantities = (id) => quantityElement(given.get(id)?.quantity, given.get(id)?.uom);
    return {
      type: 'TransformationEvent',
      ...listed(payload.inputs, 'inputEPCList', 'inputQuantityList', quantities),
      ...listed(outputs, 'outputEPCList', 'outputQuantityList', quantities),
      disposition: 'active',
      ...at(payload.location),
    };
  },
};

/** packed and unpacked: the shipment is the parent, the products after it its children. */
function aggregation(record: LedgerRecord, action: 'ADD' | 'DELETE', bizStep: string, location: string): EpcisEvent {
  const [parent = '', ...children] = ids(record);
  return {
    type: 'AggregationEvent',
    ...(isShipmentId(parent) ? { parentID: entityUri(parent) } : {}),
    ...listed(children, 'childEPCs', 'childQuantityList'),
    action,
    bizStep,
    ...at(location),
  };
}

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { CustodyCommand } from '../custody/custody-api.js';
import { QuantityError, toMicros } from '../custody/custody-api.js';
import type { StepToRecord } from '../custody/custody-api.js';
import type { Gs1Identity } from '../gs1/digital-link.js';
import { type EpcisIdentifierReading, readEpcisIdentifier as readIdentifierOnce } from '../gs1/epcis-identifier.js';
import type { JsonValue } from '../ledger/canonical-json.js';
import { TIMESTAMP } from '../ledger/record-codec.js';
import { EPCIS_MEMBER, EPCIS_STANDARD_CONTEXT, type EpcisRecordMember } from './epcis-record.js';

/**
 * How one EPCIS event becomes ledger records (docs/epcis.md, "Mapping"): an event that is
 * unambiguously a custody step becomes that step (one record per product or shipment it acts
 * on, decided by the same rules as the REST routes); any other event is one `epcis.observed`
 * record on the chains of the entities it names. Every record carries the `epcis` member
 * (epcis-record.ts): the first the event as captured, whole, so that nothing of it is lost.
 */

/** An event as the capture document holds it, with where it is and its Event Hash ID. */
export interface CapturedEvent {
  readonly event: { readonly [key: string]: JsonValue };
  /** RFC 6901 pointer of the event in the document. */
  readonly pointer: string;
  readonly hashId: string;
}

const MAX_REMEMBERED_IDENTIFIERS = 10_000;
const READINGS = new Map<string, EpcisIdentifierReading>();

/** readEpcisIdentifier, remembered: a document names one place, one class, one pallet in many events (a bounded memo). */
function readEpcisIdentifier(identifier: string): EpcisIdentifierReading {
  let reading = READINGS.get(identifier);
  if (reading === undefined) {
    reading = readIdentifierOnce(identifier);
    // Bounded in entries, and in bytes: only identifiers of a GS1 key's length are kept.
    if (identifier.length <= 128) {
      if (READINGS.size >= MAX_REMEMBERED_IDENTIFIERS) READINGS.clear();
      READINGS.set(identifier, reading);
    }
  }
  return reading;
}

/** What is wrong with an event that schema validation cannot see, at a pointer into the document. */
export class EventMappingError extends Error {
  override name = 'EventMappingError';

  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(message);
  }
}

const INSPECTION_RESULTS: { readonly [disposition: string]: 'passed' | 'failed' } = {
  conformant: 'passed',
  non_conformant: 'failed',
};

/** Most products and shipments one event may name: a record names each (as a shipment's contents or a transformation's outputs). */
export const MAX_EVENT_SUBJECTS = 5000;

/**
 * Most UTF-8 bytes of an identifier or vocabulary value the query's read models index (eventID,
 * EPCs, classes, parentID, readPoint, bizLocation, bizStep, disposition): PostgreSQL's B-tree
 * takes index rows of at most 2,704 bytes, and the projector must never meet a row it refuses.
 */
export const MAX_INDEXED_BYTES = 1000;

/** The members whose values the query indexes: single values, lists, and quantity lists (their epcClass). */
const INDEXED_VALUES = ['eventID', 'parentID', 'bizStep', 'disposition'];
const INDEXED_LISTS = ['epcList', 'childEPCs', 'inputEPCList', 'outputEPCList'];
const INDEXED_CLASSES = ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList'];

/** An EventMappingError at the first indexed value over MAX_INDEXED_BYTES. */
function checkIndexedLengths(event: Json, pointer: string): void {
  const check = (value: JsonValue | undefined, at: string) => {
    if (typeof value === 'string' && Buffer.byteLength(value) > MAX_INDEXED_BYTES) {
      throw new EventMappingError(
        at,
        `is ${Buffer.byteLength(value)} bytes long; an identifier or vocabulary value is at most ${MAX_INDEXED_BYTES}`,
      );
    }
  };
  for (const member of INDEXED_VALUES) check(event[member], `${pointer}/${member}`);
  for (const member of ['readPoint', 'bizLocation']) {
    const place = event[member];
    if (typeof place === 'object' && place !== null && !Array.isArray(place)) check(place.id, `${pointer}/${member}/id`);
  }
  for (const member of INDEXED_LISTS)
    for (const [i, id] of strings(event[member]).entries()) check(id, `${pointer}/${member}/${i}`);
  for (const member of INDEXED_CLASSES) {
    for (const [i, entry] of objects(event[member]).entries()) check(entry.epcClass, `${pointer}/${member}/${i}/epcClass`);
  }
}

type Json = { readonly [key: string]: JsonValue };

/** A product or shipment an event names, with its GS1 key and where the event names it. */
interface Named {
  readonly subject: string;
  readonly identity: Gs1Identity;
  readonly pointer: string;
}

/** The last word of a CBV vocabulary value, bare or as a URI: "shipping", "https://ref.gs1.org/cbv/BizStep-shipping", "urn:epcglobal:cbv:bizstep:shipping". */
export function cbvTerm(value: JsonValue | undefined, vocabulary: 'BizStep' | 'Disp' | 'SDT'): string | undefined {
  if (typeof value !== 'string') return undefined;
  const gs1 = new RegExp(`^https?://ref\\.gs1\\.org/cbv/${vocabulary}-(.+)$`).exec(value);
  if (gs1) return gs1[1];
  const urn = new RegExp(`^urn:epcglobal:cbv:${vocabulary.toLowerCase()}:(.+)$`).exec(value);
  if (urn) return urn[1];
  return /^[a-z_]+$/.test(value) ? value : undefined;
}

/** The id of the ledger record `part` of an event: a UUID (version 8) from SHA-256 over its hash ID, so a repeat names the same record. */
export function epcisRecordEventId(hashId: string, part: number, declarationTime?: string): string {
  const name = `custodian.epcis.v1\0${hashId}\0${declarationTime ?? ''}\0${part}`;
  const bytes = sha256(new TextEncoder().encode(name)).slice(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytesToHex(bytes);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const strings = (value: JsonValue | undefined): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

const objects = (value: JsonValue | undefined): Json[] =>
  Array.isArray(value) ? value.filter((v): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)) : [];

/** Reads the identifiers at `member` of the event (a list, a quantity list's epcClass, or one id). */
function named(event: Json, pointer: string, member: string): Named[] {
  const value = event[member];
  const found: { id: string; at: string }[] = [];
  if (typeof value === 'string') found.push({ id: value, at: `${pointer}/${member}` });
  else if (member.endsWith('QuantityList') || member === 'quantityList') {
    for (const [i, entry] of objects(value).entries()) {
      if (typeof entry.epcClass === 'string') found.push({ id: entry.epcClass, at: `${pointer}/${member}/${i}/epcClass` });
    }
  } else for (const [i, id] of strings(value).entries()) found.push({ id, at: `${pointer}/${member}/${i}` });
  const result: Named[] = [];
  for (const { id, at } of found) {
    const reading = readEpcisIdentifier(id);
    if (reading.kind === 'invalid') throw new EventMappingError(at, `${id}: ${reading.problem}`);
    if (reading.kind !== 'subject') continue;
    const identity = reading.identity;
    if (identity.kind === 'location' || identity.kind === 'party') continue;
    result.push({ subject: reading.subject, identity, pointer: at });
  }
  return result;
}

/** The GLN of an event's bizLocation, else of its readPoint (an SGLN: its extension stays in the event). */
function locationOf(event: Json, pointer: string): string | undefined {
  for (const member of ['bizLocation', 'readPoint']) {
    const place = event[member];
    if (typeof place !== 'object' || place === null || Array.isArray(place)) continue;
    const id = place.id;
    if (typeof id !== 'string') continue;
    const reading = readEpcisIdentifier(id);
    if (reading.kind === 'invalid') throw new EventMappingError(`${pointer}/${member}/id`, `${id}: ${reading.problem}`);
    if (reading.kind === 'subject' && reading.identity.kind === 'location') return reading.identity.gln;
  }
  return undefined;
}

/** The GLN a source or destination list gives for `type` (owning_party, possessing_party, location). */
function listed(event: Json, list: 'sourceList' | 'destinationList', type: string): string | undefined {
  const member = list === 'sourceList' ? 'source' : 'destination';
  for (const entry of objects(event[list])) {
    if (cbvTerm(entry.type, 'SDT') !== type) continue;
    const id = entry[member];
    if (typeof id !== 'string') continue;
    const reading = readEpcisIdentifier(id);
    if (reading.kind === 'subject' && (reading.identity.kind === 'party' || reading.identity.kind === 'location')) {
      return reading.identity.gln;
    }
  }
  return undefined;
}

const unique = (items: readonly Named[]): Named[] => {
  const seen = new Set<string>();
  return items.filter((item) => !seen.has(item.subject) && Boolean(seen.add(item.subject)));
};

/** What one event is to custody: the commands it becomes, or none (an observation). */
function commandsOf(event: Json, pointer: string, party: string): CustodyCommand[] | undefined {
  if (event.errorDeclaration !== undefined) return undefined;
  const bizStep = cbvTerm(event.bizStep, 'BizStep');
  const action = event.action;
  const needLocation = (): string => {
    const location = locationOf(event, pointer);
    if (location === undefined) {
      throw new EventMappingError(
        `${pointer}/bizLocation`,
        `a ${bizStep} event is a custody step, which happens at a place: give a bizLocation or readPoint that is a GLN (urn:epc:id:sgln:… or a Digital Link /414/…)`,
      );
    }
    return location;
  };
  switch (event.type) {
    case 'ObjectEvent': {
      const subjects = unique([...named(event, pointer, 'epcList'), ...named(event, pointer, 'quantityList')]);
      if (subjects.length === 0) return undefined;
      const shipments = subjects.filter((s) => s.identity.kind === 'sscc');
      if (action === 'ADD' && bizStep === 'commissioning') {
        const location = needLocation();
        return subjects.map((s) => commissioning(event, pointer, s, party, location));
      }
      if (action === 'DELETE' && (bizStep === 'decommissioning' || bizStep === 'destroying')) {
        const location = needLocation();
        const disposition = cbvTerm(event.disposition, 'Disp');
        const reason = bizStep === 'destroying' ? 'destroyed' : disposition === 'recalled' ? 'recalled' : 'consumed';
        return subjects.map((s) => ({ type: 'decommission', product: s.subject, party, location, reason }));
      }
      // A shipping or receiving of SSCCs: the items listed beside them are taken as their contents
      // (as Custodian's own rendering lists them, docs/epcis-query.md); the record names the
      // contents the ledger holds for each shipment.
      if (action === 'OBSERVE' && shipments.length > 0 && (bizStep === 'shipping' || bizStep === 'receiving')) {
        const location = needLocation();
        return shipments.map((s) =>
          bizStep === 'shipping'
            ? { type: 'dispatch', shipment: s.subject, party, location }
            : { type: 'receive', shipment: s.subject, by: party, location },
        );
      }
      // An inspection with its finding: conformant passed, non_conformant failed. Without one
      // (no disposition, or another) it is an observation, not a result Custodian would invent.
      const finding = INSPECTION_RESULTS[cbvTerm(event.disposition, 'Disp') ?? ''];
      if (action === 'OBSERVE' && bizStep === 'inspecting' && finding !== undefined) {
        const location = needLocation();
        return subjects.map((s) => ({ type: 'inspect', subject: s.subject, party, location, result: finding }));
      }
      return undefined;
    }
    case 'AggregationEvent': {
      const [parent] = typeof event.parentID === 'string' ? named(event, pointer, 'parentID') : [];
      if (parent?.identity.kind !== 'sscc' || (action !== 'ADD' && action !== 'DELETE')) return undefined;
      const children = unique([...named(event, pointer, 'childEPCs'), ...named(event, pointer, 'childQuantityList')]);
      const products = children.filter((c) => c.identity.kind !== 'sscc');
      const namesChildren = strings(event.childEPCs).length + objects(event.childQuantityList).length > 0;
      if (products.length === 0) {
        // Pallets in a pallet, returnable assets: no product to pack or unpack, an observation.
        if (action === 'ADD' || namesChildren) return undefined;
        throw new EventMappingError(
          `${pointer}/childEPCs`,
          'an unpacking of an SSCC names the products it takes out (childEPCs or childQuantityList); Custodian does not unpack "everything"',
        );
      }
      const location = needLocation();
      return [
        {
          type: action === 'ADD' ? 'pack' : 'unpack',
          shipment: parent.subject,
          products: products.map((p) => p.subject),
          party,
          location,
        },
      ];
    }
    case 'TransformationEvent': {
      const inputs = unique([...named(event, pointer, 'inputEPCList'), ...named(event, pointer, 'inputQuantityList')]);
      const outputs = unique([...named(event, pointer, 'outputEPCList'), ...named(event, pointer, 'outputQuantityList')]);
      if (inputs.length === 0) return undefined;
      const location = needLocation();
      const quantities = [
        ...quantitiesOf(event, pointer, 'inputQuantityList'),
        ...quantitiesOf(event, pointer, 'outputQuantityList'),
      ];
      return [
        {
          type: 'transform',
          party,
          location,
          inputs: inputs.map((i) => i.subject),
          outputs: outputs.map((o) => o.subject).filter((o) => !inputs.some((i) => i.subject === o)),
          ...(quantities.length > 0 ? { quantities } : {}),
        },
      ];
    }
    default:
      return undefined;
  }
}

/** The quantities of the lots a quantity list names, for the rules on lots (quantity.ts). */
function quantitiesOf(event: Json, pointer: string, member: string): { product: string; quantity: number; uom?: string }[] {
  const result: { product: string; quantity: number; uom?: string }[] = [];
  for (const [i, entry] of objects(event[member]).entries()) {
    if (typeof entry.epcClass !== 'string' || typeof entry.quantity !== 'number') continue;
    const reading = readEpcisIdentifier(entry.epcClass);
    if (reading.kind !== 'subject' || reading.identity.kind !== 'lgtin') continue;
    checkQuantity(entry, `${pointer}/${member}/${i}`);
    result.push({
      product: reading.subject,
      quantity: entry.quantity,
      ...(typeof entry.uom === 'string' ? { uom: entry.uom } : {}),
    });
  }
  return result;
}

function checkQuantity(entry: Json, at: string): void {
  try {
    toMicros(entry.quantity as number);
  } catch (error) {
    if (error instanceof QuantityError) throw new EventMappingError(`${at}/quantity`, error.message);
    throw error;
  }
  if (typeof entry.uom === 'string' && !/^[A-Z0-9]{2,3}$/.test(entry.uom)) {
    throw new EventMappingError(`${at}/uom`, 'a unit of measure is a UN/ECE Rec 20 code such as KGM or LTR');
  }
}

/** A commissioning ObjectEvent of one product (an SGTIN or an LGTIN with its quantity) or one shipment (an SSCC). */
function commissioning(event: Json, pointer: string, named: Named, party: string, location: string): CustodyCommand {
  const { identity, subject } = named;
  if (identity.kind === 'sscc') {
    return {
      type: 'create-shipment',
      shipment: subject,
      owner: party,
      location,
      destination: listed(event, 'destinationList', 'location') ?? location,
      consignee: listed(event, 'destinationList', 'owning_party') ?? party,
    };
  }
  const details: { [key: string]: JsonValue } = { gtin: identity.gtin, name: `GTIN ${identity.gtin}` };
  if (identity.kind === 'sgtin') details.serial = identity.serial;
  else {
    details.lot = identity.lot;
    const entry = objects(event.quantityList).find(
      (q) =>
        typeof q.epcClass === 'string' && readEpcisIdentifier(q.epcClass).kind === 'subject' && sameSubject(q.epcClass, subject),
    );
    if (entry && typeof entry.quantity === 'number') {
      const index = objects(event.quantityList).indexOf(entry);
      checkQuantity(entry, `${pointer}/quantityList/${index}`);
      details.quantity = entry.quantity;
      if (typeof entry.uom === 'string') details.uom = entry.uom;
    }
  }
  return { type: 'commission', product: subject, owner: party, location, details };
}

function sameSubject(id: string, subject: string): boolean {
  const reading = readEpcisIdentifier(id);
  return reading.kind === 'subject' && reading.subject === subject;
}

/** Exactly EPCIS 2.0's own context (as a list of it alone, or it alone), which records leave out. */
function isStandardContext(context: JsonValue): boolean {
  const [only, ...more] = Array.isArray(context) ? context : [context];
  return more.length === 0 && only === EPCIS_STANDARD_CONTEXT[0];
}

/** The entities an observation stands on: the products and shipments it names, else the event itself (its hash ID). */
function observedEntities(event: Json, pointer: string, hashId: string): string[] {
  const members = [
    'epcList',
    'quantityList',
    'parentID',
    'childEPCs',
    'childQuantityList',
    'inputEPCList',
    'inputQuantityList',
    'outputEPCList',
    'outputQuantityList',
  ];
  const subjects = unique(members.flatMap((member) => named(event, pointer, member))).map((s) => s.subject);
  return subjects.length > 0 ? subjects : [hashId];
}

/**
 * The steps one event becomes, each with its record's event id (from the event's hash ID) and
 * its `epcis` member; EventMappingError for what cannot be recorded, at its pointer.
 */
export function stepsOfEvent(
  captured: CapturedEvent,
  party: string,
  context: JsonValue | undefined,
): { readonly steps: StepToRecord[]; readonly custody: boolean } {
  const { event, pointer, hashId } = captured;
  // The schema check took it already (isEpcisDateTime: at most nanoseconds, as the ledger keeps).
  const eventTime = event.eventTime;
  if (typeof eventTime !== 'string' || !TIMESTAMP.test(eventTime)) {
    throw new EventMappingError(
      `${pointer}/eventTime`,
      'eventTime is a date-time with its offset (Z or ±hh:mm), to the nanosecond',
    );
  }
  checkIndexedLengths(event, pointer);
  const commands = commandsOf(event, pointer, party);
  const subjects = observedEntities(event, pointer, hashId);
  if (subjects.length > MAX_EVENT_SUBJECTS) {
    throw new EventMappingError(
      pointer,
      `the event names ${subjects.length} products and shipments; at most ${MAX_EVENT_SUBJECTS}`,
    );
  }
  const list: CustodyCommand[] = commands ?? [{ type: 'observe', party, entities: subjects }];
  const declaration = event.errorDeclaration as Json | undefined;
  const declarationTime = typeof declaration?.declarationTime === 'string' ? declaration.declarationTime : undefined;
  const asCaptured = Object.fromEntries(Object.entries(event).filter(([name]) => name !== 'recordTime'));
  const steps = list.map((command, part): StepToRecord => {
    const member: EpcisRecordMember = {
      hashId,
      part,
      parts: list.length,
      ...(part === 0 ? { event: asCaptured, ...(context !== undefined && !isStandardContext(context) ? { context } : {}) } : {}),
    };
    return {
      command,
      occurredAt: eventTime,
      pointer,
      eventId: epcisRecordEventId(hashId, part, declarationTime),
      members: { [EPCIS_MEMBER]: member as unknown as JsonValue },
    };
  });
  return { steps, custody: commands !== undefined };
}

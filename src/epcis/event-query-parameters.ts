import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { readEpcisIdentifier } from '../gs1/epcis-identifier.js';
import { WaitForParameter } from '../infrastructure/http/read-wait.js';
import { type FieldError, invalidRequest } from '../infrastructure/http/request-validation.js';
import { isEpcisDateTime, isEpcisUri } from './epcis-schema.js';
import { normalBizStep, normalDisposition, normalIdentifier } from './query-normal-forms.js';

/**
 * The parameters of GET /events (EPCIS 2.0 SimpleEventQuery, REST binding; docs/epcis-query.md):
 * read from the query string into a filter in the query tables' normal forms, or a 400 naming
 * each wrong parameter. A multi-valued parameter is repeated or comma-separated (a comma inside
 * an identifier is written %2C in it); the values of one parameter are alternatives, different
 * parameters must all hold.
 */

export const DEFAULT_PER_PAGE = 100;
export const MAX_PER_PAGE = 1000;

/** The multi-valued parameters, and the filter member each fills. */
const LISTS = {
  eventType: 'eventTypes',
  EQ_action: 'actions',
  EQ_bizStep: 'bizSteps',
  EQ_disposition: 'dispositions',
  EQ_readPoint: 'readPoints',
  EQ_bizLocation: 'bizLocations',
  EQ_eventID: 'eventIDs',
  MATCH_epc: 'epcs',
  MATCH_parentID: 'parentIDs',
  MATCH_inputEPC: 'inputEPCs',
  MATCH_outputEPC: 'outputEPCs',
  MATCH_anyEPC: 'anyEPCs',
  MATCH_epcClass: 'epcClasses',
} as const;

const TIMES = {
  GE_eventTime: 'eventTimeFrom',
  LT_eventTime: 'eventTimeBefore',
  GE_recordTime: 'recordTimeFrom',
  LT_recordTime: 'recordTimeBefore',
} as const;

type ListName = keyof typeof LISTS;
type TimeName = keyof typeof TIMES;

/** What the events answered must hold; absent members do not filter. */
export type EventFilter = { -readonly [P in ListName as (typeof LISTS)[P]]?: string[] } & {
  -readonly [P in TimeName as (typeof TIMES)[P]]?: string;
} & { errorDeclaration?: true };

export interface EventQuery {
  readonly filter: EventFilter;
  readonly perPage: number;
  /** Continue after this ledger position: the page token of the previous page. */
  readonly after: { partition: number; sequence: number } | null;
}

const many = (description: string) =>
  Type.Optional(
    Type.Union([Type.String(), Type.Array(Type.String())], {
      description: `${description}; several values repeated or comma-separated, any of them matches`,
    }),
  );
const time = (description: string) => Type.Optional(Type.String({ description: `${description} (RFC 3339 with an offset)` }));

/** The parameters as the route documents and first checks them (names and types; their values are read below). */
export const EventQuerySchema = Type.Object(
  {
    eventType: many('ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent or AssociationEvent'),
    GE_eventTime: time('events that happened at or after'),
    LT_eventTime: time('events that happened before'),
    GE_recordTime: time('events recorded at or after'),
    LT_recordTime: time('events recorded before'),
    EQ_action: many('ADD, OBSERVE or DELETE'),
    EQ_bizStep: many('a business step, bare CBV ("shipping") or as a URI'),
    EQ_disposition: many('a disposition, bare CBV ("in_transit") or as a URI'),
    EQ_readPoint: many('a read point: an SGLN or a GS1 Digital Link (/414/…)'),
    EQ_bizLocation: many('a business location, as EQ_readPoint'),
    EQ_eventID: many('an eventID (urn:uuid:… for a step recorded through the REST routes, or as captured)'),
    MATCH_epc: many('an EPC in epcList or childEPCs, as an EPC URN or a GS1 Digital Link'),
    MATCH_parentID: many('the parentID, as MATCH_epc'),
    MATCH_inputEPC: many('an EPC in inputEPCList'),
    MATCH_outputEPC: many('an EPC in outputEPCList'),
    MATCH_anyEPC: many('an EPC in any of epcList, childEPCs, parentID, inputEPCList, outputEPCList'),
    MATCH_epcClass: many('an epcClass of a quantity list (a lot: urn:epc:class:lgtin:… or /01/…/10/…)'),
    EXISTS_errorDeclaration: Type.Optional(
      Type.String({ description: 'present (empty or "true"): only events declared erroneous' }),
    ),
    perPage: Type.Optional(Type.String({ description: `events per page, 1 to ${MAX_PER_PAGE} (default ${DEFAULT_PER_PAGE})` })),
    nextPageToken: Type.Optional(
      Type.String({ description: 'the token of the previous page (Link rel="next"), with the same other parameters' }),
    ),
    waitFor: WaitForParameter(),
  },
  { additionalProperties: false },
);

const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9]*$/;
const ACTIONS = ['ADD', 'OBSERVE', 'DELETE'];

type Reading = { ok: string } | { problem: string };

/** An identifier parameter's value in its normal form, or what is wrong with it. */
function identifier(value: string): Reading {
  if (value.startsWith('urn:epc:idpat:')) return { problem: 'EPC patterns (urn:epc:idpat:…) are not supported: name each EPC' };
  if (!isEpcisUri(value)) return { problem: `${value} is not a URI (an EPC URN or a GS1 Digital Link)` };
  const reading = readEpcisIdentifier(value);
  return reading.kind === 'invalid' ? { problem: `${value}: ${reading.problem}` } : { ok: normalIdentifier(value) };
}

const BARE_CBV = /^[a-z_]+$/;

/** How each list's values are read: in their normal form, or what is wrong with them. */
const VALUES: { readonly [P in ListName]: (value: string) => Reading } = {
  eventType: (v) => (EVENT_TYPE.test(v) ? { ok: v } : { problem: `${v} is not an event type name` }),
  EQ_action: (v) => (ACTIONS.includes(v) ? { ok: v } : { problem: `${v} is not one of ADD, OBSERVE, DELETE` }),
  EQ_bizStep: (v) => (isEpcisUri(v) || BARE_CBV.test(v) ? { ok: normalBizStep(v) } : { problem: `${v} is not a bizStep` }),
  EQ_disposition: (v) =>
    isEpcisUri(v) || BARE_CBV.test(v) ? { ok: normalDisposition(v) } : { problem: `${v} is not a disposition` },
  EQ_readPoint: identifier,
  EQ_bizLocation: identifier,
  EQ_eventID: (v) => (isEpcisUri(v) ? { ok: v } : { problem: `${v} is not a URI` }),
  MATCH_epc: identifier,
  MATCH_parentID: identifier,
  MATCH_inputEPC: identifier,
  MATCH_outputEPC: identifier,
  MATCH_anyEPC: identifier,
  MATCH_epcClass: identifier,
};

const valuesOf = (raw: unknown): string[] =>
  (Array.isArray(raw) ? raw : [raw]).flatMap((value) => String(value).split(',')).map((value) => value.trim());

/** The query string, as Fastify parsed it (a repeated parameter is an array), checked by EventQuerySchema. */
export function parseEventQuery(query: { readonly [name: string]: string | string[] | undefined }): EventQuery {
  const errors: FieldError[] = [];
  const filter: EventFilter = {};
  for (const [name, member] of Object.entries(LISTS) as [ListName, (typeof LISTS)[ListName]][]) {
    const raw = query[name];
    if (raw === undefined) continue;
    const values = new Set<string>();
    for (const value of valuesOf(raw)) {
      if (value === '') {
        errors.push({ pointer: `/${name}`, detail: 'has an empty value' });
        continue;
      }
      const parsed = VALUES[name](value);
      if ('ok' in parsed) values.add(parsed.ok);
      else errors.push({ pointer: `/${name}`, detail: parsed.problem });
    }
    filter[member] = [...values];
  }
  for (const [name, member] of Object.entries(TIMES) as [TimeName, (typeof TIMES)[TimeName]][]) {
    const raw = query[name];
    if (raw === undefined) continue;
    if (typeof raw !== 'string') errors.push({ pointer: `/${name}`, detail: 'is given once' });
    else if (!isEpcisDateTime(raw))
      errors.push({ pointer: `/${name}`, detail: `${raw} is not a time with an offset, such as 2026-11-26T09:30:00+01:00` });
    else filter[member] = raw;
  }
  const exists = query.EXISTS_errorDeclaration;
  if (exists !== undefined) {
    if (exists === '' || exists === 'true') filter.errorDeclaration = true;
    else errors.push({ pointer: '/EXISTS_errorDeclaration', detail: 'is given without a value, or as "true"' });
  }
  const perPage = single(query.perPage, '/perPage', errors);
  const size = perPage === undefined ? DEFAULT_PER_PAGE : Number(perPage);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PER_PAGE) {
    errors.push({ pointer: '/perPage', detail: `is a whole number from 1 to ${MAX_PER_PAGE}` });
  }
  const token = single(query.nextPageToken, '/nextPageToken', errors);
  let after: EventQuery['after'] = null;
  if (token !== undefined && errors.length === 0) {
    after = readPageToken(token, filter);
    if (!after) {
      errors.push({
        pointer: '/nextPageToken',
        detail: 'is not a page token of this query: repeat the other parameters as they were',
      });
    }
  }
  if (errors.length > 0) throw invalidRequest(errors);
  return { filter, perPage: size, after };
}

function single(raw: string | string[] | undefined, pointer: string, errors: FieldError[]): string | undefined {
  if (raw === undefined || typeof raw === 'string') return raw;
  errors.push({ pointer, detail: 'is given once' });
  return undefined;
}

/** A digest of the filter, so that a token is only taken back with the query it was made for. */
function filterDigest(filter: EventFilter): string {
  const members = Object.entries(filter).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url').slice(0, 16);
}

/** The token of the page after this ledger position: opaque to clients, stable under appends (positions only grow). */
export function pageToken(filter: EventFilter, position: { partition: number; sequence: number }): string {
  return Buffer.from(`${position.partition}.${position.sequence}.${filterDigest(filter)}`).toString('base64url');
}

function readPageToken(token: string, filter: EventFilter): { partition: number; sequence: number } | null {
  const match = /^(\d{1,6})\.(\d{1,15})\.([A-Za-z0-9_-]{16})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!match || match[3] !== filterDigest(filter)) return null;
  return { partition: Number(match[1]), sequence: Number(match[2]) };
}

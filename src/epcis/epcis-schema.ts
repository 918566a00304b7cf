import { Ajv, type ErrorObject } from 'ajv';
import epcisJsonSchema from './schema/EPCIS-JSON-Schema.json' with { type: 'json' };

/**
 * Checks EPCIS 2.0 JSON(-LD) documents and single events against GS1's own EPCIS JSON schema
 * (src/epcis/schema/, see SOURCE.md there), so that capture refuses exactly what the standard
 * refuses and names the place: every error is an RFC 6901 pointer into the document and what is
 * wrong there, ready for a 400 problem answer.
 */
export interface SchemaError {
  readonly pointer: string;
  readonly detail: string;
}

export type SchemaCheck = { readonly ok: true } | { readonly ok: false; readonly errors: readonly SchemaError[] };

/** What capture takes at its root: a document, or one event on its own (EPCIS 2.0 §8.2.4). */
export const CAPTURE_ROOT_TYPES = [
  'EPCISDocument',
  'EPCISQueryDocument',
  'ObjectEvent',
  'AggregationEvent',
  'TransactionEvent',
  'TransformationEvent',
  'AssociationEvent',
] as const;

const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const URI_REST = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
const BLANK_NODE = /^_:[A-Za-z0-9_\-.]+$/;

/**
 * GS1's schema marks identifiers, vocabulary values and extension member names as "uri". It
 * means the JSON-LD sense: any absolute URI (URNs such as urn:epc:id:sgtin:…, Digital Links,
 * compact names such as example:myField, whose prefix reads as a scheme) or a blank node id
 * (_:document1), which several of GS1's own examples use as the document id.
 */
export function isEpcisUri(value: string): boolean {
  if (BLANK_NODE.test(value)) return true;
  const scheme = URI_SCHEME.exec(value);
  if (!scheme) return false;
  const rest = value.slice(scheme[0].length);
  return rest.length > 0 && URI_REST.test(rest) && rest.indexOf('#') === rest.lastIndexOf('#');
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

/**
 * An xsd:dateTimeStamp as EPCIS writes it: RFC 3339 with an offset, any number of fraction
 * to nine fraction digits (nanoseconds, as the ledger), a real calendar day (a pattern alone would
 * take 2026-02-30), from the first instant of year 1 on, at an offset within ±14:00.
 */
/** 0001-01-01T00:00:00Z: an earlier instant (year 1 at a positive offset) is 1 BC to PostgreSQL. */
export const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');

export function isEpcisDateTime(value: string): boolean {
  const match = DATE_TIME.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  // Offsets within ±14:00, as EPCIS's eventTimeZoneOffset (and PostgreSQL, which refuses more
  // than ±15:59); before the first instant of year 1 is BC to PostgreSQL.
  const offsetOk = match[8] === 'Z' || Number(match[9]) * 60 + Number(match[10]) <= 14 * 60;
  return (
    Date.parse(value) >= FIRST_INSTANT &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetOk
  );
}

// The published schema trips three of Ajv's strict checks (a `required` naming a property its
// branch does not define, unions of types, an `if` without a type); it is GS1's text and stays
// as it is, so those checks are off and every other strict check stays on.
// `verbose` gives each error the value it judged, which is how a wrong member name is told
// apart from a wrong object: Ajv reports both at the object's path.
const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, strictTypes: false });
ajv.addFormat('uri', { type: 'string', validate: isEpcisUri });
ajv.addFormat('date-time', { type: 'string', validate: isEpcisDateTime });
const validateAgainstGs1Schema = ajv.compile(epcisJsonSchema);

const escapeToken = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

function valueAt(document: unknown, pointer: string): unknown {
  let current = document;
  for (const token of pointer.split('/').slice(1)) {
    const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
    current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[key] : undefined;
  }
  return current;
}

/**
 * The member name an error judged, when it judged a name: Ajv reports a wrong name at its
 * object's path (the schema's `propertyNames`), with the name as the value it looked at.
 */
function judgedMemberName(error: ErrorObject, document: unknown): string | undefined {
  if (error.keyword === 'propertyNames') return undefined;
  const judged: unknown = error.data;
  const at = valueAt(document, error.instancePath);
  const isObject = typeof at === 'object' && at !== null && !Array.isArray(at);
  return typeof judged === 'string' && isObject ? judged : undefined;
}

/** The pointer names the member itself when the error is about a member, not the object. */
function pointerOf(error: ErrorObject, document: unknown): string {
  const params = error.params as Record<string, unknown>;
  const member = judgedMemberName(error, document) ?? params.missingProperty ?? params.additionalProperty;
  return typeof member === 'string' ? `${error.instancePath}/${escapeToken(member)}` : error.instancePath;
}

function detailOf(error: ErrorObject, document: unknown): string {
  const params = error.params as Record<string, unknown>;
  if (judgedMemberName(error, document) !== undefined) {
    return 'is not a member of this object; an extension member is named by a URI or a prefixed name such as example:myField';
  }
  switch (error.keyword) {
    case 'not':
      return 'is not allowed here, with the other members of this object';
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a member of this object';
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'format':
      return params.format === 'date-time'
        ? 'must be a date-time with an offset, such as 2026-11-26T09:30:00.000+01:00'
        : 'must be a URI (such as urn:epc:id:sgtin:…, https://…, example:name) or a blank node id (_:name)';
    default:
      return error.message ?? 'is not valid';
  }
}

/**
 * Keywords that only say a branch failed: their own errors carry the place and the reason, so
 * the umbrella is reported only when nothing under it was.
 */
const UMBRELLA_KEYWORDS = new Set(['if', 'anyOf', 'oneOf', 'propertyNames']);

const isUnder = (pointer: string, ancestor: string) => pointer === ancestor || pointer.startsWith(`${ancestor}/`);

/**
 * A `required` that one branch of an `anyOf` asks for (an ObjectEvent has an epcList, or a
 * quantityList, or a sensorElementList) is noise when another branch got further into the same
 * object and failed deeper: that deeper error is the one to fix.
 */
function isAlternativeRequirement(error: ErrorObject, errors: readonly ErrorObject[]): boolean {
  if (error.keyword !== 'required' || !error.schemaPath.includes('/anyOf/')) return false;
  return errors.some(
    (other) =>
      !UMBRELLA_KEYWORDS.has(other.keyword) &&
      other.keyword !== 'required' &&
      other.instancePath.startsWith(`${error.instancePath}/`),
  );
}

function schemaErrors(errors: readonly ErrorObject[], document: unknown): SchemaError[] {
  const located = errors
    .filter((error) => !isAlternativeRequirement(error, errors))
    .map((error) => ({ error, pointer: pointerOf(error, document) }));
  const result: SchemaError[] = [];
  const seen = new Set<string>();
  for (const { error, pointer } of located) {
    if (UMBRELLA_KEYWORDS.has(error.keyword)) {
      const explained = located.some((other) => !UMBRELLA_KEYWORDS.has(other.error.keyword) && isUnder(other.pointer, pointer));
      if (explained) continue;
    }
    const found = { pointer, detail: detailOf(error, document) };
    const key = `${found.pointer}\n${found.detail}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(found);
  }
  return result;
}

/**
 * Checks a parsed JSON body as EPCIS capture takes it: an EPCISDocument, an EPCISQueryDocument
 * or a single event, each held against GS1's schema. The schema itself lets any other `type`
 * through (its branches are `if type is …`), so capture names the types it accepts.
 */
export function checkEpcisJson(body: unknown): SchemaCheck {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ pointer: '', detail: 'must be a JSON object: an EPCIS document or event' }] };
  }
  const type = (body as Record<string, unknown>).type;
  if (!CAPTURE_ROOT_TYPES.includes(type as (typeof CAPTURE_ROOT_TYPES)[number])) {
    return {
      ok: false,
      errors: [{ pointer: '/type', detail: `must be one of ${CAPTURE_ROOT_TYPES.map((t) => JSON.stringify(t)).join(', ')}` }],
    };
  }
  if (validateAgainstGs1Schema(body)) return { ok: true };
  return { ok: false, errors: schemaErrors(validateAgainstGs1Schema.errors ?? [], body) };
}

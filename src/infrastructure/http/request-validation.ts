import { Injectable, type PipeTransform } from '@nestjs/common';
import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type Parsed, parseGln, parseGtin, parseSscc } from '../../gs1/gs1-keys.js';
import { parseDigitalLinkPath } from '../../gs1/digital-link.js';
import { type ProblemDetails, ProblemException } from './problem-details.js';

/** One wrong field: an RFC 6901 JSON pointer into the request body, and what is wrong there. */
export interface FieldError {
  readonly pointer: string;
  readonly detail: string;
}

/** A request whose body does not fit its schema: 400, naming every wrong field. */
export function invalidRequest(errors: readonly FieldError[]): ProblemException {
  const problem: ProblemDetails = {
    type: '/problems/invalid-request',
    title: 'The request is not valid',
    status: 400,
    detail: errors.map((error) => `${error.pointer || '(body)'}: ${error.detail}`).join('; '),
    errors: [...errors],
  };
  return new ProblemException(problem);
}

/** 0001-01-01T00:00:00Z: an earlier instant (year 1 at a positive offset) is 1 BC to PostgreSQL. */
const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * An RFC 3339 time with an offset, checked on the calendar too: Date.parse would take
 * 2026-02-30 as 2 March, and a custody step must not move in time on the way in.
 */
export function parseInstant(value: unknown): Parsed<string> {
  const match = typeof value === 'string' ? RFC3339.exec(value) : null;
  if (!match) return { ok: false, problem: 'a time is RFC 3339 with an offset, such as 2026-11-26T09:30:00+01:00' };
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  // Offsets within ±14:00 (the world's time zones; PostgreSQL refuses more than ±15:59), from the first instant of year 1.
  const offsetOk = match[8] === 'Z' || Number(match[10]) * 60 + Number(match[11]) <= 14 * 60;
  if (
    !(Date.parse(value as string) >= FIRST_INSTANT) ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    !offsetOk
  ) {
    return { ok: false, problem: `${String(value)} is not a time on the calendar` };
  }
  return { ok: true, value: value as string };
}

function parseProductPath(value: unknown): Parsed<string> {
  if (typeof value !== 'string') return { ok: false, problem: 'a product is a GS1 Digital Link path' };
  const parsed = parseDigitalLinkPath(value);
  if (!parsed.ok) return parsed;
  if (parsed.value.kind === 'sscc')
    return { ok: false, problem: 'a product is /01/{GTIN}/21/{serial} or /01/{GTIN}/10/{lot}, not an SSCC' };
  return { ok: true, value };
}

function parseShipmentPath(value: unknown): Parsed<string> {
  if (typeof value !== 'string') return { ok: false, problem: 'a shipment is a GS1 Digital Link path' };
  const parsed = parseDigitalLinkPath(value);
  if (!parsed.ok) return parsed;
  if (parsed.value.kind !== 'sscc') return { ok: false, problem: 'a shipment is /00/{SSCC}' };
  return { ok: true, value };
}

function parseEntityPath(value: unknown): Parsed<string> {
  if (typeof value !== 'string') return { ok: false, problem: 'an entity is a GS1 Digital Link path' };
  const parsed = parseDigitalLinkPath(value);
  return parsed.ok ? { ok: true, value } : parsed;
}

/**
 * The string formats of the API. Each names what is wrong rather than only that it is wrong
 * (which check digit would be right, which form a path must take).
 */
export const FORMATS: { readonly [name: string]: (value: unknown) => Parsed<unknown> } = {
  gtin: parseGtin,
  gln: parseGln,
  sscc: parseSscc,
  'date-time': parseInstant,
  'gs1-product': parseProductPath,
  'gs1-shipment': parseShipmentPath,
  'gs1-entity': parseEntityPath,
  uri: (value) => {
    try {
      const url = new URL(String(value));
      return ['https:', 'http:'].includes(url.protocol) ? { ok: true, value } : { ok: false, problem: 'a URL is http or https' };
    } catch {
      return { ok: false, problem: 'not an absolute URL' };
    }
  },
};

const ajv = new Ajv({ allErrors: true, strict: true, coerceTypes: false, useDefaults: false });
ajv.addKeyword('example');
for (const [name, parse] of Object.entries(FORMATS)) ajv.addFormat(name, { validate: (value: string) => parse(value).ok });

function valueAt(data: unknown, pointer: string): unknown {
  let current = data;
  for (const token of pointer.split('/').slice(1)) {
    const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
    current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[key] : undefined;
  }
  return current;
}

const escapeToken = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

function fieldError(error: ErrorObject, data: unknown, prefix: string): FieldError {
  const at = prefix + error.instancePath;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { pointer: `${at}/${escapeToken(String(params.missingProperty))}`, detail: 'is required' };
    case 'additionalProperties':
      return { pointer: `${at}/${escapeToken(String(params.additionalProperty))}`, detail: 'is not a field of this request' };
    case 'format': {
      const parse = FORMATS[String(params.format)];
      const parsed = parse?.(valueAt(data, error.instancePath));
      return { pointer: at, detail: parsed && !parsed.ok ? parsed.problem : (error.message ?? 'has the wrong format') };
    }
    case 'const':
    case 'enum': {
      if (error.message !== undefined && error.schemaPath === '') return { pointer: at, detail: error.message };
      const allowed = (params.allowedValues as unknown[] | undefined) ?? [params.allowedValue];
      return { pointer: at, detail: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}` };
    }
    default:
      return { pointer: at, detail: error.message ?? 'is not valid' };
  }
}

const compiled = new WeakMap<TSchema, ValidateFunction>();

/** Checks `data` against `schema`; the errors' pointers start with `prefix` (for batch steps). */
export function checkSchema<T extends TSchema>(schema: T, data: unknown, prefix = ''): Static<T> {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(data)) return data;
  const errors = collapseAlternatives(validate.errors ?? []).map((error) => fieldError(error, data, prefix));
  const unique = [...new Map(errors.map((e) => [`${e.pointer}\n${e.detail}`, e])).values()];
  throw invalidRequest(unique);
}

/**
 * anyOf reports one error per branch and then its own; a person needs one line: the values
 * allowed (a union of literals), or the types allowed.
 */
function collapseAlternatives(errors: readonly ErrorObject[]): ErrorObject[] {
  const alternatives = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const result: ErrorObject[] = [];
  for (const path of alternatives) {
    const branches = errors.filter((e) => e.instancePath === path && e.keyword !== 'anyOf');
    const consts = branches.filter((e) => e.keyword === 'const').map((e) => (e.params as { allowedValue: unknown }).allowedValue);
    const types = branches.filter((e) => e.keyword === 'type').map((e) => String((e.params as { type: unknown }).type));
    const message =
      consts.length === branches.length
        ? undefined
        : types.length === branches.length
          ? `must be a ${[...new Set(types)].join(' or a ')}`
          : 'matches none of the allowed forms';
    result.push({ instancePath: path, schemaPath: '', keyword: 'enum', params: { allowedValues: consts }, message });
  }
  return [...result, ...errors.filter((e) => !alternatives.has(e.instancePath))];
}

/** A body pipe: the body as the schema's type, or a 400 naming every wrong field. */
@Injectable()
export class SchemaPipe<T extends TSchema> implements PipeTransform<unknown, Static<T>> {
  constructor(readonly schema: T) {}

  transform(value: unknown): Static<T> {
    if (value === undefined) throw invalidRequest([{ pointer: '', detail: 'a JSON body is required' }]);
    return checkSchema(this.schema, value);
  }
}

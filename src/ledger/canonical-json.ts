/**
 * RFC 8785 JSON Canonicalization Scheme (JCS). The ledger hashes and signs these bytes, so
 * two implementations must produce them identically: see docs/ledger-format.md.
 *
 * - objects: members sorted by their names' UTF-16 code units, no white space;
 * - strings: ECMAScript JSON.stringify escaping; lone surrogates are refused (I-JSON);
 * - numbers: IEEE 754 doubles in ECMAScript Number-to-String form (JSON.stringify);
 *   NaN and the infinities are refused;
 * - only null, booleans, numbers, strings, arrays and plain objects are accepted.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export class CanonicalJsonError extends Error {
  override name = 'CanonicalJsonError';

  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`${path || '(root)'}: ${problem}`);
  }
}

const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The keys and indexes from the root to the value being serialized. A JSON pointer is built
 * from it only for an error: on the hot path (every record a verifier reads) no path strings
 * are made.
 */
type Trail = (string | number)[];

function fail(trail: Trail, problem: string): never {
  const pointer = trail.map((step) => `/${String(step).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
  throw new CanonicalJsonError(pointer, problem);
}

function serializeString(value: string, trail: Trail): string {
  // Most strings hold no surrogate at all; only those that do need the slower look-around test.
  if (SURROGATE.test(value) && LONE_SURROGATE.test(value)) fail(trail, 'string holds a lone UTF-16 surrogate');
  return JSON.stringify(value);
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function serialize(value: unknown, trail: Trail): string {
  if (trail.length > 64) fail(trail, 'nested deeper than 64 levels');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) fail(trail, `${String(value)} is not a JSON number`);
      return JSON.stringify(value);
    case 'string':
      return serializeString(value, trail);
    case 'object': {
      if (Array.isArray(value)) {
        // An indexed loop, not map(): map() skips the holes of a sparse array.
        let text = '[';
        for (let index = 0; index < value.length; index++) {
          const item: unknown = value[index];
          trail.push(index);
          if (item === undefined) fail(trail, 'undefined is not a JSON value');
          text += (index > 0 ? ',' : '') + serialize(item, trail);
          trail.pop();
        }
        return `${text}]`;
      }
      const prototype = Object.getPrototypeOf(value) as unknown;
      if (prototype !== Object.prototype && prototype !== null) fail(trail, 'only plain objects are JSON objects');
      const object = value as Record<string, unknown>;
      const keys = Object.keys(object).sort(byCodeUnits);
      let text = '{';
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        const item = object[key];
        trail.push(key);
        if (item === undefined) fail(trail, 'undefined is not a JSON value');
        text += `${i > 0 ? ',' : ''}${serializeString(key, trail)}:${serialize(item, trail)}`;
        trail.pop();
      }
      return `${text}}`;
    }
    default:
      return fail(trail, `a ${typeof value} is not a JSON value`);
  }
}

/** The canonical JSON text of a value. Paths in errors are JSON pointers. */
export function canonicalize(value: unknown): string {
  return serialize(value, []);
}

const encoder = new TextEncoder();

/** The canonical JSON of a value as UTF-8 bytes: what the ledger hashes. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalize(value));
}

/**
 * The canonical JSON of a member found at `path` in a larger value: its depth and the pointers
 * in errors count from the top of that value, as canonicalBytes of the whole would.
 */
export function canonicalBytesAt(value: unknown, path: readonly (string | number)[]): Uint8Array {
  return encoder.encode(serialize(value, [...path]));
}

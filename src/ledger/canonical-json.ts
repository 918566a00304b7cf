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

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function serializeString(value: string, path: string): string {
  if (LONE_SURROGATE.test(value)) throw new CanonicalJsonError(path, 'string holds a lone UTF-16 surrogate');
  return JSON.stringify(value);
}

function serialize(value: unknown, path: string, depth: number): string {
  if (depth > 64) throw new CanonicalJsonError(path, 'nested deeper than 64 levels');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(path, `${String(value)} is not a JSON number`);
      return JSON.stringify(value);
    case 'string':
      return serializeString(value, path);
    case 'object': {
      if (Array.isArray(value)) {
        // An indexed loop, not map(): map() skips the holes of a sparse array.
        const items: string[] = [];
        for (let index = 0; index < value.length; index++) {
          const item: unknown = value[index];
          if (item === undefined) throw new CanonicalJsonError(`${path}/${index}`, 'undefined is not a JSON value');
          items.push(serialize(item, `${path}/${index}`, depth + 1));
        }
        return `[${items.join(',')}]`;
      }
      const prototype = Object.getPrototypeOf(value) as unknown;
      if (prototype !== Object.prototype && prototype !== null) {
        throw new CanonicalJsonError(path, 'only plain objects are JSON objects');
      }
      const entries = Object.entries(value as Record<string, unknown>);
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const members = entries.map(([key, item]) => {
        const memberPath = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (item === undefined) throw new CanonicalJsonError(memberPath, 'undefined is not a JSON value');
        return `${serializeString(key, memberPath)}:${serialize(item, memberPath, depth + 1)}`;
      });
      return `{${members.join(',')}}`;
    }
    default:
      throw new CanonicalJsonError(path, `a ${typeof value} is not a JSON value`);
  }
}

/** The canonical JSON text of a value. Paths in errors are JSON pointers. */
export function canonicalize(value: unknown): string {
  return serialize(value, '', 0);
}

const encoder = new TextEncoder();

/** The canonical JSON of a value as UTF-8 bytes: what the ledger hashes. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalize(value));
}

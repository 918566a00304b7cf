import { type Parsed, parseGtin, parseLot, parseSerial, parseSscc } from './gs1-keys.js';

/**
 * The identities Custodian records, written as GS1 Digital Link URI paths (GS1 Digital Link
 * standard, section 4). These paths are the entity ids in the ledger (docs/ledger-format.md):
 * printable ASCII, one canonical spelling per identity, and what a consumer's QR code resolves.
 *
 *   SGTIN  /01/{gtin14}/21/{serial}
 *   LGTIN  /01/{gtin14}/10/{lot}
 *   SSCC   /00/{sscc}
 */
export type Gs1Identity =
  | { readonly kind: 'sgtin'; readonly gtin: string; readonly serial: string }
  | { readonly kind: 'lgtin'; readonly gtin: string; readonly lot: string }
  | { readonly kind: 'sscc'; readonly sscc: string };

/**
 * Characters of set 82 that a URI path segment must escape (RFC 3986 and GS1 Digital Link
 * 4.5): percent-encode everything but unreserved characters and the sub-delimiters allowed.
 */
export function encodeSegment(value: string): string {
  return value.replace(
    /[^A-Za-z0-9\-._~!$&'()*+,;=:@]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/** A path segment's value, or undefined when its percent-encoding is broken. */
export function decodeSegment(segment: string): string | undefined {
  if (/%(?![0-9A-Fa-f]{2})/.test(segment)) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** How a shipment's path starts (the SSCC's application identifier, 00); a product's starts with /01/. */
const SHIPMENT_PATH = '/00/';

/**
 * Whether an entity id names a shipment (an SSCC path). Custodian's entities are products and
 * shipments, told apart by the path's first segment: this reads nothing else, so it is as cheap
 * as the folds need (parseDigitalLinkPath checks the whole path).
 */
export function isShipmentId(id: string): boolean {
  return id.startsWith(SHIPMENT_PATH);
}

/** Whether an entity id names a product (an SGTIN or LGTIN path): every entity that is not a shipment. */
export function isProductId(id: string): boolean {
  return !isShipmentId(id);
}

export function digitalLinkPath(identity: Gs1Identity): string {
  switch (identity.kind) {
    case 'sgtin':
      return `/01/${identity.gtin}/21/${encodeSegment(identity.serial)}`;
    case 'lgtin':
      return `/01/${identity.gtin}/10/${encodeSegment(identity.lot)}`;
    case 'sscc':
      return `${SHIPMENT_PATH}${identity.sscc}`;
  }
}

/** Reads a Digital Link path back into an identity, checking every key it holds. */
export function parseDigitalLinkPath(path: string): Parsed<Gs1Identity> {
  const segments = path.split('/');
  if (segments[0] !== '' || segments.length < 3)
    return { ok: false, problem: 'a GS1 Digital Link path starts with /01/ or /00/' };
  const [, ai, key, qualifierAi, qualifier, ...rest] = segments;
  if (ai === '00' && segments.length === 3) {
    const sscc = parseSscc(key);
    return sscc.ok ? { ok: true, value: { kind: 'sscc', sscc: sscc.value } } : sscc;
  }
  if (ai !== '01' || rest.length > 0 || qualifier === undefined) {
    return { ok: false, problem: 'expected /01/{GTIN}/21/{serial}, /01/{GTIN}/10/{lot} or /00/{SSCC}' };
  }
  const gtin = parseGtin(key);
  if (!gtin.ok) return gtin;
  if (gtin.value !== key) return { ok: false, problem: 'a Digital Link path carries the GTIN in its 14-digit form' };
  const decoded = decodeSegment(qualifier);
  if (decoded === undefined) return { ok: false, problem: 'the serial or lot is not correctly percent-encoded' };
  if (qualifierAi === '21') {
    const serial = parseSerial(decoded);
    if (!serial.ok) return serial;
    return canonical({ kind: 'sgtin', gtin: gtin.value, serial: serial.value }, path);
  }
  if (qualifierAi === '10') {
    const lot = parseLot(decoded);
    if (!lot.ok) return lot;
    return canonical({ kind: 'lgtin', gtin: gtin.value, lot: lot.value }, path);
  }
  return { ok: false, problem: 'after /01/{GTIN} comes /21/{serial} or /10/{lot}' };
}

/** One spelling per identity: a path with needless or lower-case escapes is refused. */
function canonical(identity: Gs1Identity, path: string): Parsed<Gs1Identity> {
  const expected = digitalLinkPath(identity);
  return expected === path
    ? { ok: true, value: identity }
    : { ok: false, problem: `the canonical form of this path is ${expected}` };
}

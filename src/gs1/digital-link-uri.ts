import { decodeSegment, digitalLinkPath, encodeSegment } from './digital-link.js';
import { type Parsed, parseGln, parseGtin, parseLot, parseSerial, parseSscc } from './gs1-keys.js';
import type { Gs1KeyIdentity } from './gs1-key-identity.js';

/**
 * GS1 Digital Link URIs (GS1 Digital Link: URI Syntax 1.2, section 4) on any domain, for the
 * keys Custodian records:
 *
 *   https://{any host}[/{any path}]/01/{GTIN}/21/{serial}        an item (SGTIN)
 *   https://{any host}[/{any path}]/01/{GTIN}/10/{lot}           a lot (LGTIN)
 *   https://{any host}[/{any path}]/01/{GTIN}/10/{lot}/21/{serial}  an item (the lot is left out)
 *   https://{any host}[/{any path}]/00/{SSCC}                    a logistic unit
 *   https://{any host}[/{any path}]/414/{GLN}[/254/{extension}]  a location
 *   https://{any host}[/{any path}]/417/{GLN}                    a party
 *
 * A query string (data attributes such as ?17=…) and a fragment do not change the key and are
 * left out. Links with other primary keys (GRAI 8003, GIAI 8004, GSRN 8018, …) or a GTIN
 * without serial or lot are GS1 keys, but not of anything Custodian records.
 */
export type DigitalLinkReading =
  | { readonly kind: 'key'; readonly identity: Gs1KeyIdentity }
  | { readonly kind: 'other-key'; readonly primaryKey: string; readonly reason: string };

/** Primary keys of GS1 Digital Link 1.2 (table 6-1): a path is read from where one of them starts. */
const PRIMARY_KEYS = [
  '01',
  '00',
  '414',
  '417',
  '8003',
  '8004',
  '8006',
  '8010',
  '8013',
  '8017',
  '8018',
  '253',
  '255',
  '401',
  '402',
];

const DIGITAL_LINK = /^https?:\/\/[^/?#\s]+(\/[^?#\s]*)(?:\?[^#\s]*)?(?:#\S*)?$/;

type Pairs = readonly (readonly [ai: string, value: string])[];

function readPairs(segments: readonly string[]): Pairs | undefined {
  if (segments.length % 2 !== 0) return undefined;
  const pairs: [string, string][] = [];
  for (let i = 0; i < segments.length; i += 2) {
    const ai = segments[i] ?? '';
    const value = decodeSegment(segments[i + 1] ?? '');
    if (!/^\d{2,4}$/.test(ai) || value === undefined || value === '') return undefined;
    pairs.push([ai, value]);
  }
  return pairs;
}

const key = (identity: Gs1KeyIdentity): Parsed<DigitalLinkReading> => ({ ok: true, value: { kind: 'key', identity } });
const otherKey = (primaryKey: string, reason: string): Parsed<DigitalLinkReading> => ({
  ok: true,
  value: { kind: 'other-key', primaryKey, reason },
});
const fail = (problem: string): Parsed<DigitalLinkReading> => ({ ok: false, problem });

function readGtinLink(gtinValue: string, qualifiers: Pairs): Parsed<DigitalLinkReading> {
  const gtin = parseGtin(gtinValue);
  if (!gtin.ok) return gtin;
  const ais = qualifiers.map(([ai]) => ai).join('/');
  const lotValue = qualifiers.find(([ai]) => ai === '10')?.[1];
  const serialValue = qualifiers.find(([ai]) => ai === '21')?.[1];
  if (ais === '') return otherKey('01', 'a GTIN alone names a class of products, not an item or a lot Custodian records');
  if (ais === '22' || ais.startsWith('22/')) {
    return otherKey('01', 'a consumer product variant (AI 22) is not part of the product keys Custodian records');
  }
  if (!['10', '21', '10/21'].includes(ais)) return fail('after /01/{GTIN} come /10/{lot} and then /21/{serial}, in that order');
  const lot = lotValue === undefined ? undefined : parseLot(lotValue);
  if (lot && !lot.ok) return lot;
  // An item is its GTIN and serial (GS1 General Specifications 4.14.3.1); a lot given too is
  // an attribute of the item, not part of its key.
  if (serialValue !== undefined) {
    const serial = parseSerial(serialValue);
    return serial.ok ? key({ kind: 'sgtin', gtin: gtin.value, serial: serial.value }) : serial;
  }
  return lot ? key({ kind: 'lgtin', gtin: gtin.value, lot: lot.value }) : fail('a GTIN link names a serial or a lot');
}

function readPath(primary: string, value: string, qualifiers: Pairs): Parsed<DigitalLinkReading> {
  switch (primary) {
    case '01':
      return readGtinLink(value, qualifiers);
    case '00': {
      if (qualifiers.length > 0) return fail('an SSCC link has no key qualifiers');
      const sscc = parseSscc(value);
      return sscc.ok ? key({ kind: 'sscc', sscc: sscc.value }) : sscc;
    }
    case '414': {
      const gln = parseGln(value);
      if (!gln.ok) return gln;
      if (qualifiers.length === 0) return key({ kind: 'location', gln: gln.value });
      const [only] = qualifiers;
      if (qualifiers.length > 1 || only?.[0] !== '254') return fail('after /414/{GLN} comes only /254/{GLN extension}');
      const extension = parseSerial(only[1]);
      if (!extension.ok) return fail('a GLN extension is 1 to 20 characters of GS1 character set 82');
      return key({ kind: 'location', gln: gln.value, extension: extension.value });
    }
    case '417': {
      if (qualifiers.length > 0) return fail('a party link has no key qualifiers');
      const gln = parseGln(value);
      return gln.ok ? key({ kind: 'party', gln: gln.value }) : gln;
    }
    default:
      return otherKey(primary, `AI ${primary} is a GS1 key, but not of a product, shipment, location or party Custodian records`);
  }
}

/**
 * Reads a GS1 Digital Link URI on any domain. `undefined` means the URI is not a Digital Link
 * at all (no primary key AI in its path); a Digital Link with a wrong key is a failure that
 * says what is wrong.
 */
export function parseDigitalLinkUri(uri: string): Parsed<DigitalLinkReading> | undefined {
  const path = DIGITAL_LINK.exec(uri)?.[1];
  if (path === undefined) return undefined;
  const segments = path.split('/').slice(1);
  if (segments.at(-1) === '') segments.pop();
  // The path may start with any prefix of the domain owner's (Digital Link 4.6); the key
  // starts at the first primary key AI from which the rest of the path reads as AI/value pairs.
  for (let start = 0; start < segments.length; start++) {
    const primary = segments[start] ?? '';
    if (!PRIMARY_KEYS.includes(primary)) continue;
    const pairs = readPairs(segments.slice(start));
    if (pairs === undefined) continue;
    const [[, value], ...qualifiers] = pairs as [readonly [string, string], ...Pairs];
    return readPath(primary, value, qualifiers);
  }
  return undefined;
}

const canonicalGs1Origin = 'https://id.gs1.org';

/** Writes a key as a Digital Link URI with its canonical path, on `origin` (id.gs1.org by default). */
export function digitalLinkUri(identity: Gs1KeyIdentity, origin: string = canonicalGs1Origin): string {
  switch (identity.kind) {
    case 'location':
      return `${origin}/414/${identity.gln}${identity.extension === undefined ? '' : `/254/${encodeSegment(identity.extension)}`}`;
    case 'party':
      return `${origin}/417/${identity.gln}`;
    default:
      return `${origin}${digitalLinkPath(identity)}`;
  }
}

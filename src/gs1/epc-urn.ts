import { gs1CheckDigit, type Parsed, parseLot, parseSerial } from './gs1-keys.js';
import type { Gs1KeyIdentity } from './gs1-key-identity.js';

/**
 * EPC URIs of the GS1 EPC Tag Data Standard (TDS 2.x, section 6 "EPC URI"): the pure identity
 * URIs `urn:epc:id:sgtin|sscc|sgln|pgln:…` and the class URI `urn:epc:class:lgtin:…` that
 * EPCIS events use for the keys Custodian records.
 *
 *   urn:epc:id:sgtin:{company prefix}.{indicator digit + item reference}.{serial}
 *   urn:epc:class:lgtin:{company prefix}.{indicator digit + item reference}.{lot}
 *   urn:epc:id:sscc:{company prefix}.{extension digit + serial reference}
 *   urn:epc:id:sgln:{company prefix}.{location reference}.{extension, "0" when none}
 *   urn:epc:id:pgln:{company prefix}.{party reference}
 *
 * The GS1 Company Prefix (6 to 12 digits) is where a key splits; nothing in the key itself
 * tells its length, so writing a URN takes it, and reading one returns it.
 */
export interface EpcUrnReading {
  readonly identity: Gs1KeyIdentity;
  readonly companyPrefixLength: number;
}

/** Schemes of `urn:epc:id:` and `urn:epc:class:` that carry a key Custodian records. */
export const CUSTODIAN_EPC_SCHEMES = [
  'urn:epc:id:sgtin:',
  'urn:epc:class:lgtin:',
  'urn:epc:id:sscc:',
  'urn:epc:id:sgln:',
  'urn:epc:id:pgln:',
];

/**
 * TDS Table A-1: of the 82 characters of GS1 AI encodable character set 82, these seven are
 * written as %-escapes in an EPC URI; the others stand for themselves.
 */
const ESCAPED_IN_URN: Readonly<Record<string, string>> = {
  '"': '%22',
  '%': '%25',
  '&': '%26',
  '/': '%2F',
  '<': '%3C',
  '>': '%3E',
  '?': '%3F',
};

const CSET82_CHAR = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]$/;
const URN_COMPONENT = /^(?:[A-Za-z0-9!'()*+,\-.:;=_]|%[0-9A-Fa-f]{2})+$/;

/** Writes a serial, lot or GLN extension as an EPC URI component (TDS Table A-1). */
export function escapeEpcComponent(value: string): string {
  return value.replace(/["%&/<>?]/g, (c) => ESCAPED_IN_URN[c] ?? c);
}

/**
 * Reads an EPC URI component back: every %-escape must stand for a character of set 82
 * (TDS 6.3: "the two hexadecimal characters following the % character must map to one of
 * the 82 allowed characters"), in either case of hex digits.
 */
export function unescapeEpcComponent(component: string): string | undefined {
  if (!URN_COMPONENT.test(component)) return undefined;
  const escapes = component.match(/%[0-9A-Fa-f]{2}/g) ?? [];
  const decode = (escape: string) => String.fromCharCode(parseInt(escape.slice(1), 16));
  if (!escapes.every((escape) => CSET82_CHAR.test(decode(escape)))) return undefined;
  return component.replace(/%[0-9A-Fa-f]{2}/g, decode);
}

const fail = (problem: string): Parsed<EpcUrnReading> => ({ ok: false, problem });

function digitsSplit(companyPrefix: string, reference: string, total: number, name: string): string | undefined {
  if (!/^\d{6,12}$/.test(companyPrefix)) return `the GS1 Company Prefix of an ${name} URN has 6 to 12 digits`;
  if (!/^\d*$/.test(reference) || companyPrefix.length + reference.length !== total) {
    return `the company prefix and reference of an ${name} URN have ${total} digits together`;
  }
  return undefined;
}

const withCheckDigit = (digits: string) => `${digits}${gs1CheckDigit(digits)}`;

/** Reads an EPC URN of one of CUSTODIAN_EPC_SCHEMES into the key it names. */
export function parseEpcUrn(uri: string): Parsed<EpcUrnReading> {
  const scheme = CUSTODIAN_EPC_SCHEMES.find((prefix) => uri.startsWith(prefix));
  if (scheme === undefined) return fail('not an SGTIN, LGTIN, SSCC, SGLN or PGLN EPC URN');
  // A serial, lot or extension may hold dots itself: only the first two dots split.
  const [companyPrefix = '', reference = '', ...rest] = uri.slice(scheme.length).split('.');
  const third = rest.length > 0 ? rest.join('.') : undefined;
  const companyPrefixLength = companyPrefix.length;
  const ok = (identity: Gs1KeyIdentity): Parsed<EpcUrnReading> => ({ ok: true, value: { identity, companyPrefixLength } });
  switch (scheme) {
    case 'urn:epc:id:sgtin:':
    case 'urn:epc:class:lgtin:': {
      const name = scheme === 'urn:epc:id:sgtin:' ? 'SGTIN' : 'LGTIN';
      if (third === undefined) return fail(`an ${name} URN has three parts separated by dots`);
      const wrong = digitsSplit(companyPrefix, reference, 13, name);
      if (wrong) return fail(wrong);
      const gtin = withCheckDigit(`${reference.slice(0, 1)}${companyPrefix}${reference.slice(1)}`);
      const text = unescapeEpcComponent(third);
      if (text === undefined) return fail(`the last part of an ${name} URN uses characters of set 82 and %-escapes of them only`);
      if (name === 'SGTIN') {
        const serial = parseSerial(text);
        return serial.ok ? ok({ kind: 'sgtin', gtin, serial: serial.value }) : serial;
      }
      const lot = parseLot(text);
      return lot.ok ? ok({ kind: 'lgtin', gtin, lot: lot.value }) : lot;
    }
    case 'urn:epc:id:sscc:': {
      if (third !== undefined) return fail('an SSCC URN has two parts separated by a dot');
      const wrong = digitsSplit(companyPrefix, reference, 17, 'SSCC');
      return wrong
        ? fail(wrong)
        : ok({ kind: 'sscc', sscc: withCheckDigit(`${reference.slice(0, 1)}${companyPrefix}${reference.slice(1)}`) });
    }
    case 'urn:epc:id:sgln:': {
      if (third === undefined) return fail('an SGLN URN has three parts separated by dots');
      const wrong = digitsSplit(companyPrefix, reference, 12, 'SGLN');
      if (wrong) return fail(wrong);
      const gln = withCheckDigit(`${companyPrefix}${reference}`);
      // TDS 6.3.3: the extension "0" says the GLN is used without an extension (AI 254).
      if (third === '0') return ok({ kind: 'location', gln });
      const extension = unescapeEpcComponent(third);
      if (extension === undefined || extension.length > 20) {
        return fail('the extension of an SGLN URN is 1 to 20 characters of set 82, %-escaped as TDS Table A-1 says');
      }
      return ok({ kind: 'location', gln, extension });
    }
    default: {
      if (third !== undefined) return fail('a PGLN URN has two parts separated by a dot');
      const wrong = digitsSplit(companyPrefix, reference, 12, 'PGLN');
      return wrong ? fail(wrong) : ok({ kind: 'party', gln: withCheckDigit(`${companyPrefix}${reference}`) });
    }
  }
}

/**
 * Writes a key as its EPC URN, split after `companyPrefixLength` digits (6 to 12; the GS1
 * Company Prefix the key was allocated under, which only its owner or GS1's prefix list knows).
 */
export function epcUrn(identity: Gs1KeyIdentity, companyPrefixLength: number): string {
  if (!Number.isInteger(companyPrefixLength) || companyPrefixLength < 6 || companyPrefixLength > 12) {
    throw new RangeError('a GS1 Company Prefix has 6 to 12 digits');
  }
  const cp = companyPrefixLength;
  switch (identity.kind) {
    case 'sgtin':
    case 'lgtin': {
      const { gtin } = identity;
      const companyPrefix = gtin.slice(1, 1 + cp);
      const itemReference = `${gtin.slice(0, 1)}${gtin.slice(1 + cp, 13)}`;
      return identity.kind === 'sgtin'
        ? `urn:epc:id:sgtin:${companyPrefix}.${itemReference}.${escapeEpcComponent(identity.serial)}`
        : `urn:epc:class:lgtin:${companyPrefix}.${itemReference}.${escapeEpcComponent(identity.lot)}`;
    }
    case 'sscc': {
      const { sscc } = identity;
      return `urn:epc:id:sscc:${sscc.slice(1, 1 + cp)}.${sscc.slice(0, 1)}${sscc.slice(1 + cp, 17)}`;
    }
    case 'location':
      return `urn:epc:id:sgln:${identity.gln.slice(0, cp)}.${identity.gln.slice(cp, 12)}.${identity.extension === undefined ? '0' : escapeEpcComponent(identity.extension)}`;
    case 'party':
      return `urn:epc:id:pgln:${identity.gln.slice(0, cp)}.${identity.gln.slice(cp, 12)}`;
  }
}

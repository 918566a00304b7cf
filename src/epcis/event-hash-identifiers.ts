import { gs1CheckDigit } from '../gs1/gs1-keys.js';

/**
 * Step 17-18 of the EPCIS Event Hash ID (CBV 2.0 §8.9): every EPC URI, EPC class URI, EPC
 * pattern URI and GS1 Digital Link in an event becomes its "constrained canonical" Digital
 * Link on https://id.gs1.org, with the finest key only and no query string. The rules follow
 * the reference implementation's normaliser (RalphTro/epcis-event-hash-generator,
 * dl_normaliser.py), since two implementations only agree on a hash if they agree here too:
 * its character sets, its percent-encoding of ! ( ) * + , : in EPC components (escapes already
 * in the URN are kept as they are), and a Digital Link it cannot read (a key value with an
 * escape, for one) staying as it was written.
 */

/** A character of an EPC URN component, as the reference reads one: a literal or an escape. */
const URN_CHAR = `(?:%(?:2[125-9A-Fa-f]|3[0-9A-Fa-f]|4[1-9A-Fa-f]|5[0-9AaFf]|6[1-9A-Fa-f]|7[0-9Aa])|[!')(*+,.0-9:;=A-Za-z_-])`;
/** Characters of a CPI component (TDS 6.3.13: digits, capitals, # - /). */
const CPI_CHAR = `(?:%(?:2[3dfDF]|3[0-9]|4[1-9A-Fa-f]|5[0-9Aa])|[0-9A-Z-])`;
/** Characters a key value may hold in the canonical links the reference writes. */
const DL_CHAR = `["'\\-.0-9;-?A-Z_a-z]`;

/** Company prefix and reference with `total` digits together, the prefix of 6 to 12 digits. */
function digitsSplitPattern(total: number, whenReferenceIsEmpty: string): string {
  const options: string[] = [];
  for (let prefix = 6; prefix <= 12; prefix++) {
    options.push(prefix === total ? `\\d{${prefix}}${whenReferenceIsEmpty}` : `\\d{${prefix}}\\.\\d{${total - prefix}}`);
  }
  return `(?:${options.join('|')})`;
}

const digitsOf = (count: number) => digitsSplitPattern(count, '\\.');

/** The GS1 Digital Link percent-encoding (table 7-1) of characters an EPC URN writes literally. */
function encodeForLink(component: string): string {
  return component.replace(/[!()*+,:]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const withCheckDigit = (digits: string) => `${digits}${gs1CheckDigit(digits)}`;

interface UrnForm {
  readonly pattern: RegExp;
  /** `afterPrefix` is everything after the first dot; `reference` and `rest` split it at its first dot. */
  readonly link: (prefix: string, reference: string, rest: string, afterPrefix: string) => string;
}

function splitUrn(uri: string, schemeLength: number): [prefix: string, reference: string, rest: string, afterPrefix: string] {
  const body = uri.slice(schemeLength);
  const prefix = body.slice(0, body.indexOf('.'));
  const afterPrefix = body.slice(body.indexOf('.') + 1);
  const second = afterPrefix.indexOf('.');
  return second < 0
    ? [prefix, afterPrefix, '', afterPrefix]
    : [prefix, afterPrefix.slice(0, second), afterPrefix.slice(second + 1), afterPrefix];
}

/** GTIN-14 from a company prefix and an indicator digit followed by the item reference. */
const gtinOf = (prefix: string, indicatorAndItem: string) =>
  withCheckDigit(`${indicatorAndItem.slice(0, 1)}${prefix}${indicatorAndItem.slice(1)}`);

const URN_FORMS: Readonly<Record<string, UrnForm>> = {
  'urn:epc:id:sgtin:': {
    pattern: new RegExp(`^${digitsOf(13)}\\.${URN_CHAR}{1,20}$`),
    link: (p, r, rest) => `/01/${gtinOf(p, r)}/21/${encodeForLink(rest)}`,
  },
  'urn:epc:id:sscc:': {
    pattern: new RegExp(`^${digitsSplitPattern(17, '\\.')}$`),
    link: (p, r) => `/00/${withCheckDigit(`${r.slice(0, 1)}${p}${r.slice(1)}`)}`,
  },
  'urn:epc:id:sgln:': {
    pattern: new RegExp(`^${digitsOf(12)}\\.${URN_CHAR}{1,20}$`),
    link: (p, r, rest) => `/414/${withCheckDigit(p + r)}${rest === '0' ? '' : `/254/${encodeForLink(rest)}`}`,
  },
  'urn:epc:id:grai:': {
    pattern: new RegExp(`^${digitsSplitPattern(12, '\\.\\.')}\\.${URN_CHAR}{1,16}$`),
    link: (p, r, rest) => `/8003/${withCheckDigit(`0${p}${r}`)}${encodeForLink(rest)}`,
  },
  'urn:epc:id:giai:': {
    pattern: new RegExp(`^(?:${[6, 7, 8, 9, 10, 11, 12].map((p) => `\\d{${p}}\\.${URN_CHAR}{1,${30 - p}}`).join('|')})$`),
    link: (p, _r, _rest, afterPrefix) => `/8004/${p}${encodeForLink(afterPrefix)}`,
  },
  'urn:epc:id:gsrn:': {
    pattern: new RegExp(`^${digitsSplitPattern(17, '\\.')}$`),
    link: (p, r) => `/8018/${withCheckDigit(p + r)}`,
  },
  'urn:epc:id:gsrnp:': {
    pattern: new RegExp(`^${digitsSplitPattern(17, '\\.')}$`),
    link: (p, r) => `/8017/${withCheckDigit(p + r)}`,
  },
  'urn:epc:id:gdti:': {
    pattern: new RegExp(`^${digitsSplitPattern(12, '\\.\\.')}${URN_CHAR}{1,20}$`),
    link: (p, r, rest) => `/253/${withCheckDigit(p + r)}${encodeForLink(rest)}`,
  },
  'urn:epc:id:cpi:': {
    pattern: new RegExp(
      `^(?:${[6, 7, 8, 9, 10, 11, 12].map((p) => `\\d{${p}}\\.${CPI_CHAR}{1,${30 - p}}`).join('|')})\\.\\d{1,12}$`,
    ),
    link: (p, _r, _rest, afterPrefix) => {
      const lastDot = afterPrefix.lastIndexOf('.');
      return `/8010/${encodeForLink(p + afterPrefix.slice(0, lastDot))}/8011/${afterPrefix.slice(lastDot + 1)}`;
    },
  },
  'urn:epc:id:sgcn:': {
    pattern: new RegExp(`^${digitsOf(12)}\\.\\d{1,12}$`),
    link: (p, r, rest) => `/255/${withCheckDigit(p + r)}${rest}`,
  },
  'urn:epc:id:ginc:': {
    pattern: new RegExp(`^(?:${[6, 7, 8, 9, 10, 11, 12].map((p) => `\\d{${p}}\\.${URN_CHAR}{1,${30 - p}}`).join('|')})$`),
    link: (p, _r, _rest, afterPrefix) => `/401/${p}${encodeForLink(afterPrefix)}`,
  },
  'urn:epc:id:gsin:': {
    pattern: new RegExp(`^${digitsSplitPattern(16, '\\.')}$`),
    link: (p, r) => `/402/${withCheckDigit(p + r)}`,
  },
  'urn:epc:id:itip:': {
    pattern: new RegExp(`^${digitsOf(13)}\\.\\d{2}\\.\\d{2}\\.${URN_CHAR}{1,20}$`),
    link: (p, r, rest) => {
      const [piece = '', total = '', ...serial] = rest.split('.');
      return `/8006/${gtinOf(p, r)}${piece}${total}/21/${encodeForLink(serial.join('.'))}`;
    },
  },
  'urn:epc:id:upui:': {
    pattern: new RegExp(`^${digitsOf(13)}\\.${URN_CHAR}{1,28}$`),
    link: (p, r, rest) => `/01/${gtinOf(p, r)}/235/${encodeForLink(rest)}`,
  },
  'urn:epc:id:pgln:': {
    pattern: new RegExp(`^${digitsOf(12)}$`),
    link: (p, r) => `/417/${withCheckDigit(p + r)}`,
  },
  'urn:epc:class:lgtin:': {
    pattern: new RegExp(`^${digitsOf(13)}\\.${URN_CHAR}{1,20}$`),
    link: (p, r, rest) => `/01/${gtinOf(p, r)}/10/${encodeForLink(rest)}`,
  },
  'urn:epc:idpat:sgtin:': {
    pattern: new RegExp(`^${digitsOf(13)}\\.\\*$`),
    link: (p, r) => `/01/${gtinOf(p, r)}`,
  },
  'urn:epc:idpat:grai:': {
    pattern: new RegExp(`^${digitsSplitPattern(12, '\\.\\.')}\\.\\*$`),
    link: (p, r) => `/8003/${withCheckDigit(`0${p}${r}`)}`,
  },
  'urn:epc:idpat:gdti:': {
    pattern: new RegExp(`^${digitsSplitPattern(12, '\\.\\.')}\\.\\*$`),
    link: (p, r) => `/253/${withCheckDigit(p + r)}`,
  },
  'urn:epc:idpat:sgcn:': {
    pattern: new RegExp(`^${digitsSplitPattern(12, '\\.\\.')}\\.\\*$`),
    link: (p, r) => `/255/${withCheckDigit(p + r)}`,
  },
  'urn:epc:idpat:cpi:': {
    pattern: new RegExp(`^(?:${[6, 7, 8, 9, 10, 11, 12].map((p) => `\\d{${p}}\\.${CPI_CHAR}{1,${30 - p}}`).join('|')})\\.\\*$`),
    link: (p, _r, _rest, afterPrefix) => `/8010/${encodeForLink(p + afterPrefix.slice(0, afterPrefix.lastIndexOf('.')))}`,
  },
  'urn:epc:idpat:itip:': {
    pattern: new RegExp(`^${digitsOf(13)}\\.\\d{2}\\.\\d{2}\\.\\*$`),
    link: (p, r, rest) => {
      const [piece = '', total = ''] = rest.split('.');
      return `/8006/${gtinOf(p, r)}${piece}${total}`;
    },
  },
  'urn:epc:idpat:upui:': {
    pattern: new RegExp(`^${digitsOf(13)}\\.\\*$`),
    link: (p, r) => `/01/${gtinOf(p, r)}`,
  },
};

const CANONICAL_ORIGIN = 'https://id.gs1.org';

function canonicalLinkOfUrn(uri: string): string | undefined {
  for (const [scheme, form] of Object.entries(URN_FORMS)) {
    if (!uri.startsWith(scheme)) continue;
    if (!form.pattern.test(uri.slice(scheme.length))) return undefined;
    return `${CANONICAL_ORIGIN}${form.link(...splitUrn(uri, scheme.length))}`;
  }
  return undefined;
}

/** The Digital Link short names of GS1 Digital Link 1.0, which the reference still reads. */
const SHORT_NAMES: readonly [string, string][] = [
  ['/gtin/', '/01/'],
  ['/itip/', '/8006/'],
  ['/cpid/', '/8010/'],
  ['/gln/', '/414/'],
  ['/party/', '/417/'],
  ['/gsrnp/', '/8017/'],
  ['/gsrn/', '/8018/'],
  ['/gcn/', '/255/'],
  ['/sscc/', '/00/'],
  ['/gdti/', '/253/'],
  ['/ginc/', '/401/'],
  ['/gsin/', '/402/'],
  ['/grai/', '/8003/'],
  ['/giai/', '/8004/'],
  ['/cpv/', '/22/'],
  ['/lot/', '/10/'],
  ['/ser/', '/21/'],
];

const PRIMARY_KEY_NAMES =
  '01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|402|gsin|8003|grai|8004|giai';
/** A Digital Link as the reference recognises one: some primary key segment with a value of at least five characters. */
const LOOKS_LIKE_DIGITAL_LINK = new RegExp(
  `^https?:(?://(?:[^/?#]*@)?[^/?#:]*(?::[^/?#]*)?)?(?:[^?#]*/(?:${PRIMARY_KEY_NAMES})/\\d{4}[^/]+)`,
);
const ALREADY_CANONICAL = /^https:\/\/id.gs1.org\/(01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)\/(\d{4}[^/]+)/;
/** Where the key starts when the link is moved onto id.gs1.org, in the reference's order of preference. */
const KEY_SEGMENTS = [
  '/00/',
  '/01/',
  '/253/',
  '/255/',
  '/401/',
  '/402/',
  '/414/',
  '/417/',
  '/8003/',
  '/8004/',
  '/8006/',
  '/8010/',
  '/8017/',
  '/8018/',
];

const ON_ID = 'https:\\/\\/id.gs1.org';
const link = (body: string) => new RegExp(`^${ON_ID}\\/${body}$`);
/** The canonical links the reference accepts as the result; anything else stays as it was written. */
const CANONICAL_LINKS = [
  link('00\\/\\d{18}'),
  link(`01\\/\\d{14}\\/21\\/${DL_CHAR}{0,20}`),
  link(`01\\/\\d{14}\\/10\\/${DL_CHAR}{0,20}`),
  link('01\\/\\d{14}'),
  link(`01\\/\\d{14}\\/235\\/${DL_CHAR}{0,28}`),
  link(`253\\/\\d{13}${DL_CHAR}{0,17}`),
  link('255\\/\\d{13}\\d{0,12}'),
  link(`401\\/${DL_CHAR}{0,30}`),
  link('402\\/\\d{17}'),
  link('414\\/\\d{13}'),
  link(`414\\/\\d{13}\\/254\\/${DL_CHAR}{0,20}`),
  link('417\\/\\d{13}'),
  link(`8003\\/\\d{14}${DL_CHAR}{0,16}`),
  link(`8004\\/${DL_CHAR}{0,30}`),
  link(`8006\\/\\d{18}\\/21\\/${DL_CHAR}{0,20}`),
  link(`8006\\/\\d{18}\\/10\\/${DL_CHAR}{0,20}`),
  link('8006\\/\\d{18}'),
  link('8010\\/[#\\-/0-9A-Z]{0,30}\\/8011\\/\\d{0,12}'),
  link('8010\\/[#\\-/0-9A-Z]{0,30}'),
  link('8017\\/\\d{18}'),
  link('8018\\/\\d{18}'),
];
const CPV_AT_END = new RegExp(`^${ON_ID}\\/(8006\\/\\d{18}|01\\/\\d{14})\\/22\\/${DL_CHAR}{0,20}$`);
const CPV_BEFORE_QUALIFIERS = new RegExp(`^${ON_ID}\\/(8006\\/\\d{18}|01\\/\\d{14})\\/22\\/["'\\-./0-9;-?A-Z_a-z]{0,20}$`);
const LOT_AND_SERIAL = new RegExp(`^${ON_ID}\\/(8006\\/\\d{18}|01\\/\\d{14})\\/10\\/${DL_CHAR}{0,20}\\/21\\/${DL_CHAR}{0,20}$`);

function canonicalDigitalLink(uri: string): string | undefined {
  if (!LOOKS_LIKE_DIGITAL_LINK.test(uri)) return undefined;
  let canonical = uri.includes('?') ? uri.slice(0, uri.indexOf('?')) : uri;
  for (const [name, ai] of SHORT_NAMES) canonical = canonical.replaceAll(name, ai);
  if (!ALREADY_CANONICAL.test(canonical)) {
    const segment = KEY_SEGMENTS.find((s) => canonical.includes(s));
    if (segment !== undefined) canonical = CANONICAL_ORIGIN + canonical.slice(canonical.indexOf(segment));
  }
  // A GTIN-8, -12 or -13 is written with 14 digits.
  if (!/^https:\/\/id.gs1.org\/01\/\d{14}/.test(canonical)) {
    const padding = [
      [13, '0'],
      [12, '00'],
      [8, '000000'],
    ] as const;
    const pad = padding.find(([length]) => new RegExp(`^https:\\/\\/id.gs1.org\\/01\\/\\d{${length}}`).test(canonical));
    if (pad) canonical = canonical.replaceAll('/01/', `/01/${pad[1]}`);
  }
  // The consumer product variant (AI 22) and a lot beside a serial are finer than the key.
  if (CPV_AT_END.test(canonical)) {
    canonical = canonical.slice(0, canonical.indexOf('/22/'));
  } else if (CPV_BEFORE_QUALIFIERS.test(canonical)) {
    const afterCpv = canonical.slice(canonical.indexOf('/22/') + 4);
    canonical = canonical.slice(0, canonical.indexOf('/22/')) + afterCpv.slice(afterCpv.indexOf('/'));
  }
  if (LOT_AND_SERIAL.test(canonical)) {
    const afterLot = canonical.slice(canonical.indexOf('/10/') + 4);
    canonical = canonical.slice(0, canonical.indexOf('/10/')) + afterLot.slice(afterLot.indexOf('/'));
  }
  return CANONICAL_LINKS.some((pattern) => pattern.test(canonical)) ? canonical : undefined;
}

/**
 * The constrained canonical Digital Link of a value that carries a GS1 key, or undefined when
 * the value is no such key (it then enters the pre-hash string as it is).
 */
export function canonicalKeyLink(value: string): string | undefined {
  if (!value.includes('.')) return undefined;
  const known = REMEMBERED_LINKS.get(value);
  if (known !== undefined) return known ?? undefined;
  const canonical = value.startsWith('urn:epc:') ? canonicalLinkOfUrn(value) : canonicalDigitalLink(value);
  // A capture names one place or class in many events: each is worked out once (a memo bounded in
  // entries and, as only values of a GS1 key's length are kept, in bytes).
  if (value.length <= MAX_REMEMBERED_LENGTH) {
    if (REMEMBERED_LINKS.size >= MAX_REMEMBERED_LINKS) REMEMBERED_LINKS.clear();
    REMEMBERED_LINKS.set(value, canonical ?? null);
  }
  return canonical;
}

const MAX_REMEMBERED_LINKS = 10_000;
const MAX_REMEMBERED_LENGTH = 128;
const REMEMBERED_LINKS = new Map<string, string | null>();

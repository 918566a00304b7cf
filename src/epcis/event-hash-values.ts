import { canonicalKeyLink } from './event-hash-identifiers.js';

/**
 * How one value is written into the pre-hash string of the EPCIS Event Hash ID (CBV 2.0 §8.9,
 * rules 5-9 and 14-18), as the reference implementation (RalphTro/epcis-event-hash-generator)
 * writes it, so that hashes agree with it for the same event.
 */

/** Whitespace as Python's str.strip() removes it (the reference strips every value so). */
const PYTHON_WHITESPACE = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const LEADING_OR_TRAILING_WHITESPACE = new RegExp(`^${PYTHON_WHITESPACE}+|${PYTHON_WHITESPACE}+$`, 'g');

export function stripWhitespace(value: string): string {
  return value.replace(LEADING_OR_TRAILING_WHITESPACE, '');
}

/** Rule 14: the CBV 1.x URN vocabularies become their CBV 2.0 web URIs. */
const CBV_URN_VOCABULARIES: readonly [string, string][] = [
  ['urn:epcglobal:cbv:bizstep:', 'https://ref.gs1.org/cbv/BizStep-'],
  ['urn:epcglobal:cbv:disp:', 'https://ref.gs1.org/cbv/Disp-'],
  ['urn:epcglobal:cbv:btt:', 'https://ref.gs1.org/cbv/BTT-'],
  ['urn:epcglobal:cbv:sdt:', 'https://ref.gs1.org/cbv/SDT-'],
  ['urn:epcglobal:cbv:er:', 'https://ref.gs1.org/cbv/ER-'],
];

/** A decimal number as Python's float() reads one (digits may be grouped with underscores). */
const DECIMAL = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;

/**
 * A double written as Python's repr() writes it: the shortest digits that read back, in
 * positional notation unless the decimal point is more than 16 places right or 4 places left
 * of the first digit (then d.ddde-XX).
 */
export function pythonFloatText(value: number): string {
  const [mantissa = '', exponentText = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const point = Number(exponentText) + 1;
  const sign = value < 0 ? '-' : '';
  if (point <= -4 || point > 16) {
    const exponent = point - 1;
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
    return `${sign}${digits[0] ?? ''}${fraction}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * Rule 6: a number loses trailing zeros (1.0 is 1, 0.3430 is 0.343). Any value that reads as a
 * decimal number is a number here, as in the reference: "0614141" becomes 614141, and an
 * integer beyond 2^53 keeps only the double's precision.
 */
export function numberText(value: string): string {
  if (!DECIMAL.test(value)) return value;
  const number = Number(value.replace(/_/g, ''));
  if (!Number.isFinite(number)) return value;
  return Number.isInteger(number) ? BigInt(number).toString() : pythonFloatText(number);
}

/** Rules 14-18 for a value that is not a time: vocabulary URIs, numbers, GS1 keys. */
export function canonicalValue(value: string): string {
  let text = value;
  for (const [urn, web] of CBV_URN_VOCABULARIES) text = text.replaceAll(urn, web);
  text = numberText(text);
  return canonicalKeyLink(text) ?? text;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:Z|([+-])(\d{2})(?::?(\d{2}))?)?$/i;

/**
 * Rules 8-9: a time in UTC with milliseconds (2023-01-18T11:04:03.142Z). Like the reference, the
 * fraction is cut to microseconds and then rounded to milliseconds half to even; a time
 * without an offset is taken as UTC. A value that is no ISO 8601 time stays as it is.
 */
export function utcMillisecondsText(value: string): string {
  const match = TIMESTAMP.exec(value);
  if (!match) return value;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const microseconds = Number((match[7] ?? '').padEnd(6, '0').slice(0, 6));
  const wholeMilliseconds = Math.floor(microseconds / 1000);
  const remainder = microseconds % 1000;
  const roundsUp = remainder > 500 || (remainder === 500 && wholeMilliseconds % 2 === 1);
  const milliseconds = wholeMilliseconds + (roundsUp ? 1 : 0);
  const offsetMinutes = (match[8] === '-' ? -1 : 1) * (Number(match[9] ?? 0) * 60 + Number(match[10] ?? 0));
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, day);
  local.setUTCHours(hour, minute, second, milliseconds);
  const utc = new Date(local.getTime() - offsetMinutes * 60_000);
  if (Number.isNaN(utc.getTime())) return value;
  return utc.toISOString();
}

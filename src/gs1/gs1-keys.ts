/**
 * GS1 identification keys as Custodian accepts them (GS1 General Specifications, section 3
 * "Application Identifier definitions", and 7.9 "Check digit calculation"). Every parser
 * returns a result naming what is wrong instead of throwing, so request validation can say
 * which field failed and why.
 */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(problem: string): Parsed<T> => ({ ok: false, problem });

/** The GS1 mod-10 check digit of the digits that precede it (weights 3,1,3,… from the right). */
export function gs1CheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    sum += digit * (i % 2 === 0 ? 3 : 1);
  }
  return (10 - (sum % 10)) % 10;
}

function numericKey(input: unknown, name: string, lengths: readonly number[], width: number): Parsed<string> {
  if (typeof input !== 'string') return fail(`a ${name} is a string of digits`);
  if (!/^\d+$/.test(input) || !lengths.includes(input.length)) {
    return fail(
      `a ${name} has ${lengths.join(', ').replace(/, (\d+)$/, ' or $1')} digits, found ${JSON.stringify(input.slice(0, 40))}`,
    );
  }
  const expected = gs1CheckDigit(input.slice(0, -1));
  const found = Number(input.at(-1));
  if (expected !== found) return fail(`the check digit of ${name} ${input} is ${found}, but ${expected} is correct`);
  return ok(input.padStart(width, '0'));
}

/** A GTIN (GTIN-8, -12, -13 or -14), returned in its 14-digit form. */
export function parseGtin(input: unknown): Parsed<string> {
  return numericKey(input, 'GTIN', [8, 12, 13, 14], 14);
}

/** A GLN: 13 digits identifying a party or a location. */
export function parseGln(input: unknown): Parsed<string> {
  return numericKey(input, 'GLN', [13], 13);
}

/** An SSCC: 18 digits identifying a logistic unit (a pallet, a parcel, a container). */
export function parseSscc(input: unknown): Parsed<string> {
  return numericKey(input, 'SSCC', [18], 18);
}

/** GS1 AI encodable character set 82 (General Specifications, figure 7.11-1). */
const CSET82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$/;

function alphanumeric(input: unknown, name: string): Parsed<string> {
  if (typeof input !== 'string' || input.length < 1 || input.length > 20) return fail(`a ${name} is 1 to 20 characters`);
  if (!CSET82.test(input)) return fail(`a ${name} uses only GS1 character set 82 (letters, digits and !"%&'()*+,-./:;<=>?_)`);
  return ok(input);
}

/** A serial number (AI 21): with a GTIN it names one item, an SGTIN. */
export function parseSerial(input: unknown): Parsed<string> {
  return alphanumeric(input, 'serial number');
}

/** A batch or lot number (AI 10): with a GTIN it names a lot, an LGTIN. */
export function parseLot(input: unknown): Parsed<string> {
  return alphanumeric(input, 'lot number');
}

/**
 * The custody step the HTTP benchmarks send: a commissioning with lot, name and attributes, by
 * one maker at one site, each with a serial of its own.
 */
import { gs1CheckDigit } from '../../src/gs1/gs1-keys.js';

const withCheckDigit = (digits: string) => digits + String(gs1CheckDigit(digits));
export const MAKER = withCheckDigit('401234500001');
export const SITE = withCheckDigit('401234500002');
export const GTIN = withCheckDigit('0950600004711');

let serials = 0;

/** A commissioning as POST /products takes it (a batch step adds `type: 'commission'`); serials `<tag>-<n>`. */
export function commission(tag: string): Record<string, unknown> {
  serials += 1;
  return {
    gtin: GTIN,
    serial: `${tag}-${serials}`,
    lot: `LOT-${serials % 97}`,
    name: 'Cold-chain vaccine, 10 doses',
    owner: MAKER,
    location: SITE,
    occurredAt: new Date().toISOString(),
    attributes: { expiry: '2027-11-30', doses: 10 },
  };
}

import { digitalLinkPath, type Gs1Identity } from '../../gs1/digital-link.js';
import { parseGtin, parseLot, parseSerial, parseSscc } from '../../gs1/gs1-keys.js';
import { ApiPathParam } from './api-schemas.js';
import { invalidRequest } from './request-validation.js';

/**
 * The path parameters of the routes named by GS1 Digital Link paths (`/01/{gtin}/21/{serial}`,
 * `/01/{gtin}/10/{lot}`, `/00/{sscc}`): read into Custodian's entity ids, with a 400 naming the
 * parameter that is not a valid key, and documented once for OpenAPI.
 */
/** The value of a parsed key, or a 400 naming the parameter. */
export function key<T>(parsed: { ok: true; value: T } | { ok: false; problem: string }, pointer: string): T {
  if (!parsed.ok) throw invalidRequest([{ pointer, detail: parsed.problem }]);
  return parsed.value;
}

/** A serialised product's id from the path parameters of a route; a 400 naming the bad one. */
export function sgtinPath(gtin: string, serial: string): string {
  const identity: Gs1Identity = {
    kind: 'sgtin',
    gtin: key(parseGtin(gtin), '/gtin'),
    serial: key(parseSerial(serial), '/serial'),
  };
  return digitalLinkPath(identity);
}

/** A lot's id from the path parameters of a route; a 400 naming the bad one. */
export function lgtinPath(gtin: string, lot: string): string {
  return digitalLinkPath({ kind: 'lgtin', gtin: key(parseGtin(gtin), '/gtin'), lot: key(parseLot(lot), '/lot') });
}

/** The path parameters of the GS1 Digital Link routes. */
export const ApiGtin = ApiPathParam('gtin', 'GTIN-14, with its check digit');
export const ApiSerial = ApiPathParam('serial', 'the serial number (GS1 character set 82, percent-encoded)');
export const ApiLot = ApiPathParam('lot', 'the lot number (GS1 character set 82, percent-encoded)');
export const ApiSscc = ApiPathParam('sscc', 'SSCC-18, with its check digit');

/** A shipment's id from the path parameter of a route; a 400 naming it when it is not an SSCC. */
export function ssccPath(sscc: string): string {
  return digitalLinkPath({ kind: 'sscc', sscc: key(parseSscc(sscc), '/sscc') });
}

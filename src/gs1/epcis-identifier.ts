import { digitalLinkPath } from './digital-link.js';
import { parseDigitalLinkUri } from './digital-link-uri.js';
import { CUSTODIAN_EPC_SCHEMES, parseEpcUrn } from './epc-urn.js';
import type { Gs1KeyIdentity } from './gs1-key-identity.js';

/**
 * What an identifier in an EPCIS event (an EPC, a parentID, a readPoint, a source…) is to
 * Custodian:
 *
 * - `subject`: a key Custodian records, with the subject it is recorded under: the Digital
 *   Link path of a product or shipment (/01/{gtin14}/21/{serial}, /01/{gtin14}/10/{lot},
 *   /00/{sscc}) or the GLN of a location or party. EPC URNs and Digital Links on any domain
 *   of the same key give the same subject.
 * - `kept`: a valid identifier that is not one of those (a GRAI, GIAI, GSRN, a GTIN class
 *   without a lot, a pattern, `geo:`, any other URI): the event keeps it as it is.
 * - `invalid`: written as a key Custodian records but wrong (a check digit, a character
 *   outside set 82, a bad escape), with what is wrong, so capture can refuse it.
 */
export type EpcisIdentifierReading =
  | { readonly kind: 'subject'; readonly identity: Gs1KeyIdentity; readonly subject: string }
  | { readonly kind: 'kept'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly problem: string };

/** The subject Custodian records a key under. */
export function custodianSubject(identity: Gs1KeyIdentity): string {
  switch (identity.kind) {
    case 'location':
    case 'party':
      return identity.gln;
    default:
      return digitalLinkPath(identity);
  }
}

const subject = (identity: Gs1KeyIdentity): EpcisIdentifierReading => ({
  kind: 'subject',
  identity,
  subject: custodianSubject(identity),
});

export function readEpcisIdentifier(identifier: string): EpcisIdentifierReading {
  if (identifier.startsWith('urn:epc:')) {
    if (!CUSTODIAN_EPC_SCHEMES.some((scheme) => identifier.startsWith(scheme))) {
      const scheme = identifier.split(':').slice(0, 4).join(':');
      return { kind: 'kept', reason: `${scheme} is not an EPC scheme of a product, shipment, location or party` };
    }
    const parsed = parseEpcUrn(identifier);
    return parsed.ok ? subject(parsed.value.identity) : { kind: 'invalid', problem: parsed.problem };
  }
  const link = parseDigitalLinkUri(identifier);
  if (link === undefined) return { kind: 'kept', reason: 'not an EPC URN or a GS1 Digital Link' };
  if (!link.ok) return { kind: 'invalid', problem: link.problem };
  return link.value.kind === 'key' ? subject(link.value.identity) : { kind: 'kept', reason: link.value.reason };
}

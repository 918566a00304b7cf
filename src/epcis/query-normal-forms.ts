import { digitalLinkUri } from '../gs1/digital-link-uri.js';
import { readEpcisIdentifier } from '../gs1/epcis-identifier.js';
import { canonicalKeyLink } from './event-hash-identifiers.js';

/**
 * The one form in which the EPCIS query tables keep a value and a query parameter is held
 * against it (docs/epcis-query.md, "Matching"): the same key or vocabulary value written two
 * ways finds the same events.
 */

/**
 * An identifier (an EPC, a class, a parentID, a readPoint, a bizLocation) as the query tables
 * keep it: a key Custodian records as its canonical GS1 Digital Link on id.gs1.org, whether it
 * was written as an EPC URN or as a Digital Link on any domain; another GS1 key (GRAI, GIAI, a
 * GTIN class…) as the constrained canonical Digital Link the Event Hash ID uses; anything else
 * as it is.
 */
export function normalIdentifier(value: string): string {
  const reading = readEpcisIdentifier(value);
  if (reading.kind === 'subject') return digitalLinkUri(reading.identity);
  return canonicalKeyLink(value) ?? value;
}

const CBV_BIZ_STEP = 'https://ref.gs1.org/cbv/BizStep-';
const CBV_DISPOSITION = 'https://ref.gs1.org/cbv/Disp-';
/** A CBV value as EPCIS 2.0 JSON writes it bare ("shipping"), which its @context expands. */
const BARE = /^[a-z][a-z0-9_]*$/;

function normalVocabulary(value: string, uri: string, urn: string): string {
  if (BARE.test(value)) return uri + value;
  if (value.startsWith(urn)) return uri + value.slice(urn.length);
  return value;
}

/** A bizStep as the query tables keep it: a CBV value as its full URI (bare, URN and URI forms alike); any other URI as it is. */
export function normalBizStep(value: string): string {
  return normalVocabulary(value, CBV_BIZ_STEP, 'urn:epcglobal:cbv:bizstep:');
}

/** A disposition as the query tables keep it, as normalBizStep does. */
export function normalDisposition(value: string): string {
  return normalVocabulary(value, CBV_DISPOSITION, 'urn:epcglobal:cbv:disp:');
}

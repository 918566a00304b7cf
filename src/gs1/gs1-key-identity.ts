import type { Gs1Identity } from './digital-link.js';

/**
 * The GS1 keys that name something Custodian records: a product or a shipment (written as a
 * Digital Link path, see digital-link.ts), a location (a GLN, AI 414, with an optional GLN
 * extension, AI 254, for a place inside it) or a party (a GLN of a party, AI 417).
 */
export type Gs1KeyIdentity =
  | Gs1Identity
  | { readonly kind: 'location'; readonly gln: string; readonly extension?: string }
  | { readonly kind: 'party'; readonly gln: string };

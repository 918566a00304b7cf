import { isShipmentId, parseDigitalLinkPath } from '../gs1/digital-link.js';

/**
 * What the consumer page says of a custody step, derived by one function from what a step
 * records (docs/api.md, "What a step records"). The server renders the page from the read
 * models with it; the reader's browser derives the same text from the ledger records of the
 * evidence bundle and holds the page to it (docs/consumer-page.md), so what the page shows is
 * what the verified records say. Browser-safe: no Node built-ins, no Intl (the server and the
 * browser must write the same characters).
 */

/** A step as both sides know it: the record's members, or the read model's copy of them. */
export interface StepSource {
  readonly eventType: string;
  readonly occurredAt: string;
  readonly payload: unknown;
  /** The shipment the product travelled in, when the step was the shipment's. */
  readonly via: string | null;
}

/** A registered party: its name, role and country. */
export interface PartyEntry {
  readonly name: string;
  readonly role: string;
  readonly country: string;
}

/** A registered location: its name and country, or only its party's when the party keeps it internal. */
export type PlaceEntry =
  | { readonly visibility: 'public'; readonly name: string; readonly country: string; readonly party: string }
  | { readonly visibility: 'internal'; readonly party: string };

/** The names a page may use, by GLN; a GLN in neither map is shown as itself. */
export interface Directory {
  readonly parties: Readonly<Record<string, PartyEntry>>;
  readonly places: Readonly<Record<string, PlaceEntry>>;
}

/** The four lines of a step on the page, and the shipment it travelled in. */
export interface StepText {
  readonly what: string;
  readonly when: string;
  readonly where: string;
  readonly who: string;
  readonly shipment: string;
}

const member = (payload: unknown, name: string): string | null => {
  if (typeof payload !== 'object' || payload === null) return null;
  const value = (payload as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : null;
};

const members = (payload: unknown, name: string): string[] => {
  if (typeof payload !== 'object' || payload === null) return [];
  const value = (payload as Record<string, unknown>)[name];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
};

/** The parties that acted in a step, in the order the page names them. */
export function partiesOf(step: StepSource): string[] {
  const { payload } = step;
  switch (step.eventType) {
    case 'product.commissioned':
    case 'shipment.created':
      return [member(payload, 'owner')].filter((gln) => gln !== null);
    case 'shipment.received':
      return [member(payload, 'by')].filter((gln) => gln !== null);
    case 'custody.handover':
      return [member(payload, 'from'), member(payload, 'to')].filter((gln) => gln !== null);
    default:
      return [member(payload, 'party')].filter((gln) => gln !== null);
  }
}

/** The GLNs a step names (parties, location, destination): what the page's directory must cover. */
export function glnsOf(step: StepSource): string[] {
  const location = member(step.payload, 'location');
  const destination = member(step.payload, 'destination');
  return [...partiesOf(step), ...(location ? [location] : []), ...(destination ? [destination] : [])];
}

/**
 * A location by its registered name and country; one its party keeps internal as that party's
 * site; a party's own GLN used as a location by the party's name; else its GLN.
 */
export function placeName(gln: string, directory: Directory): string {
  const place = directory.places[gln];
  if (place?.visibility === 'internal') return `a site of ${partyName(place.party, directory)}`;
  if (place) return `${place.name}, ${place.country}`;
  const party = directory.parties[gln];
  return party ? `${party.name}, ${party.country}` : `GLN ${gln}`;
}

/** A party by its registered name and role, or its GLN. */
export function partyName(gln: string, directory: Directory): string {
  const party = directory.parties[gln];
  return party ? `${party.name} (${party.role})` : `GLN ${gln}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * An RFC 3339 time as it was recorded, in the local time of the step and its offset
 * ("26 Nov 2026, 09:30 UTC+01:00"): where a pack was received is the time that reads right.
 */
export function whenText(occurredAt: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.exec(occurredAt);
  if (!match) return occurredAt;
  const [, year, month, day, hour, minute, offset] = match as unknown as [string, string, string, string, string, string, string];
  const zone = ['Z', '+00:00'].includes(offset.toUpperCase()) ? 'UTC' : `UTC${offset}`;
  return `${String(Number(day))} ${MONTHS[Number(month) - 1] ?? month} ${year}, ${hour}:${minute} ${zone}`;
}

function whatText(step: StepSource, subject: string, directory: Directory): string {
  const { payload } = step;
  switch (step.eventType) {
    case 'product.commissioned': {
      const name = member(payload, 'name');
      return name ? `Made and registered: ${name}` : 'Made and registered';
    }
    case 'product.decommissioned':
      return `Taken out of circulation (${member(payload, 'reason') ?? 'no reason given'})`;
    case 'shipment.created':
      return 'Shipment prepared';
    case 'shipment.packed':
      return 'Packed for shipping';
    case 'shipment.unpacked':
      return 'Unpacked';
    case 'shipment.dispatched': {
      const destination = member(payload, 'destination');
      return destination ? `Dispatched to ${placeName(destination, directory)}` : 'Dispatched';
    }
    case 'shipment.received':
      return 'Received';
    case 'custody.handover':
      return 'Handed over';
    case 'custody.inspected': {
      const note = member(payload, 'note');
      return `Inspected: ${member(payload, 'result') ?? 'no result'}${note ? ` (${note})` : ''}`;
    }
    case 'custody.transformed': {
      const inputs = members(payload, 'inputs');
      return inputs.includes(subject)
        ? 'Used to make other products'
        : `Made from ${inputs.length} input${inputs.length === 1 ? '' : 's'}`;
    }
    default:
      return step.eventType;
  }
}

/** The page's text of a step. */
export function describeStep(step: StepSource, subject: string, directory: Directory): StepText {
  const location = member(step.payload, 'location');
  const parties = partiesOf(step).map((gln) => partyName(gln, directory));
  return {
    what: whatText(step, subject, directory),
    when: whenText(step.occurredAt),
    where: location ? placeName(location, directory) : 'not recorded',
    who: step.eventType === 'custody.handover' ? parties.join(' → ') : parties.join(', ') || 'not recorded',
    shipment: step.via ? identityText(step.via) : '',
  };
}

/**
 * The shipment a record was the step of: a step on a shipment names the shipment first, then
 * every product in it (docs/api.md), as the read model's `via` says.
 */
export function viaOf(entityIds: readonly string[], subject: string): string | null {
  const first = entityIds[0];
  return first !== undefined && first !== subject && isShipmentId(first) ? first : null;
}

/** A product or shipment id (a Digital Link path) as people read it: "GTIN 09506000134352, serial SN-1". */
export function identityText(id: string): string {
  const parsed = parseDigitalLinkPath(id);
  if (!parsed.ok) return id;
  const identity = parsed.value;
  switch (identity.kind) {
    case 'sgtin':
      return `GTIN ${identity.gtin}, serial ${identity.serial}`;
    case 'lgtin':
      return `GTIN ${identity.gtin}, lot ${identity.lot}`;
    case 'sscc':
      return `SSCC ${identity.sscc}`;
  }
}

/**
 * The products a product was made from directly: the inputs of each transformation among its
 * steps that made it (rather than used it up), in the order the records name them.
 */
export function directInputsOf(steps: readonly StepSource[], subject: string): string[] {
  const inputs: string[] = [];
  for (const step of steps) {
    if (step.eventType !== 'custody.transformed') continue;
    const named = members(step.payload, 'inputs');
    if (named.includes(subject)) continue;
    for (const input of named) if (!inputs.includes(input)) inputs.push(input);
  }
  return inputs;
}

import type { DataSource } from 'typeorm';
import type { Directory, PartyEntry, PlaceEntry } from './step-view.js';

/**
 * The party registry (migrations/1766000000000-party-registry.ts): what the consumer page calls
 * a GLN. Each party keeps its own entry and its locations' (docs/consumer-page.md); nothing here
 * is in the ledger, so nothing here is verified: the page shows the GLNs beside the names.
 */
export const PARTY_ROLES = [
  'manufacturer',
  'packer',
  'wholesaler',
  'distributor',
  'carrier',
  'importer',
  'retailer',
  'pharmacy',
  'hospital',
  'authority',
  'recycler',
  'other',
] as const;
export type PartyRole = (typeof PARTY_ROLES)[number];

export interface RegisteredParty extends PartyEntry {
  readonly gln: string;
}

export interface RegisteredLocation {
  readonly gln: string;
  readonly party: string;
  readonly name: string;
  readonly country: string;
  /** internal: consumers see it as a site of its party, without its name. */
  readonly visibility: 'public' | 'internal';
}

/** A location another party registered first: only that party may change its entry. */
export class LocationOfAnotherPartyError extends Error {
  override name = 'LocationOfAnotherPartyError';

  constructor(
    readonly gln: string,
    readonly party: string,
  ) {
    super(`location ${gln} is registered by party ${party}`);
  }
}

export class PartyRegistry {
  constructor(private readonly dataSource: DataSource) {}

  async putParty(party: RegisteredParty, by: string): Promise<RegisteredParty> {
    const rows: RegisteredParty[] = await this.dataSource.query(
      `INSERT INTO registry_parties (gln, name, role, country, updated_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (gln) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role, country = EXCLUDED.country,
         updated_at = now(), updated_by = EXCLUDED.updated_by
       RETURNING gln, name, role, country`,
      [party.gln, party.name, party.role, party.country, by],
    );
    return rows[0] as RegisteredParty;
  }

  /** Registers or changes a location of `location.party`; a location another party holds stays its. */
  async putLocation(location: RegisteredLocation, by: string): Promise<RegisteredLocation> {
    const rows: RegisteredLocation[] = await this.dataSource.query(
      `INSERT INTO registry_locations (gln, party, name, country, visibility, updated_by) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (gln) DO UPDATE SET name = EXCLUDED.name, country = EXCLUDED.country, visibility = EXCLUDED.visibility,
         updated_at = now(), updated_by = EXCLUDED.updated_by
         WHERE registry_locations.party = EXCLUDED.party
       RETURNING gln, party, name, country, visibility`,
      [location.gln, location.party, location.name, location.country, location.visibility, by],
    );
    const row = rows[0];
    if (row) return row;
    const held: { party: string }[] = await this.dataSource.query('SELECT party FROM registry_locations WHERE gln = $1', [
      location.gln,
    ]);
    throw new LocationOfAnotherPartyError(location.gln, held[0]?.party ?? 'unknown');
  }

  /**
   * The names of the GLNs a page shows, and of the parties their internal locations belong to.
   * An internal location's own name is left out: the page's data must not carry it either.
   */
  async directory(glns: readonly string[]): Promise<Directory> {
    const places: Record<string, PlaceEntry> = {};
    const locations: RegisteredLocation[] = await this.dataSource.query(
      'SELECT gln, party, name, country, visibility FROM registry_locations WHERE gln = ANY($1)',
      [[...new Set(glns)]],
    );
    for (const { gln, party, name, country, visibility } of locations) {
      places[gln] = visibility === 'internal' ? { visibility, party } : { visibility, name, country, party };
    }
    const parties: Record<string, PartyEntry> = {};
    const wanted = [...new Set([...glns, ...locations.map((location) => location.party)])];
    const rows: RegisteredParty[] = await this.dataSource.query(
      'SELECT gln, name, role, country FROM registry_parties WHERE gln = ANY($1)',
      [wanted],
    );
    for (const { gln, name, role, country } of rows) parties[gln] = { name, role, country };
    return { parties, places };
  }
}

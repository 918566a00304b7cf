import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The party registry the consumer page names parties and locations from (docs/consumer-page.md):
 * GLN to name, role and country, kept by each party's operators for itself and its sites. Not a
 * read model: nothing in the ledger writes it, and a rebuild or an audit of the read models
 * leaves it alone. A location marked internal is shown to consumers as a site of its party.
 */
export class PartyRegistry1766000000000 implements MigrationInterface {
  name = 'PartyRegistry1766000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE registry_parties (
      gln text PRIMARY KEY CHECK (gln ~ '^[0-9]{13}$'),
      name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
      role text NOT NULL,
      country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
      updated_at timestamptz NOT NULL DEFAULT now(),
      updated_by text NOT NULL)`);
    await queryRunner.query(`CREATE TABLE registry_locations (
      gln text PRIMARY KEY CHECK (gln ~ '^[0-9]{13}$'),
      party text NOT NULL CHECK (party ~ '^[0-9]{13}$'),
      name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
      country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
      visibility text NOT NULL CHECK (visibility IN ('public', 'internal')),
      updated_at timestamptz NOT NULL DEFAULT now(),
      updated_by text NOT NULL)`);
    await queryRunner.query('CREATE INDEX registry_locations_party ON registry_locations (party)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE registry_locations');
    await queryRunner.query('DROP TABLE registry_parties');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The genesis hash of each ledger partition, pinned outside Kafka (docs/ledger-format.md):
 * a topic rewritten from genesis no longer matches it. A pin is written once and never
 * changed; the trigger makes an UPDATE or DELETE fail even for the table's owner.
 */
export class LedgerGenesis1764115200000 implements MigrationInterface {
  name = 'LedgerGenesis1764115200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE ledger_genesis (
        ledger_id    text        NOT NULL CHECK (ledger_id ~ '^[A-Za-z0-9._-]{1,100}$'),
        partition    integer     NOT NULL CHECK (partition >= 0),
        genesis_hash text        NOT NULL CHECK (genesis_hash ~ '^[0-9a-f]{64}$'),
        pinned_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (ledger_id, partition)
      )`);
    await queryRunner.query(`
      CREATE FUNCTION ledger_genesis_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger_genesis is append-only: a pinned genesis hash is never changed'
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER ledger_genesis_immutable BEFORE UPDATE OR DELETE ON ledger_genesis
        FOR EACH ROW EXECUTE FUNCTION ledger_genesis_is_immutable()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE ledger_genesis');
    await queryRunner.query('DROP FUNCTION ledger_genesis_is_immutable()');
  }
}

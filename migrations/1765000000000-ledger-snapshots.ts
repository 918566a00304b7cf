import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The writers' snapshots (docs/ledger-format.md §11): per partition the newest signed snapshot,
 * the state tree it commits to (nodes by path, values by key), the Merkle tree as tiles, and the
 * records with their entity index, which the verifier reads instead of the topic's prefix. Only
 * a partition's writer writes them; nothing in them is trusted without the writer's signature
 * and the topic's checkpoint (src/ledger/writer-snapshot.ts). In PostgreSQL so that the
 * operator's backup holds them and every instance reads them (docs/ledger-format.md §11).
 */
export class LedgerSnapshots1765000000000 implements MigrationInterface {
  name = 'LedgerSnapshots1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const partition = `ledger_id text NOT NULL CHECK (ledger_id ~ '^[A-Za-z0-9._-]{1,100}$'),
        partition integer NOT NULL CHECK (partition >= 0)`;
    await queryRunner.query(`
      CREATE TABLE ledger_snapshot (
        ${partition},
        tree_size  bigint      NOT NULL CHECK (tree_size > 0),
        body       text        NOT NULL,
        note       text        NOT NULL,
        taken_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (ledger_id, partition)
      )`);
    await queryRunner.query(`
      CREATE TABLE ledger_state_node (
        ${partition},
        path text  NOT NULL CHECK (path ~ '^[0-9a-f]{0,64}$'),
        node bytea NOT NULL,
        PRIMARY KEY (ledger_id, partition, path)
      )`);
    await queryRunner.query(`
      CREATE TABLE ledger_state_value (
        ${partition},
        key   bytea NOT NULL CHECK (length(key) = 32),
        value bytea NOT NULL,
        PRIMARY KEY (ledger_id, partition, key)
      )`);
    await queryRunner.query(`
      CREATE TABLE ledger_tile (
        ${partition},
        level  smallint NOT NULL CHECK (level >= 0),
        index  bigint   NOT NULL CHECK (index >= 0),
        hashes bytea    NOT NULL CHECK (length(hashes) BETWEEN 32 AND 8192 AND length(hashes) % 32 = 0),
        PRIMARY KEY (ledger_id, partition, level, index)
      )`);
    await queryRunner.query(`
      CREATE TABLE ledger_record (
        ${partition},
        sequence     bigint NOT NULL CHECK (sequence >= 0),
        kafka_offset bigint NOT NULL CHECK (kafka_offset >= 0),
        bytes        bytea  NOT NULL,
        PRIMARY KEY (ledger_id, partition, sequence)
      )`);
    await queryRunner.query(`
      CREATE TABLE ledger_entity_record (
        ${partition},
        entity_id text   NOT NULL,
        sequence  bigint NOT NULL CHECK (sequence >= 0),
        PRIMARY KEY (ledger_id, partition, entity_id, sequence)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'ledger_entity_record',
      'ledger_record',
      'ledger_tile',
      'ledger_state_value',
      'ledger_state_node',
      'ledger_snapshot',
    ]) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}

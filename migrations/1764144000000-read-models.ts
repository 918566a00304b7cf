import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The read models: a projection of the ledger, rebuilt from it at any time (docs/projection.md).
 * The projector writes them and its position in one transaction per batch; nothing else writes
 * them. Every query of the provenance API has an index here.
 */
export class ReadModels1764144000000 implements MigrationInterface {
  name = 'ReadModels1764144000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Where the projection of each partition stands, and the verified chain head it resumes from.
    await queryRunner.query(`
      CREATE TABLE projection_position (
        ledger_id       text        NOT NULL,
        partition       integer     NOT NULL CHECK (partition >= 0),
        next_offset     bigint      NOT NULL CHECK (next_offset >= 0),
        next_sequence   bigint      NOT NULL CHECK (next_sequence >= 0),
        head_hash       text        CHECK (head_hash ~ '^[0-9a-f]{64}$'),
        genesis_hash    text        CHECK (genesis_hash ~ '^[0-9a-f]{64}$'),
        tree_size       bigint      NOT NULL,
        tree_nodes      text[]      NOT NULL,
        last_checkpoint jsonb,
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (ledger_id, partition)
      )`);
    await queryRunner.query(`
      CREATE TABLE projection_entity_heads (
        partition   integer NOT NULL,
        entity_id   text    NOT NULL,
        record_hash text    NOT NULL,
        PRIMARY KEY (partition, entity_id)
      )`);
    // One row per custody record, with its place in the ledger.
    await queryRunner.query(`
      CREATE TABLE custody_events (
        partition    integer     NOT NULL,
        sequence     bigint      NOT NULL,
        kafka_offset bigint      NOT NULL,
        record_hash  text        NOT NULL UNIQUE,
        event_id     uuid        NOT NULL,
        event_type   text        NOT NULL,
        occurred_at  timestamptz NOT NULL,
        occurred_at_text text    NOT NULL,
        recorded_at  timestamptz NOT NULL,
        actor        text        NOT NULL,
        subject      text        NOT NULL,
        entity_ids   text[]      NOT NULL,
        payload      jsonb       NOT NULL,
        PRIMARY KEY (partition, sequence)
      )`);
    await queryRunner.query('CREATE INDEX custody_events_event_id ON custody_events (event_id)');
    // Each entity's history: one row per record that names it. A step on a shipment names
    // every product packed in it, so a product's history includes its shipments' steps (via).
    await queryRunner.query(`
      CREATE TABLE entity_history (
        entity_id     text        NOT NULL,
        partition     integer     NOT NULL,
        sequence      bigint      NOT NULL,
        occurred_at   timestamptz NOT NULL,
        event_type    text        NOT NULL,
        parties       text[]      NOT NULL,
        via           text,
        previous_hash text,
        PRIMARY KEY (entity_id, partition, sequence)
      )`);
    await queryRunner.query('CREATE INDEX entity_history_time ON entity_history (entity_id, occurred_at)');
    await queryRunner.query('CREATE INDEX entity_history_parties ON entity_history USING gin (parties)');
    await queryRunner.query(`
      CREATE TABLE products (
        id              text        PRIMARY KEY,
        gtin            text        NOT NULL,
        serial          text,
        lot             text,
        name            text,
        attributes      jsonb,
        owner           text        NOT NULL,
        origin          text        NOT NULL,
        commissioned_at timestamptz NOT NULL,
        status          text        NOT NULL CHECK (status IN ('active', 'decommissioned')),
        reason          text,
        holder          text        NOT NULL,
        location        text        NOT NULL,
        shipment        text,
        partition       integer     NOT NULL,
        last_sequence   bigint      NOT NULL
      )`);
    await queryRunner.query('CREATE INDEX products_lot ON products (gtin, lot)');
    await queryRunner.query('CREATE INDEX products_holder ON products (holder)');
    await queryRunner.query(`
      CREATE TABLE shipments (
        id            text        PRIMARY KEY,
        sscc          text        NOT NULL,
        owner         text        NOT NULL,
        origin        text        NOT NULL,
        destination   text        NOT NULL,
        consignee     text        NOT NULL,
        created_at    timestamptz NOT NULL,
        status        text        NOT NULL CHECK (status IN ('open', 'in-transit')),
        holder        text        NOT NULL,
        location      text        NOT NULL,
        partition     integer     NOT NULL,
        last_sequence bigint      NOT NULL
      )`);
    // Which product was in which shipment, over time (aggregation).
    await queryRunner.query(`
      CREATE TABLE containment (
        shipment_id       text        NOT NULL,
        product_id        text        NOT NULL,
        packed_sequence   bigint      NOT NULL,
        packed_at         timestamptz NOT NULL,
        unpacked_sequence bigint,
        unpacked_at       timestamptz,
        PRIMARY KEY (shipment_id, product_id, packed_sequence)
      )`);
    await queryRunner.query('CREATE INDEX containment_product ON containment (product_id)');
    await queryRunner.query('CREATE INDEX containment_time ON containment (shipment_id, packed_at)');
    // Transformations: which inputs became which outputs.
    await queryRunner.query(`
      CREATE TABLE lineage (
        input_id    text        NOT NULL,
        output_id   text        NOT NULL,
        partition   integer     NOT NULL,
        sequence    bigint      NOT NULL,
        occurred_at timestamptz NOT NULL,
        PRIMARY KEY (input_id, output_id, partition, sequence)
      )`);
    await queryRunner.query('CREATE INDEX lineage_output ON lineage (output_id)');
    await queryRunner.query(`
      CREATE TABLE checkpoints (
        partition       integer     NOT NULL,
        tree_size       bigint      NOT NULL,
        root_hash       text        NOT NULL,
        head_hash       text        NOT NULL,
        signed_at       text        NOT NULL,
        note            jsonb       NOT NULL,
        kafka_offset    bigint      NOT NULL,
        PRIMARY KEY (partition, tree_size)
      )`);
    // Records that did not verify: never projected, kept with the reason for an operator.
    await queryRunner.query(`
      CREATE TABLE quarantine (
        ledger_id    text        NOT NULL,
        partition    integer     NOT NULL,
        kafka_offset bigint      NOT NULL,
        kind         text        NOT NULL,
        reason       text        NOT NULL,
        sequence     bigint,
        entity_id    text,
        expected     text,
        found        text,
        raw          bytea,
        detected_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (ledger_id, partition, kafka_offset)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'quarantine',
      'checkpoints',
      'lineage',
      'containment',
      'shipments',
      'products',
      'entity_history',
      'custody_events',
      'projection_entity_heads',
      'projection_position',
    ]) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}

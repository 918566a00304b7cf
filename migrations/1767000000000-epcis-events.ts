import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The EPCIS query's read models (docs/epcis-query.md): every EPCIS event in the ledger, captured
 * or rendered from a custody step, at the ledger position of the record that carries it (the
 * order of answers and of their pages), with the columns the query filters on, and the
 * identifiers each names by role in one normal form (src/epcis/query-normal-forms.ts). Written
 * by the projector with its other read models, emptied by a rebuild, replayed by a full audit.
 */
export class EpcisEvents1767000000000 implements MigrationInterface {
  name = 'EpcisEvents1767000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE epcis_events (
        partition         integer     NOT NULL,
        sequence          bigint      NOT NULL,
        event_id          text        NOT NULL,
        record_event_id   uuid        NOT NULL,
        event_type        text        NOT NULL,
        event_time        timestamptz,
        record_time       timestamptz NOT NULL,
        action            text,
        biz_step          text,
        disposition       text,
        read_point        text,
        biz_location      text,
        error_declaration boolean     NOT NULL,
        event             jsonb       NOT NULL,
        PRIMARY KEY (partition, sequence)
      )`);
    // An error declaration has the eventID of the event it declares wrong: an id is not unique.
    await queryRunner.query('CREATE INDEX epcis_events_event_id ON epcis_events (event_id)');
    await queryRunner.query('CREATE INDEX epcis_events_event_time ON epcis_events (event_time)');
    await queryRunner.query('CREATE INDEX epcis_events_record_time ON epcis_events (record_time)');
    await queryRunner.query('CREATE INDEX epcis_events_biz_step ON epcis_events (biz_step)');
    await queryRunner.query('CREATE INDEX epcis_events_disposition ON epcis_events (disposition)');
    await queryRunner.query('CREATE INDEX epcis_events_read_point ON epcis_events (read_point)');
    await queryRunner.query('CREATE INDEX epcis_events_biz_location ON epcis_events (biz_location)');
    await queryRunner.query(
      'CREATE INDEX epcis_events_error_declaration ON epcis_events (partition, sequence) WHERE error_declaration',
    );
    await queryRunner.query(`
      CREATE TABLE epcis_event_ids (
        partition  integer NOT NULL,
        sequence   bigint  NOT NULL,
        role       text    NOT NULL CHECK (role IN ('epc', 'parent', 'input', 'output', 'class')),
        identifier text    NOT NULL,
        PRIMARY KEY (partition, sequence, role, identifier)
      )`);
    await queryRunner.query('CREATE INDEX epcis_event_ids_identifier ON epcis_event_ids (identifier, role)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE epcis_event_ids');
    await queryRunner.query('DROP TABLE epcis_events');
  }
}

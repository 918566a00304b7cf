import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * EPCIS capture jobs (docs/epcis.md, "Capture"): one row per `POST /capture`, so that
 * `GET /capture/{id}` answers on any instance. Not a read model: the ledger holds the events,
 * this only what became of each request (running, succeeded, failed with its errors).
 */
export class EpcisCaptureJobs1767100000000 implements MigrationInterface {
  name = 'EpcisCaptureJobs1767100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE epcis_capture_jobs (
      id uuid PRIMARY KEY,
      party text NOT NULL,
      caller text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      running boolean NOT NULL,
      success boolean,
      event_count integer NOT NULL CHECK (event_count >= 0),
      errors jsonb NOT NULL DEFAULT '[]',
      events jsonb NOT NULL DEFAULT '[]')`);
    await queryRunner.query('CREATE INDEX epcis_capture_jobs_created ON epcis_capture_jobs (created_at)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE epcis_capture_jobs');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lots consumed in part (docs/api.md, transformations): a product's remaining quantity and its
 * unit. And the partition of each containment row, as every other read model has it, so that a
 * full audit compares containment partition by partition (docs/attestation-format.md §6).
 */
export class LotQuantities1764900000000 implements MigrationInterface {
  name = 'LotQuantities1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE products ADD COLUMN quantity numeric CHECK (quantity >= 0), ADD COLUMN uom text');
    await queryRunner.query('ALTER TABLE containment ADD COLUMN partition integer');
    await queryRunner.query('UPDATE containment c SET partition = s.partition FROM shipments s WHERE s.id = c.shipment_id');
    await queryRunner.query('ALTER TABLE containment ALTER COLUMN partition SET NOT NULL');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE containment DROP COLUMN partition');
    await queryRunner.query('ALTER TABLE products DROP COLUMN uom, DROP COLUMN quantity');
  }
}

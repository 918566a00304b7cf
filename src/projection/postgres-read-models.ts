import type { DataSource, QueryRunner } from 'typeorm';
import type { ProductRow, ShipmentRow } from '../custody/events/index.js';
import { isProductId, isShipmentId } from '../gs1/digital-link.js';
import type { ChainBreak, ChainHead } from '../ledger/chain-verifier.js';
import type { SignedCheckpoint } from '../ledger/checkpoint-note.js';
import type { Hash } from '../ledger/hashing.js';
import { TableStatistics } from '../ledger/adapters/postgres-statistics.js';
import { MerkleTree } from '../ledger/merkle-tree.js';
import type { ReadModelChanges } from './read-model-changes.js';
import { columnList, READ_MODEL, type ReadModelTable, recordType, selectList } from './read-model-schema.js';

/** The tables the projection owns, emptied by a rebuild (the position last). */
export const READ_MODEL_TABLES = [
  'custody_events',
  'entity_history',
  'products',
  'shipments',
  'containment',
  'lineage',
  'checkpoints',
  'epcis_events',
  'epcis_event_ids',
  'quarantine',
  'projection_entity_heads',
  'projection_position',
] as const;

/** Where a read model's rows are written: its own table, or (a full audit's replay) another of the same shape. */
export type TableNames = (table: string) => string;

/** The application's read models, in its own tables. */
export const READ_MODEL_NAMES: TableNames = (table) => table;

/** What reads and writes rows: the connection pool, or one connection (in a transaction). */
export interface Queries {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/** One INSERT of rows of a read-model table, from a JSON array of them (jsonb_to_recordset). */
function insertRows(table: ReadModelTable, into: string, conflict = ''): string {
  return `INSERT INTO ${into} (${columnList(table)})
            SELECT ${columnList(table)} FROM jsonb_to_recordset($1::jsonb) AS ${recordType(table)} ${conflict}`;
}

/** The current rows of the products and shipments a batch touches, from the tables `names` gives. */
export async function loadRows(
  queries: Queries,
  names: TableNames,
  ids: readonly string[],
): Promise<{ products: Map<string, ProductRow>; shipments: Map<string, ShipmentRow> }> {
  const productIds = ids.filter(isProductId);
  const shipmentIds = ids.filter(isShipmentId);
  const select = (table: ReadModelTable, some: string[]) =>
    some.length ? queries.query(`SELECT ${selectList(table)} FROM ${names(table.name)} WHERE id = ANY($1)`, [some]) : [];
  const products = (await select(READ_MODEL.products, productIds)) as ProductRow[];
  const shipments = (await select(READ_MODEL.shipments, shipmentIds)) as ShipmentRow[];
  return { products: new Map(products.map((row) => [row.id, row])), shipments: new Map(shipments.map((row) => [row.id, row])) };
}

/** Writes what a batch changes in the read models into the tables `names` gives: one statement per table. */
export async function writeRows(
  queries: Queries,
  names: TableNames,
  partition: number,
  changes: ReadModelChanges,
): Promise<void> {
  const json = (rows: unknown) => JSON.stringify(rows);
  const insert = (table: ReadModelTable, conflict = '') => insertRows(table, names(table.name), conflict);
  if (changes.events.length) await queries.query(insert(READ_MODEL.custody_events), [json(changes.events)]);
  if (changes.history.length) await queries.query(insert(READ_MODEL.entity_history), [json(changes.history)]);
  if (changes.products.size) {
    await queries.query(
      insert(
        READ_MODEL.products,
        `ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason, holder = EXCLUDED.holder,
           location = EXCLUDED.location, shipment = EXCLUDED.shipment, last_sequence = EXCLUDED.last_sequence,
           quantity = EXCLUDED.quantity`,
      ),
      [json([...changes.products.values()])],
    );
  }
  if (changes.shipments.size) {
    await queries.query(
      insert(
        READ_MODEL.shipments,
        `ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, holder = EXCLUDED.holder,
           location = EXCLUDED.location, last_sequence = EXCLUDED.last_sequence`,
      ),
      [json([...changes.shipments.values()])],
    );
  }
  // Unpackings of earlier packings first: a product unpacked and packed again in one batch must
  // not have its new packing closed.
  if (changes.closings.length) {
    await queries.query(
      `UPDATE ${names('containment')} c SET unpacked_sequence = x.unpacked_sequence, unpacked_at = x.unpacked_at
         FROM jsonb_to_recordset($1::jsonb) AS x(shipment_id text, product_id text, unpacked_sequence bigint,
           unpacked_at timestamptz)
        WHERE c.shipment_id = x.shipment_id AND c.product_id = x.product_id AND c.unpacked_sequence IS NULL
          AND c.packed_sequence < x.unpacked_sequence`,
      [json(changes.closings)],
    );
  }
  if (changes.packings.length) await queries.query(insert(READ_MODEL.containment), [json(changes.packings)]);
  if (changes.lineage.length) await queries.query(insert(READ_MODEL.lineage), [json(changes.lineage)]);
  if (changes.checkpoints.length) await queries.query(insert(READ_MODEL.checkpoints), [json(changes.checkpoints)]);
  if (changes.epcisEvents.length) await queries.query(insert(READ_MODEL.epcis_events), [json(changes.epcisEvents)]);
  if (changes.epcisIdentifiers.length) {
    await queries.query(insert(READ_MODEL.epcis_event_ids), [json(changes.epcisIdentifiers)]);
  }
  if (changes.entityHeads.size) {
    await queries.query(
      `INSERT INTO ${names('projection_entity_heads')}
         SELECT $1, key, value FROM jsonb_each_text($2::jsonb)
       ON CONFLICT (partition, entity_id) DO UPDATE SET record_hash = EXCLUDED.record_hash`,
      [partition, json(Object.fromEntries(changes.entityHeads))],
    );
  }
}

/** Another projector moved the position first: this batch is not written; resume from the store. */
export class ProjectionConflictError extends Error {
  override name = 'ProjectionConflictError';
}

export interface StoredPosition {
  readonly nextOffset: string;
  readonly head: ChainHead;
}

interface PositionRow {
  next_offset: string;
  next_sequence: string;
  head_hash: string | null;
  genesis_hash: string | null;
  tree_size: string;
  tree_nodes: string[];
  last_checkpoint: SignedCheckpoint | null;
}

/**
 * The read models in PostgreSQL. Every batch is written with one statement per table, from a
 * JSON parameter (jsonb_to_recordset), and the position moves in the same transaction only if
 * it is still where this projector left it.
 */
export class PostgresReadModels {
  /** The planner's statistics of the read models, refreshed as batches fill them (TableStatistics). */
  readonly statistics: TableStatistics;

  constructor(
    private readonly dataSource: DataSource,
    private readonly ledgerId: string,
  ) {
    this.statistics = new TableStatistics(dataSource, READ_MODEL_TABLES);
  }

  async position(partition: number): Promise<StoredPosition | null> {
    const rows: PositionRow[] = await this.dataSource.query(
      `SELECT next_offset, next_sequence, head_hash, genesis_hash, tree_size, tree_nodes, last_checkpoint
         FROM projection_position WHERE ledger_id = $1 AND partition = $2`,
      [this.ledgerId, partition],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      nextOffset: row.next_offset,
      head: {
        nextSequence: Number(row.next_sequence),
        headHash: row.head_hash,
        genesisHash: row.genesis_hash,
        tree: MerkleTree.fromCompactRange(Number(row.tree_size), row.tree_nodes),
        // Read per batch (entityHeads()), not all at once: the projector's memory stays bounded.
        entityHeads: new Map(),
        lastCheckpoint: row.last_checkpoint,
        nextOffset: row.next_offset,
      },
    };
  }

  /** The stored heads of these entities (the hash of the last projected record naming each), where they have one. */
  async entityHeads(partition: number, ids: readonly string[]): Promise<Map<string, Hash>> {
    const rows: { entity_id: string; record_hash: Hash }[] = await this.dataSource.query(
      'SELECT entity_id, record_hash FROM projection_entity_heads WHERE partition = $1 AND entity_id = ANY($2::text[])',
      [partition, ids],
    );
    return new Map(rows.map((row) => [row.entity_id, row.record_hash]));
  }

  /** The current rows of the products and shipments a batch touches. */
  rows(ids: readonly string[]): Promise<{ products: Map<string, ProductRow>; shipments: Map<string, ShipmentRow> }> {
    return loadRows(this.dataSource, READ_MODEL_NAMES, ids);
  }

  /** Writes a batch and moves the position from `from` to `to`, in one transaction. */
  async apply(partition: number, changes: ReadModelChanges, from: string | null, to: ChainHead): Promise<void> {
    await this.transaction(async (runner) => {
      // The read models are derived from the ledger, and the position commits with the rows it
      // belongs to: a commit lost in a crash of PostgreSQL (at most wal_writer_delay's worth) is
      // projected again from the ledger, never half-applied. So the projector does not wait for
      // each batch's WAL flush (docs/projection.md, "Durability").
      await runner.query('SET LOCAL synchronous_commit TO OFF');
      await this.movePosition(runner, partition, from, to);
      await writeRows(runner, READ_MODEL_NAMES, partition, changes);
    });
    this.statistics.written();
  }

  /** A record that did not verify: kept with the reason; the position does not move past it. */
  async quarantine(problem: ChainBreak, raw: Uint8Array | null): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO quarantine (ledger_id, partition, kafka_offset, kind, reason, sequence, entity_id, expected, found, raw)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
      [
        this.ledgerId,
        problem.partition,
        problem.offset,
        problem.kind,
        problem.message,
        problem.sequence,
        problem.entityId ?? null,
        problem.expected ?? null,
        problem.found ?? null,
        raw ? Buffer.from(raw) : null,
      ],
    );
  }

  /** Empties every read model and the position: the next projector run replays the ledger. */
  async clear(): Promise<void> {
    await this.dataSource.query(`TRUNCATE ${READ_MODEL_TABLES.join(', ')}`);
  }

  private async movePosition(runner: QueryRunner, partition: number, from: string | null, to: ChainHead): Promise<void> {
    const { size, nodes } = to.tree.toCompactRange();
    const values = [
      this.ledgerId,
      partition,
      to.nextOffset ?? '0',
      to.nextSequence,
      to.headHash,
      to.genesisHash,
      size,
      nodes,
      to.lastCheckpoint ? JSON.stringify(to.lastCheckpoint) : null,
    ];
    const result: unknown =
      from === null
        ? await runner.query(
            `INSERT INTO projection_position (ledger_id, partition, next_offset, next_sequence, head_hash, genesis_hash,
               tree_size, tree_nodes, last_checkpoint) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT DO NOTHING RETURNING partition`,
            values,
          )
        : await runner.query(
            `UPDATE projection_position SET next_offset = $3, next_sequence = $4, head_hash = $5, genesis_hash = $6,
               tree_size = $7, tree_nodes = $8, last_checkpoint = $9, updated_at = now()
             WHERE ledger_id = $1 AND partition = $2 AND next_offset = $10 RETURNING partition`,
            [...values, from],
          );
    const rows = Array.isArray(result) ? (Array.isArray(result[0]) ? (result[0] as unknown[]) : result) : [];
    if (rows.length !== 1) {
      throw new ProjectionConflictError(`partition ${partition}: the projection position moved from ${String(from)} meanwhile`);
    }
  }

  private async transaction(work: (runner: QueryRunner) => Promise<void>): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await work(runner);
      await runner.commitTransaction();
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  }
}

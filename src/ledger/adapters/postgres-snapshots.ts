import type { DataSource, EntityManager } from 'typeorm';
import { type Tile, tileKey } from '../merkle-tiles.js';
import {
  type PartitionSnapshots,
  type SnapshotCommit,
  snapshotCommitOf,
  type SnapshotStore,
  type SnapshotWrites,
} from '../ports.js';
import type { SignedSnapshot, SnapshotBody } from '../writer-snapshot.js';
import { TableStatistics } from './postgres-statistics.js';

/** Rows a statement writes at most: a query's parameters stay well under PostgreSQL's limits. */
const CHUNK = 5_000;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

const bytes = (buffer: Buffer): Uint8Array => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
const buffer = (value: Uint8Array): Buffer => Buffer.from(value.buffer, value.byteOffset, value.byteLength);

/** Writer snapshots in the tables of migration LedgerSnapshots1765000000000, one ledger's. */
export class PostgresSnapshotStore implements SnapshotStore {
  /** The planner's statistics of the tables a snapshot grows (TableStatistics), refreshed after commits. */
  readonly statistics: TableStatistics;

  constructor(
    private readonly dataSource: DataSource,
    private readonly ledgerId: string,
    private readonly options: SnapshotStoreOptions = {},
  ) {
    const { idleTimeoutMs } = options;
    if (idleTimeoutMs !== undefined && !(Number.isInteger(idleTimeoutMs) && idleTimeoutMs > 0)) {
      throw new RangeError(`idleTimeoutMs must be a whole number of milliseconds above 0, not ${idleTimeoutMs}`);
    }
    this.statistics = new TableStatistics(dataSource, SNAPSHOT_TABLES);
  }

  partition(partition: number): PartitionSnapshots {
    return new PostgresPartitionSnapshots(this.dataSource, this.ledgerId, partition, this.statistics, {
      idleTimeoutMs: this.options.idleTimeoutMs ?? SNAPSHOT_IDLE_TIMEOUT_MS,
    });
  }
}

export interface SnapshotStoreOptions {
  /**
   * How long a snapshot's commit may sit idle inside its transaction before PostgreSQL ends the
   * session (`idle_in_transaction_session_timeout`), default SNAPSHOT_IDLE_TIMEOUT_MS.
   */
  readonly idleTimeoutMs?: number;
}

/**
 * A commit's transaction idle this long has a process that stopped inside it (a writer that lost
 * the partition: frozen, its VM paused, cut off from Kafka): PostgreSQL ends its session, and
 * the partition's snapshot rows it held are free for the writer that holds the partition now.
 * Without it they stay held until the stopped process runs again or TCP keepalive ends the
 * connection (about 2 hours by default), and every snapshot of the new writer meanwhile is
 * deferred ('busy'), its layers held in memory. A healthy commit is never idle that long: between
 * its statements it only builds the next one's parameters.
 */
const SNAPSHOT_IDLE_TIMEOUT_MS = 30_000;

/** How long a snapshot's commit waits for the partition's snapshot rows held by another session before it is deferred ('busy'). */
const SNAPSHOT_LOCK_TIMEOUT_MS = 1_000;
/** PostgreSQL's lock_not_available, which lock_timeout raises. */
const LOCK_NOT_AVAILABLE = '55P03';

const SNAPSHOT_TABLES = [
  'ledger_snapshot',
  'ledger_state_node',
  'ledger_state_value',
  'ledger_tile',
  'ledger_record',
  'ledger_entity_record',
] as const;

class PostgresPartitionSnapshots implements PartitionSnapshots {
  constructor(
    private readonly dataSource: DataSource,
    private readonly ledgerId: string,
    readonly partition: number,
    private readonly statistics: TableStatistics,
    private readonly options: { readonly idleTimeoutMs: number },
  ) {}

  private get key(): [string, number] {
    return [this.ledgerId, this.partition];
  }

  async latest(): Promise<SignedSnapshot | null> {
    const rows: { body: string; note: string }[] = await this.dataSource.query(
      'SELECT body, note FROM ledger_snapshot WHERE ledger_id = $1 AND partition = $2',
      this.key,
    );
    const row = rows[0];
    if (!row) return null;
    let body: SnapshotBody;
    try {
      body = JSON.parse(row.body) as SnapshotBody;
    } catch {
      // Not JSON: a snapshot that cannot be read is one that does not check out.
      body = { formatVersion: 0 } as unknown as SnapshotBody;
    }
    return { body, note: row.note };
  }

  async nodes(paths: readonly string[]): Promise<Map<string, Uint8Array>> {
    const found = new Map<string, Uint8Array>();
    for (const chunk of chunks(paths)) {
      const rows: { path: string; node: Buffer }[] = await this.dataSource.query(
        'SELECT path, node FROM ledger_state_node WHERE ledger_id = $1 AND partition = $2 AND path = ANY($3::text[])',
        [...this.key, chunk],
      );
      for (const row of rows) found.set(row.path, bytes(row.node));
    }
    return found;
  }

  async values(keys: readonly string[]): Promise<Map<string, Uint8Array>> {
    const found = new Map<string, Uint8Array>();
    for (const chunk of chunks(keys)) {
      const rows: { key: Buffer; value: Buffer }[] = await this.dataSource.query(
        'SELECT key, value FROM ledger_state_value WHERE ledger_id = $1 AND partition = $2 AND key = ANY($3::bytea[])',
        [...this.key, chunk.map((key) => Buffer.from(key, 'hex'))],
      );
      for (const row of rows) found.set(row.key.toString('hex'), bytes(row.value));
    }
    return found;
  }

  async tiles(coordinates: readonly { level: number; index: number }[]): Promise<Map<string, Tile>> {
    const found = new Map<string, Tile>();
    if (coordinates.length === 0) return found;
    const rows: { level: number; index: string; hashes: Buffer }[] = await this.dataSource.query(
      `SELECT t.level, t.index, t.hashes FROM ledger_tile t
         JOIN unnest($3::smallint[], $4::bigint[]) AS w(level, index) ON t.level = w.level AND t.index = w.index
        WHERE t.ledger_id = $1 AND t.partition = $2`,
      [...this.key, coordinates.map((c) => c.level), coordinates.map((c) => String(c.index))],
    );
    for (const row of rows) {
      const index = Number(row.index);
      found.set(tileKey(row.level, index), { level: row.level, index, hashes: bytes(row.hashes) });
    }
    return found;
  }

  async records(sequences: readonly number[]): Promise<Map<number, { offset: string; bytes: Uint8Array }>> {
    const found = new Map<number, { offset: string; bytes: Uint8Array }>();
    for (const chunk of chunks(sequences)) {
      const rows: { sequence: string; kafka_offset: string; bytes: Buffer }[] = await this.dataSource.query(
        `SELECT sequence, kafka_offset, bytes FROM ledger_record
          WHERE ledger_id = $1 AND partition = $2 AND sequence = ANY($3::bigint[])`,
        [...this.key, chunk.map(String)],
      );
      for (const row of rows) found.set(Number(row.sequence), { offset: row.kafka_offset, bytes: bytes(row.bytes) });
    }
    return found;
  }

  async entityRecords(entityId: string, below: number): Promise<number[]> {
    const rows: { sequence: string }[] = await this.dataSource.query(
      `SELECT sequence FROM ledger_entity_record
        WHERE ledger_id = $1 AND partition = $2 AND entity_id = $3 AND sequence < $4 ORDER BY sequence`,
      [...this.key, entityId, String(below)],
    );
    return rows.map((row) => Number(row.sequence));
  }

  async commit(expected: number | 'fresh', writes: SnapshotWrites, snapshot: SignedSnapshot): Promise<SnapshotCommit> {
    let outcome: SnapshotCommit;
    try {
      outcome = await this.dataSource.transaction(async (manager): Promise<SnapshotCommit> => {
        // A writer that lost the partition may hold these rows, paused in its own commit: not
        // waited for; and if this process is the one that stops in here, its session is ended.
        await manager.query(
          `SET LOCAL lock_timeout = '${SNAPSHOT_LOCK_TIMEOUT_MS}ms'; ` +
            `SET LOCAL idle_in_transaction_session_timeout = '${this.options.idleTimeoutMs}ms'`,
        );
        const stored: { tree_size: string }[] = await manager.query(
          'SELECT tree_size FROM ledger_snapshot WHERE ledger_id = $1 AND partition = $2 FOR UPDATE',
          this.key,
        );
        const storedSize = stored[0] ? Number(stored[0].tree_size) : null;
        if (expected === 'fresh') await this.clear(manager);
        else {
          const refused = snapshotCommitOf(expected, storedSize, snapshot.body.treeSize);
          if (refused) return refused;
        }
        await this.write(manager, writes);
        await manager.query(
          `INSERT INTO ledger_snapshot (ledger_id, partition, tree_size, body, note) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (ledger_id, partition)
           DO UPDATE SET tree_size = EXCLUDED.tree_size, body = EXCLUDED.body, note = EXCLUDED.note, taken_at = now()`,
          [...this.key, String(snapshot.body.treeSize), JSON.stringify(snapshot.body), snapshot.note],
        );
        return 'written';
      });
    } catch (error) {
      const { code, driverError } = error as { code?: string; driverError?: { code?: string } };
      if ((code ?? driverError?.code) === LOCK_NOT_AVAILABLE) return 'busy';
      throw error;
    }
    if (outcome === 'written') this.statistics.written();
    return outcome;
  }

  private async clear(manager: EntityManager): Promise<void> {
    for (const table of SNAPSHOT_TABLES) {
      await manager.query(`DELETE FROM ${table} WHERE ledger_id = $1 AND partition = $2`, this.key);
    }
  }

  private async write(manager: EntityManager, writes: SnapshotWrites): Promise<void> {
    const nodes = [...writes.nodes].filter((entry): entry is [string, Uint8Array] => entry[1] !== null);
    for (const chunk of chunks(nodes)) {
      await manager.query(
        `INSERT INTO ledger_state_node (ledger_id, partition, path, node)
         SELECT $1, $2, * FROM unnest($3::text[], $4::bytea[])
         ON CONFLICT (ledger_id, partition, path) DO UPDATE SET node = EXCLUDED.node`,
        [...this.key, chunk.map(([path]) => path), chunk.map(([, node]) => buffer(node))],
      );
    }
    for (const chunk of chunks([...writes.values])) {
      await manager.query(
        `INSERT INTO ledger_state_value (ledger_id, partition, key, value)
         SELECT $1, $2, * FROM unnest($3::bytea[], $4::bytea[])
         ON CONFLICT (ledger_id, partition, key) DO UPDATE SET value = EXCLUDED.value`,
        [...this.key, chunk.map(([key]) => Buffer.from(key, 'hex')), chunk.map(([, value]) => buffer(value))],
      );
    }
    for (const chunk of chunks(writes.tiles)) {
      await manager.query(
        `INSERT INTO ledger_tile (ledger_id, partition, level, index, hashes)
         SELECT $1, $2, * FROM unnest($3::smallint[], $4::bigint[], $5::bytea[])
         ON CONFLICT (ledger_id, partition, level, index) DO UPDATE SET hashes = EXCLUDED.hashes`,
        [...this.key, chunk.map((t) => t.level), chunk.map((t) => String(t.index)), chunk.map((t) => buffer(t.hashes))],
      );
    }
    for (const chunk of chunks(writes.records)) {
      await manager.query(
        `INSERT INTO ledger_record (ledger_id, partition, sequence, kafka_offset, bytes)
         SELECT $1, $2, * FROM unnest($3::bigint[], $4::bigint[], $5::bytea[])
         ON CONFLICT (ledger_id, partition, sequence) DO UPDATE SET kafka_offset = EXCLUDED.kafka_offset, bytes = EXCLUDED.bytes`,
        [...this.key, chunk.map((r) => String(r.sequence)), chunk.map((r) => r.offset), chunk.map((r) => buffer(r.bytes))],
      );
      const links = chunk.flatMap((r) => r.entityIds.map((id) => [id, String(r.sequence)] as const));
      if (links.length === 0) continue;
      await manager.query(
        `INSERT INTO ledger_entity_record (ledger_id, partition, entity_id, sequence)
         SELECT $1, $2, * FROM unnest($3::text[], $4::bigint[]) ON CONFLICT DO NOTHING`,
        [...this.key, links.map(([id]) => id), links.map(([, sequence]) => sequence)],
      );
    }
  }
}

/** Running the projector in tests, and reading the read models back for comparison. */
import type { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/infrastructure/database/data-source-options.js';
import { prepareDatabase } from '../../src/infrastructure/database/database-provisioning.js';
import type { RecordReader } from '../../src/ledger/chain-verifier.js';
import { CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import { KafkaLedgerFeed } from '../../src/ledger/adapters/kafka-ledger-feed.js';
import { PostgresReadModels, READ_MODEL_TABLES } from '../../src/projection/postgres-read-models.js';
import { Projector } from '../../src/projection/projector.js';
import { reserveTestDatabase } from './environment.js';
import type { KafkaLedger } from './ledger-harness.js';

export async function openDatabase(url: string): Promise<DataSource> {
  await prepareDatabase(url);
  const dataSource = new DataSource(dataSourceOptions(url));
  await dataSource.initialize();
  return dataSource;
}

export function projectorFor(
  ledger: KafkaLedger,
  dataSource: DataSource,
  genesis: string | null = null,
  reader?: RecordReader,
): Projector {
  const verifier = new CheckpointVerifier(ledger.signer.keyName, ledger.signer.publicKey);
  return projectorOf({ ...ledger, verifier }, dataSource, genesis, reader);
}

/** What a projector needs to know of a ledger: where it is and the key its checkpoints verify with. */
export interface LedgerSource {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly ledgerId: string;
  readonly verifier: CheckpointVerifier;
}

export function projectorOf(
  ledger: LedgerSource,
  dataSource: DataSource,
  genesis: string | null = null,
  reader?: RecordReader,
): Projector {
  return new Projector({
    ...(reader ? { reader } : {}),
    ledgerId: ledger.ledgerId,
    partitions: 1,
    verifier: ledger.verifier,
    genesisOf: () => Promise.resolve(genesis),
    store: new PostgresReadModels(dataSource, ledger.ledgerId),
    feed: new KafkaLedgerFeed(ledger.kafka, ledger.topic, 'custodian-projector-test'),
    retryDelayMs: 100,
  });
}

/**
 * The read models of an application's database once its projection reached `end` (the offset
 * after the last record), and those a rebuild makes: the same ledger projected from genesis
 * into a fresh database. A projection that survived faults must equal its rebuild.
 */
export async function projectionAndRebuild(
  ledger: LedgerSource,
  databaseUrl: string,
  end: bigint,
): Promise<{ live: Record<string, string[]>; rebuilt: Record<string, string[]> }> {
  const liveSource = await openDatabase(databaseUrl);
  let live: Record<string, string[]>;
  try {
    await projectedTo(liveSource, ledger.ledgerId, end);
    live = await dumpReadModels(liveSource);
  } finally {
    await liveSource.destroy();
  }
  const fresh = reserveTestDatabase();
  const freshSource = await openDatabase(fresh.url);
  try {
    const projector = projectorOf(ledger, freshSource);
    await projector.start();
    try {
      await projectedTo(freshSource, ledger.ledgerId, end);
    } finally {
      await projector.stop();
    }
    return { live, rebuilt: await dumpReadModels(freshSource) };
  } finally {
    await freshSource.destroy();
    await fresh.drop();
  }
}

/** Waits until the projection stored a position at or past `offset` (or gives up after `timeoutMs`). */
export async function projectedTo(dataSource: DataSource, ledgerId: string, offset: bigint, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows: { next_offset: string }[] = await dataSource.query(
      'SELECT next_offset FROM projection_position WHERE ledger_id = $1 AND partition = 0',
      [ledgerId],
    );
    if (rows[0] && BigInt(rows[0].next_offset) >= offset) return;
    if (Date.now() > deadline)
      throw new Error(`the projection did not reach offset ${offset} (at ${rows[0]?.next_offset ?? 'none'})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every read model table, row by row in a fixed order, as JSON: two projections are equal if these are. */
export async function dumpReadModels(dataSource: DataSource): Promise<Record<string, string[]>> {
  const dump: Record<string, string[]> = {};
  for (const table of READ_MODEL_TABLES) {
    const rows: { row: string }[] = await dataSource.query(
      `SELECT row_to_json(t)::text AS row FROM ${table} t ORDER BY row_to_json(t)::text`,
    );
    dump[table] = rows.map((r) => r.row.replace(/"updated_at":"[^"]*"|"detected_at":"[^"]*"/g, ''));
  }
  return dump;
}

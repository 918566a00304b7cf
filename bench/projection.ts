/**
 * Projection rate and provenance query latencies on a ledger of custody events, in one run
 * (`npm run bench -- --only projection`).
 *
 * Writes a custody workload (test/fixtures/custody-workload.ts) through the ledger writer,
 * then measures: the raw PostgreSQL insert rate of the same event rows (jsonb_to_recordset,
 * 1,000 rows per statement: the projector's own write path, without verification and the
 * other tables), the projector from the start of the ledger to its end, and the provenance
 * queries (src/provenance/provenance-queries.ts, in-process, no HTTP) on random products.
 */
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { custodyStateModel } from '../src/custody/custody-state.js';
import { dataSourceOptions } from '../src/infrastructure/database/data-source-options.js';
import { maintenanceUrl, prepareDatabase } from '../src/infrastructure/database/database-provisioning.js';
import { createKafkaLedgerWriter } from '../src/ledger/adapters/kafka-ledger-writer.js';
import { readPartition } from '../src/ledger/adapters/kafka-partition-reader.js';
import { CheckpointSigner, CheckpointVerifier } from '../src/ledger/checkpoint-note.js';
import { decodeRecord } from '../src/ledger/record-codec.js';
import { KafkaLedgerFeed } from '../src/ledger/adapters/kafka-ledger-feed.js';
import { PostgresReadModels } from '../src/projection/postgres-read-models.js';
import { Projector } from '../src/projection/projector.js';
import { ProvenanceQueries } from '../src/provenance/provenance-queries.js';
import { PARTIES, productId, recordWorkload, WORKLOAD_GTIN } from '../test/fixtures/custody-workload.js';
import { MemoryGenesisPins } from '../test/support/memory-ledger.js';
import { closeSettled, createBenchTopic } from './support/kafka.js';
import { type BenchContext, type Benchmark, ms, percentile, ratio, type Measured, whole } from './support/suite.js';

const LANES = 50;

type QueryTimes = { key: string; name: string; p50: number; p99: number }[];

/** Each provenance query `queries` times on random products of the workload. */
async function timeQueries(
  dataSource: DataSource,
  rounds: number,
  queries: number,
  progress: (m: string) => void,
): Promise<QueryTimes> {
  const provenance = new ProvenanceQueries(dataSource);
  const randomProduct = () =>
    productId(Math.floor(Math.random() * LANES), Math.floor(Math.random() * rounds), Math.floor(Math.random() * 50));
  const time = async (work: () => Promise<unknown>) => {
    const samples: number[] = [];
    for (let i = 0; i < queries; i++) {
      const start = performance.now();
      await work();
      samples.push(performance.now() - start);
    }
    return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
  };
  const query = async (key: string, name: string, work: () => Promise<unknown>) => ({ key, name, ...(await time(work)) });
  progress(`timing ${queries} of each query`);
  return [
    await query('product', 'product by id (current state)', () => provenance.product(randomProduct())),
    await query('history', 'history, first page of 100', () => provenance.history(randomProduct(), { limit: 100 })),
    await query('historyByParty', 'history filtered by party', () =>
      provenance.history(randomProduct(), { limit: 100, party: PARTIES.carrier }),
    ),
    await query('forwardTrace', 'forward trace of a lot, first 100 products', () =>
      provenance.forward(WORKLOAD_GTIN, `LOT-${Math.floor(Math.random() * LANES)}`, 100),
    ),
    await query('backwardTrace', 'backward trace (through transformations)', () => provenance.backward(randomProduct())),
  ];
}

export const projection: Benchmark = {
  id: 'projection',
  title: 'Projection and provenance queries',
  run: measureProjection,
};

async function measureProjection({ quick, kafka, databaseUrl: serverUrl, progress }: BenchContext): Promise<Measured> {
  const events = quick ? 20_000 : 1_000_000;
  const queries = quick ? 50 : 300;
  const suffix = randomBytes(4).toString('hex');
  const databaseUrl = new URL(serverUrl);
  databaseUrl.pathname = `/custodian_bench_${suffix}`;
  await prepareDatabase(databaseUrl.toString());
  const dataSource = new DataSource(dataSourceOptions(databaseUrl.toString()));
  await dataSource.initialize();
  const dropDatabase = async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
    const server = new DataSource({ ...dataSourceOptions(maintenanceUrl(serverUrl)), migrations: [] });
    await server.initialize();
    await server.query(`DROP DATABASE "${databaseUrl.pathname.slice(1)}" WITH (FORCE)`);
    await server.destroy();
  };
  let projector: Projector | null = null;
  try {
    const topic = `custodian.bench.projection.${suffix}`;
    const ledgerId = `bench-${suffix}`;
    await createBenchTopic(kafka, topic);
    const signer = new CheckpointSigner(`custodian/${ledgerId}`, randomBytes(32));
    const writer = createKafkaLedgerWriter({
      kafka,
      topic,
      ledgerId,
      partitions: 1,
      signer,
      pins: new MemoryGenesisPins(),
      stateModel: custodyStateModel,
    });
    await writer.start();

    progress(`writing ${events} custody events through the ledger writer (${LANES} lanes)`);
    let t0 = performance.now();
    const written = await recordWorkload(writer, { events, lanes: LANES });
    const writeSeconds = (performance.now() - t0) / 1000;
    const end = await closeSettled(writer, kafka, topic);
    progress(`${written} events written in ${writeSeconds.toFixed(1)} s`);

    // Baseline: the same event rows inserted raw, 1,000 per statement, into a copy of the table.
    await dataSource.query('CREATE TABLE raw_events (LIKE custody_events INCLUDING ALL)');
    let rawSeconds = 0;
    let rawRows = 0;
    let batch: Record<string, unknown>[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const start = performance.now();
      await dataSource.query(
        `INSERT INTO raw_events SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(partition integer, sequence bigint, kafka_offset bigint,
         record_hash text, event_id uuid, event_type text, occurred_at timestamptz, occurred_at_text text, recorded_at timestamptz,
         actor text, subject text, entity_ids text[], payload jsonb)`,
        [JSON.stringify(batch)],
      );
      rawSeconds += (performance.now() - start) / 1000;
      rawRows += batch.length;
      batch = [];
    };
    progress('baseline: raw insert of the event rows');
    for await (const entry of readPartition(kafka, topic, 0)) {
      const { record, hash } = decodeRecord(entry.value);
      if (record.eventType.startsWith('ledger.')) continue;
      batch.push({
        partition: 0,
        sequence: record.sequence,
        kafka_offset: entry.offset,
        record_hash: hash,
        event_id: record.eventId,
        event_type: record.eventType,
        occurred_at: record.occurredAt,
        occurred_at_text: record.occurredAt,
        recorded_at: record.recordedAt,
        actor: record.actor,
        subject: record.entities[0]?.id ?? '',
        entity_ids: record.entities.map((e) => e.id),
        payload: record.payload,
      });
      if (batch.length === 1000) await flush();
    }
    await flush();
    await dataSource.query('DROP TABLE raw_events');

    progress('projecting the ledger from its start');
    projector = new Projector({
      ledgerId,
      partitions: 1,
      verifier: new CheckpointVerifier(signer.keyName, signer.publicKey),
      genesisOf: () => Promise.resolve(null),
      store: new PostgresReadModels(dataSource, ledgerId),
      feed: new KafkaLedgerFeed(kafka, topic, 'bench-projector'),
    });
    t0 = performance.now();
    await projector.start();
    for (;;) {
      const [status] = projector.status();
      if (status && BigInt(status.nextOffset) >= end) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const projectSeconds = (performance.now() - t0) / 1000;
    await projector.stop();
    projector = null;
    const [{ n: projected }] = await dataSource.query<[{ n: number }]>('SELECT count(*)::int AS n FROM custody_events');
    progress(`projected ${projected} events in ${projectSeconds.toFixed(1)} s`);

    const results = await timeQueries(dataSource, Math.ceil(events / 73 / LANES), queries, progress);
    const [{ size }] = await dataSource.query<[{ size: string }]>('SELECT pg_database_size(current_database())::text AS size');

    const rawRate = rawRows / rawSeconds;
    const projectorRate = projected / projectSeconds;
    const figures: Record<string, number> = {
      events: written,
      writePerSecond: written / writeSeconds,
      rawInsertPerSecond: rawRate,
      projectorPerSecond: projectorRate,
      readModelBytes: Number(size),
    };
    for (const { key, p50, p99 } of results) {
      figures[`${key}P50Ms`] = p50;
      figures[`${key}P99Ms`] = p99;
    }
    return {
      about:
        'How fast the projector builds the read models from a ledger of custody events, against a raw insert of the same event ' +
        "rows in the same run (the projector's own write path for one table, 1,000 rows per statement, no verification), and " +
        'how fast the provenance queries answer on the database it built. The workload is `test/fixtures/custody-workload.ts`: ' +
        '50 lanes of products commissioned, packed into pallets, dispatched, handed to a carrier, received, unpacked, handed ' +
        'to retailers, inspected, transformed and decommissioned, written through the ledger writer. Queries run in-process ' +
        '(`src/provenance/provenance-queries.ts`, without HTTP) on random products.',
      setting: `${whole(written)} custody events, written through the writer at ${whole(written / writeSeconds)}/s; read models ${whole(Number(size) / 2 ** 20)} MiB; ${queries} queries of each kind`,
      tables: [
        {
          head: ['what', 'events', 'seconds', 'events/s', 'ratio to raw insert'],
          align: ['l', 'r', 'r', 'r', 'r'],
          rows: [
            [
              'raw insert of the event rows (one table, 1,000 per statement)',
              whole(rawRows),
              rawSeconds.toFixed(1),
              whole(rawRate),
              '1.00',
            ],
            [
              'projector (verify, fold, 9 tables and the position per batch)',
              whole(projected),
              projectSeconds.toFixed(1),
              whole(projectorRate),
              ratio(projectorRate / rawRate),
            ],
          ],
        },
        {
          head: ['query (random products)', 'p50 ms', 'p99 ms'],
          align: ['l', 'r', 'r'],
          rows: results.map(({ name, p50, p99 }) => [name, ms(p50), ms(p99)]),
        },
      ],
      figures,
    };
  } finally {
    await projector?.stop();
    await dropDatabase();
  }
}

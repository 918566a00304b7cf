/**
 * Projection rate and provenance query latencies on a ledger of custody events, in one run.
 *
 *   npm run bench:projection [-- --events 1000000 --queries 300]
 *
 * Writes a custody workload (test/fixtures/custody-workload.ts) through the ledger writer,
 * then measures: the raw PostgreSQL insert rate of the same event rows (jsonb_to_recordset,
 * 1,000 rows per statement: the projector's own write path, without verification and the
 * other tables), the projector from the start of the ledger to its end, and the provenance
 * queries (src/provenance/provenance-queries.ts, in-process, no HTTP) on random products.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { custodyStateModel } from '../src/custody/custody-state.js';
import { dataSourceOptions } from '../src/infrastructure/database/data-source-options.js';
import { prepareDatabase } from '../src/infrastructure/database/database-provisioning.js';
import { createKafkaLedgerWriter } from '../src/ledger/adapters/kafka-ledger-writer.js';
import { readPartition } from '../src/ledger/adapters/kafka-partition-reader.js';
import { CheckpointSigner, CheckpointVerifier } from '../src/ledger/checkpoint-note.js';
import { decodeRecord } from '../src/ledger/record-codec.js';
import { KafkaLedgerFeed } from '../src/projection/kafka-ledger-feed.js';
import { PostgresReadModels } from '../src/projection/postgres-read-models.js';
import { Projector } from '../src/projection/projector.js';
import { ProvenanceQueries } from '../src/provenance/provenance-queries.js';
import { PARTIES, productId, recordWorkload, WORKLOAD_GTIN } from '../test/fixtures/custody-workload.js';
import { MemoryGenesisPins } from '../test/support/memory-ledger.js';
import { benchKafka, closeSettled, createBenchTopic } from './support/kafka.js';
import { machine } from './support/report.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '300' },
    // Time the queries again on the database a run kept (--keep-database), without writing or projecting.
    database: { type: 'string' },
    'keep-database': { type: 'boolean' },
  },
});
const events = Number(values.events);
const queries = Number(values.queries);
const LANES = 50;
const progress = (message: string) => process.stderr.write(`[bench:projection] ${message}\n`);
const percentile = (samples: number[], p: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

type QueryTimes = [string, { p50: number; p99: number }][];

/** Each provenance query `queries` times on random products of the workload. */
async function timeQueries(dataSource: DataSource, rounds: number): Promise<QueryTimes> {
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
  progress(`timing ${queries} of each query`);
  const results: QueryTimes = [
    ['product by id (current state)', await time(() => provenance.product(randomProduct()))],
    ['history, first page of 100', await time(() => provenance.history(randomProduct(), { limit: 100 }))],
    ['history filtered by party', await time(() => provenance.history(randomProduct(), { limit: 100, party: PARTIES.carrier }))],
    [
      'forward trace of a lot, first 100 products',
      await time(() => provenance.forward(WORKLOAD_GTIN, `LOT-${Math.floor(Math.random() * LANES)}`, 100)),
    ],
    ['backward trace (through transformations)', await time(() => provenance.backward(randomProduct()))],
  ];
  return results;
}

const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) throw new Error('DATABASE_URL is not set (npm run bench:projection provides one)');
const table = (results: QueryTimes) => [
  `| query (${queries} each, random products) | p50 ms | p99 ms |`,
  '| --- | ---: | ---: |',
  ...results.map(([name, { p50, p99 }]) => `| ${name} | ${p50.toFixed(2)} | ${p99.toFixed(2)} |`),
];
if (values.database) {
  const url = new URL(serverUrl);
  url.pathname = `/${values.database}`;
  const existing = new DataSource(dataSourceOptions(url.toString()));
  await existing.initialize();
  const [{ n }] = await existing.query<[{ n: number }]>('SELECT count(*)::int AS n FROM custody_events');
  progress(`timing ${queries} of each query on ${values.database} (${n} events)`);
  const results = await timeQueries(existing, Math.ceil(n / 73 / LANES));
  await existing.destroy();
  process.stdout.write(
    [
      `Command: \`npm run bench:projection -- --database ${values.database} --queries ${queries}\``,
      `Machine: ${machine()}; PostgreSQL 18 (embedded); ${n} custody events; ${new Date().toISOString()}`,
      '',
      ...table(results),
      '',
    ].join('\n'),
  );
  process.exit(0);
}
const suffix = randomBytes(4).toString('hex');
const databaseUrl = new URL(serverUrl);
databaseUrl.pathname = `/custodian_bench_${suffix}`;
await prepareDatabase(databaseUrl.toString());
const dataSource = new DataSource(dataSourceOptions(databaseUrl.toString()));
await dataSource.initialize();

const kafka = benchKafka('bench');
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
const projector = new Projector({
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
const [{ n: projected }] = await dataSource.query<[{ n: number }]>('SELECT count(*)::int AS n FROM custody_events');
progress(`projected ${projected} events in ${projectSeconds.toFixed(1)} s`);

const results = await timeQueries(dataSource, Math.ceil(events / 73 / LANES));
const [{ size }] = await dataSource.query<[{ size: string }]>(
  'SELECT pg_size_pretty(pg_database_size(current_database())) AS size',
);
await dataSource.destroy();
if (values['keep-database']) {
  progress(
    `kept the database ${databaseUrl.pathname.slice(1)}: --database ${databaseUrl.pathname.slice(1)} times the queries again`,
  );
} else {
  const server = new DataSource({ ...dataSourceOptions(serverUrl), migrations: [] });
  await server.initialize();
  await server.query(`DROP DATABASE "${databaseUrl.pathname.slice(1)}" WITH (FORCE)`);
  await server.destroy();
}
const admin = kafka.admin();
await admin.connect();
await admin.deleteTopics({ topics: [topic] });
await admin.disconnect();

const rate = (n: number, seconds: number) => Math.round(n / seconds);
process.stdout.write(
  [
    `Command: \`npm run bench:projection -- --events ${events} --queries ${queries}\``,
    `Machine: ${machine()}; Kafka 3.9.1 and PostgreSQL 18 (embedded) on the same machine`,
    `Date: ${new Date().toISOString()}; ${written} custody events written in ${writeSeconds.toFixed(0)} s (${rate(written, writeSeconds)}/s); read models ${size}`,
    '',
    '| what | events | seconds | events/s | ratio to raw insert |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| raw insert of the event rows (one table, 1,000 per statement) | ${rawRows} | ${rawSeconds.toFixed(1)} | ${rate(rawRows, rawSeconds)} | 1.00 |`,
    `| projector (verify, fold, 9 tables and the position per batch) | ${projected} | ${projectSeconds.toFixed(1)} | ${rate(projected, projectSeconds)} | ${(rate(projected, projectSeconds) / rate(rawRows, rawSeconds)).toFixed(2)} |`,
    '',
    ...table(results),
    '',
  ].join('\n'),
);
process.exit(0);

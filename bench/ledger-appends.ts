/**
 * Ledger appends through the writer against the raw Kafka rates beneath it, in one run.
 *
 *   npm run bench:ledger [-- --runs 3 --seconds 5 --callers 1,10,16,100,128]
 *
 * Baselines, same broker, same record size: kafkajs idempotent produce with acks=all in
 * batches of 500, and kafkajs transactional produce with 500 records per transaction. Each
 * figure is the median of the runs; each run uses a fresh topic.
 */
import kafkajs, { type Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createKafkaLedgerWriter } from '../src/ledger/adapters/kafka-ledger-writer.js';
import { WRITER_RETRY } from '../src/ledger/adapters/kafka-partition-log.js';
import { CheckpointSigner } from '../src/ledger/checkpoint-note.js';
import type { AppendRequest } from '../src/ledger/ledger-record.js';
import { encodeRecord } from '../src/ledger/record-codec.js';
import { MemoryGenesisPins } from '../test/support/memory-ledger.js';
import { benchKafka, createBenchTopic } from './support/kafka.js';
import { machine, median, spread } from './support/report.js';

const { Partitioners } = kafkajs;

function request(caller: number, n: number): AppendRequest {
  return {
    eventId: randomUUID(),
    eventType: 'custody.handover',
    entityIds: [`urn:epc:id:sgtin:9506000.134352.${caller}-${n % 50}`],
    occurredAt: '2026-11-26T08:30:00+01:00',
    actor: 'urn:epc:id:pgln:9506000.13435.0',
    payload: {
      from: 'urn:epc:id:pgln:9506000134352.0',
      to: 'urn:epc:id:pgln:9506000134369.0',
      location: '9506000134376',
      evidence: { documentHash: 'a'.repeat(64), url: 'https://example.com/delivery-note/4711.pdf' },
    },
  };
}

/** The bytes one such record takes in the topic, so the baselines send the same size. */
function recordBytes(): number {
  const r = request(1, 1);
  return encodeRecord({
    formatVersion: 1,
    ledgerId: 'bench',
    partition: 0,
    sequence: 123456,
    previousHash: 'f'.repeat(64),
    eventId: r.eventId,
    eventType: r.eventType,
    entities: [{ id: r.entityIds[0]!, previousHash: 'e'.repeat(64) }],
    occurredAt: r.occurredAt,
    recordedAt: new Date().toISOString(),
    actor: r.actor,
    payload: r.payload,
  }).bytes.length;
}

async function topic(kafka: Kafka): Promise<string> {
  const name = `bench.${randomUUID()}`;
  await createBenchTopic(kafka, name);
  return name;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function ledgerRun(kafka: Kafka, callers: number, seconds: number) {
  const name = await topic(kafka);
  const ledgerId = `bench-${randomUUID().slice(0, 8)}`;
  const writer = createKafkaLedgerWriter({
    kafka,
    topic: name,
    ledgerId,
    partitions: 1,
    signer: new CheckpointSigner('custodian/bench', CheckpointSigner.generateSecretKey()),
    pins: new MemoryGenesisPins(),
  });
  await writer.start();
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let n = 0; performance.now() < deadline; n++) {
        const t0 = performance.now();
        await writer.append(request(caller, n));
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const stats = writer.stats();
  await writer.close();
  latencies.sort((a, b) => a - b);
  return {
    rate: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    batch: stats.appends / stats.batches,
  };
}

async function rawRun(kafka: Kafka, transactional: boolean, size: number, seconds: number): Promise<number> {
  const name = await topic(kafka);
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: WRITER_RETRY,
    ...(transactional ? { transactionalId: `bench-raw-${randomUUID()}` } : {}),
  });
  await producer.connect();
  const value = Buffer.alloc(size, 'x');
  const messages = Array.from({ length: 500 }, () => ({ partition: 0, value }));
  let sent = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  while (performance.now() < deadline) {
    if (transactional) {
      const tx = await producer.transaction();
      await tx.send({ topic: name, acks: -1, messages });
      await tx.commit();
    } else {
      await producer.send({ topic: name, acks: -1, messages });
    }
    sent += messages.length;
  }
  const rate = sent / ((performance.now() - started) / 1000);
  await producer.disconnect();
  return rate;
}

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    callers: { type: 'string', default: '1,10,16,100,128' },
  },
});
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const callerCounts = values.callers.split(',').map(Number);
const kafka = benchKafka('custodian-bench');
const size = recordBytes();

const raw = { acks: [] as number[], tx: [] as number[] };
const ledger = new Map<number, { rate: number[]; p50: number[]; p99: number[]; batch: number[] }>();
for (let run = 1; run <= runs; run++) {
  raw.acks.push(await rawRun(kafka, false, size, seconds));
  raw.tx.push(await rawRun(kafka, true, size, seconds));
  process.stderr.write(
    `run ${run}/${runs}: raw acks=all ${Math.round(raw.acks.at(-1)!)}/s, raw transactional ${Math.round(raw.tx.at(-1)!)}/s\n`,
  );
  for (const callers of callerCounts) {
    const result = await ledgerRun(kafka, callers, seconds);
    const entry = ledger.get(callers) ?? { rate: [], p50: [], p99: [], batch: [] };
    entry.rate.push(result.rate);
    entry.p50.push(result.p50);
    entry.p99.push(result.p99);
    entry.batch.push(result.batch);
    ledger.set(callers, entry);
    process.stderr.write(
      `run ${run}/${runs}: ${callers} callers ${Math.round(result.rate)}/s, batch ${result.batch.toFixed(1)}, p99 ${result.p99.toFixed(1)} ms\n`,
    );
  }
}

const txRate = median(raw.tx);
const lines = [
  `Command: \`npm run bench:ledger -- --runs ${runs} --seconds ${seconds} --callers ${callerCounts.join(',')}\``,
  `Machine: ${machine()}; Kafka 3.9.1 (one KRaft node on the same machine)`,
  `Date: ${new Date().toISOString()}; record size ${size} bytes`,
  '',
  '| what | records/s (median) | spread | p50 ms | p99 ms | mean batch | ratio to raw transactional |',
  '| --- | ---: | --- | ---: | ---: | ---: | ---: |',
  `| raw kafkajs produce, acks=all, 500/batch | ${Math.round(median(raw.acks))} | ${spread(raw.acks)} | | | 500 | ${(median(raw.acks) / txRate).toFixed(2)} |`,
  `| raw kafkajs transactional, 500/transaction | ${Math.round(txRate)} | ${spread(raw.tx)} | | | 500 | 1.00 |`,
  ...[...ledger.entries()].map(
    ([callers, e]) =>
      `| ledger appends, ${callers} caller(s) | ${Math.round(median(e.rate))} | ${spread(e.rate)} | ${median(e.p50).toFixed(1)} | ${median(e.p99).toFixed(1)} | ${median(e.batch).toFixed(1)} | ${(median(e.rate) / txRate).toFixed(2)} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);

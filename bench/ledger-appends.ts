/**
 * Ledger appends through the writer against the raw Kafka rates beneath it, in one run
 * (`npm run bench -- --only ledger`).
 */
import kafkajs, { type Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { createKafkaLedgerWriter } from '../src/ledger/adapters/kafka-ledger-writer.js';
import { WRITER_RETRY } from '../src/ledger/adapters/kafka-partition-log.js';
import { CheckpointSigner } from '../src/ledger/checkpoint-note.js';
import type { AppendRequest } from '../src/ledger/ledger-record.js';
import { encodeRecord } from '../src/ledger/record-codec.js';
import { MemoryGenesisPins } from '../test/support/memory-ledger.js';
import { typicalStep } from './cpu.js';
import { createBenchTopic } from './support/kafka.js';
import { type Benchmark, measure, median, ms, percentile, ratio, rateWithSpread } from './support/suite.js';

const { Partitioners } = kafkajs;

function request(caller: number, n: number): AppendRequest {
  return {
    eventId: randomUUID(),
    entityIds: [`/01/09506000134352/21/${caller}-${n % 50}`],
    occurredAt: '2026-11-26T08:30:00+01:00',
    actor: 'acme-dock-1',
    ...typicalStep(),
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

export const ledgerAppends: Benchmark = {
  id: 'ledger',
  title: 'Ledger appends',
  async run({ quick, kafka, progress }) {
    const runs = quick ? 1 : 3;
    const seconds = quick ? 2 : 5;
    const callerCounts = quick ? [1, 16] : [1, 16, 128];
    const size = recordBytes();
    const acks: number[] = [];
    const tx: number[] = [];
    const ledger = new Map<number, { rate: number[]; p50: number[]; p99: number[]; batch: number[] }>();
    for (let run = 1; run <= runs; run++) {
      acks.push(await rawRun(kafka, false, size, seconds));
      tx.push(await rawRun(kafka, true, size, seconds));
      progress(`run ${run}/${runs}: raw acks=all ${Math.round(acks.at(-1)!)}/s, raw transactional ${Math.round(tx.at(-1)!)}/s`);
      for (const callers of callerCounts) {
        const result = await ledgerRun(kafka, callers, seconds);
        const entry = ledger.get(callers) ?? { rate: [], p50: [], p99: [], batch: [] };
        entry.rate.push(result.rate);
        entry.p50.push(result.p50);
        entry.p99.push(result.p99);
        entry.batch.push(result.batch);
        ledger.set(callers, entry);
        progress(`run ${run}/${runs}: ${callers} callers ${Math.round(result.rate)}/s, p99 ${result.p99.toFixed(1)} ms`);
      }
    }
    const rawAcks = measure(acks);
    const rawTx = measure(tx);
    const figures: Record<string, number> = {
      rawProducePerSecond: rawAcks.median,
      rawTransactionalPerSecond: rawTx.median,
      recordBytes: size,
    };
    const rows = [...ledger.entries()].map(([callers, e]) => {
      const rate = measure(e.rate);
      figures[`appends${callers}PerSecond`] = rate.median;
      figures[`appends${callers}P99Ms`] = median(e.p99);
      return [
        `ledger appends, ${callers} caller${callers === 1 ? '' : 's'}`,
        rateWithSpread(rate),
        ms(median(e.p50)),
        ms(median(e.p99)),
        median(e.batch).toFixed(1),
        ratio(rate.median / rawTx.median),
      ];
    });
    return {
      about:
        'Appends through `LedgerWriter` (validation, canonical JSON, SHA-256, Merkle tree, an Ed25519 checkpoint per batch, ' +
        'one Kafka transaction per batch with acks=all), each caller appending back to back and waiting for its receipt, ' +
        'against raw kafkajs produce rates to the same broker with the same record size: idempotent produce with acks=all ' +
        'in batches of 500, and transactional produce with 500 records per transaction. Each run uses fresh topics.',
      setting: `records of ${size} bytes; ${seconds} s per case; median of ${runs} run(s)`,
      tables: [
        {
          head: ['what', 'records/s (spread)', 'p50 ms', 'p99 ms', 'mean batch', 'ratio to raw transactional'],
          align: ['l', 'r', 'r', 'r', 'r', 'r'],
          rows: [
            [
              'raw kafkajs produce, acks=all, 500 per batch',
              rateWithSpread(rawAcks),
              '',
              '',
              '500',
              ratio(rawAcks.median / rawTx.median),
            ],
            ['raw kafkajs transactional, 500 per transaction', rateWithSpread(rawTx), '', '', '500', '1.00'],
            ...rows,
          ],
        },
      ],
      figures,
    };
  },
};

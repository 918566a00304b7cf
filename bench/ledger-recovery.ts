/**
 * How long a writer needs to recover its head from a long partition, against the raw rate of
 * reading the same partition, in one run. Recovery reads and verifies every record (decode,
 * canonical check, SHA-256, Merkle tree, Ed25519 per checkpoint): docs/ledger-format.md §8.
 *
 *   npm run bench:recovery [-- --records 50000]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createKafkaLedgerWriter } from '../src/ledger/adapters/kafka-ledger-writer.js';
import { readPartition } from '../src/ledger/adapters/kafka-partition-reader.js';
import { CheckpointSigner } from '../src/ledger/checkpoint-note.js';
import { MemoryGenesisPins } from '../test/support/memory-ledger.js';
import { benchKafka, closeSettled, createBenchTopic } from './support/kafka.js';
import { machine } from './support/report.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '50000' } } });
const total = Number(values.records);
const kafka = benchKafka('custodian-bench');
const topic = `bench.recovery.${randomUUID()}`;
await createBenchTopic(kafka, topic);
const ledgerId = `bench-${randomUUID().slice(0, 8)}`;
const signer = new CheckpointSigner('custodian/bench', CheckpointSigner.generateSecretKey());
const make = () => createKafkaLedgerWriter({ kafka, topic, ledgerId, partitions: 1, signer, pins: new MemoryGenesisPins() });

const writer = make();
await writer.start();
let written = 0;
await Promise.all(
  Array.from({ length: 128 }, async (_, caller) => {
    while (written < total) {
      written += 1;
      await writer.append({
        eventId: randomUUID(),
        eventType: 'custody.handover',
        entityIds: [`/01/09506000134352/21/${caller}-${written % 100}`],
        occurredAt: '2026-11-26T08:30:00+01:00',
        actor: 'urn:epc:id:pgln:9506000.13435.0',
        payload: {
          from: '9506000134376',
          to: '9506000134383',
          location: '9506000134376',
          evidence: { documentHash: 'a'.repeat(64) },
        },
      });
    }
  }),
);
const { batches } = writer.stats();
await closeSettled(writer, kafka, topic);

let t0 = performance.now();
let raw = 0;
for await (const entry of readPartition(kafka, topic, 0)) raw += entry.value.length > 0 ? 1 : 0;
const rawSeconds = (performance.now() - t0) / 1000;

t0 = performance.now();
const recovered = make();
const [head] = await recovered.start();
const recoverySeconds = (performance.now() - t0) / 1000;
await recovered.close();

const records = head?.nextSequence ?? 0;
process.stdout.write(
  [
    `Command: \`npm run bench:recovery -- --records ${total}\``,
    `Machine: ${machine()}; Kafka 3.9.1 (one KRaft node on the same machine)`,
    `Date: ${new Date().toISOString()}; ${written} appends in ${batches} batches = ${records} records with checkpoints`,
    '',
    '| what | seconds | records/s | ratio to raw read |',
    '| --- | ---: | ---: | ---: |',
    `| raw read of the partition (read_committed) | ${rawSeconds.toFixed(2)} | ${Math.round(raw / rawSeconds)} | 1.00 |`,
    `| writer recovery (fence, read, verify everything) | ${recoverySeconds.toFixed(2)} | ${Math.round(records / recoverySeconds)} | ${(raw / rawSeconds / (records / recoverySeconds)).toFixed(2)}× slower |`,
    '',
  ].join('\n'),
);

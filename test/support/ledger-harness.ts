/** Real ledgers on the test broker: writers, raw topic copies and verification. */
import { ConsoleLogger } from '@nestjs/common';
import kafkajs, { type Kafka } from 'kafkajs';
import { createKafkaLedgerWriter } from '../../src/ledger/adapters/kafka-ledger-writer.js';
import { readPartition } from '../../src/ledger/adapters/kafka-partition-reader.js';
import type { ChainBreak } from '../../src/ledger/chain-verifier.js';
import { ChainBrokenError, readVerifiedPartition } from '../../src/ledger/adapters/kafka-ledger-reader.js';
import { CheckpointSigner, CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import type { StoredRecord } from '../../src/ledger/ledger-record.js';
import { LedgerWriter } from '../../src/ledger/ledger-writer.js';
import type { EntityStateModel } from '../../src/ledger/ledger-record.js';
import type { GenesisPins } from '../../src/ledger/ports.js';
import { createKafkaClient } from '../../src/infrastructure/kafka/kafka-client.js';
import { testKafkaBrokers, uniqueName } from './environment.js';
import { MemoryGenesisPins } from './memory-ledger.js';

const { Partitioners } = kafkajs;

export function testKafka(clientId = 'custodian-test', brokers: readonly string[] = testKafkaBrokers().split(',')): Kafka {
  return createKafkaClient({ brokers, clientId }, new ConsoleLogger({ logLevels: ['error'] }));
}

export async function createTopic(kafka: Kafka, topic: string, partitions = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

export function testSigner(seedByte = 42): CheckpointSigner {
  return new CheckpointSigner('custodian/test', new Uint8Array(32).fill(seedByte));
}

export interface KafkaLedger {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly ledgerId: string;
  readonly signer: CheckpointSigner;
  readonly writer: LedgerWriter;
}

export async function startKafkaLedger(
  options: {
    topic?: string;
    ledgerId?: string;
    signer?: CheckpointSigner;
    pins?: GenesisPins;
    kafka?: Kafka;
    createTopic?: boolean;
    stateModel?: EntityStateModel;
    reclaimDelayMs?: { initial: number; max: number };
  } = {},
): Promise<KafkaLedger> {
  const kafka = options.kafka ?? testKafka();
  const topic = options.topic ?? uniqueName('ledger');
  const ledgerId = options.ledgerId ?? uniqueName('test');
  const signer = options.signer ?? testSigner();
  if (options.createTopic ?? !options.topic) await createTopic(kafka, topic);
  const writer = createKafkaLedgerWriter({
    kafka,
    topic,
    ledgerId,
    partitions: 1,
    signer,
    pins: options.pins ?? new MemoryGenesisPins(),
    stateModel: options.stateModel,
    ...(options.reclaimDelayMs ? { reclaimDelayMs: options.reclaimDelayMs } : {}),
  });
  await writer.start();
  return { kafka, topic, ledgerId, signer, writer };
}

/**
 * Waits until everything the ledger's writer committed is readable. A commit returns once the
 * transaction coordinator logged it; the markers that make the records visible to
 * read_committed readers reach the partition a moment later.
 */
export async function settled(ledger: KafkaLedger): Promise<void> {
  const end = BigInt(ledger.writer.partitionStats()[0]?.committedEnd ?? '0');
  const admin = ledger.kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const offsets = await admin.fetchTopicOffsets(ledger.topic);
      if (BigInt(offsets.find((o) => o.partition === 0)?.offset ?? '0') >= end) return;
      if (Date.now() > deadline) throw new Error(`${ledger.topic} did not become readable up to offset ${end}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await admin.disconnect();
  }
}

export interface Verification {
  readonly problem: ChainBreak | null;
  readonly records: StoredRecord[];
}

/** Reads a topic's partition like an auditor: every record recomputed and checked. */
export async function verifyTopic(
  kafka: Kafka,
  topic: string,
  ledgerId: string,
  signer: CheckpointSigner,
): Promise<Verification> {
  const records: StoredRecord[] = [];
  try {
    const verifier = new CheckpointVerifier(signer.keyName, signer.publicKey);
    for await (const record of readVerifiedPartition(kafka, topic, { ledgerId, partition: 0, verifier })) records.push(record);
    return { problem: null, records };
  } catch (error) {
    if (error instanceof ChainBrokenError) return { problem: error.problem, records };
    throw error;
  }
}

export async function rawValues(kafka: Kafka, topic: string): Promise<Uint8Array[]> {
  const values: Uint8Array[] = [];
  for await (const entry of readPartition(kafka, topic, 0)) values.push(entry.value);
  return values;
}

/** Writes values with a plain, non-transactional producer, as an outsider would. */
export async function produceRaw(kafka: Kafka, topic: string, values: readonly Uint8Array[]): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ partition: 0, value: Buffer.from(value) })) });
  } finally {
    await producer.disconnect();
  }
}

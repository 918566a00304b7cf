import { ConsoleLogger } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { createKafkaClient } from '../../src/infrastructure/kafka/kafka-client.js';
import type { LedgerWriter } from '../../src/ledger/ledger-writer.js';

/** A Kafka client for a benchmark: KAFKA_BROKERS or the local broker, errors logged only. */
export function benchKafka(clientId: string): Kafka {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
  return createKafkaClient({ brokers, clientId }, new ConsoleLogger({ logLevels: ['error'] }));
}

const created = new Set<string>();

/** A fresh one-partition topic for a benchmark's ledger; deleteBenchTopics removes it. */
export async function createBenchTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    created.add(topic);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes every topic the benchmarks created, so repeated runs do not fill the broker's disk. */
export async function deleteBenchTopics(kafka: Kafka): Promise<void> {
  if (created.size === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [...created] });
    created.clear();
  } finally {
    await admin.disconnect();
  }
}

/**
 * Closes the writer and waits until the topic's end offset reaches what it committed: Kafka
 * writes the last commit marker just after it acknowledges the commit, and a reader started
 * earlier would stop short of it. Returns that end offset.
 */
export async function closeSettled(writer: LedgerWriter, kafka: Kafka, topic: string): Promise<bigint> {
  const end = BigInt(writer.partitionStats()[0]?.committedEnd ?? '0');
  await writer.close();
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (;;) {
      const offsets = await admin.fetchTopicOffsets(topic);
      if (BigInt(offsets[0]?.offset ?? '0') >= end) return end;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await admin.disconnect();
  }
}

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConsoleLogger } from '@nestjs/common';
import kafkajs, { type Admin } from 'kafkajs';
import { createKafkaClient } from '../../src/infrastructure/kafka/kafka-client.js';
import { ensureLedgerTopic, LedgerTopicMisconfiguredError } from '../../src/infrastructure/kafka/ledger-topic.js';
import { testKafkaBrokers, uniqueName } from '../support/environment.js';

const { ConfigResourceTypes } = kafkajs;

const spec = { partitions: 1, replicationFactor: 1, maxBatchBytes: 2_000_000 };

describe('ensureLedgerTopic on a real broker', () => {
  let admin: Admin;

  beforeAll(async () => {
    admin = createKafkaClient(
      { brokers: testKafkaBrokers().split(','), clientId: 'custodian-test' },
      new ConsoleLogger(),
    ).admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin.disconnect();
  });

  async function topicConfig(topic: string): Promise<Record<string, string>> {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configNames: ['cleanup.policy', 'retention.ms', 'retention.bytes', 'max.message.bytes'],
        },
      ],
    });
    return Object.fromEntries(described.resources[0]!.configEntries.map((entry) => [entry.configName, entry.configValue]));
  }

  it('creates a missing ledger topic with infinite retention, no compaction and room for a transaction, then accepts it', async () => {
    const topic = uniqueName('ledger');
    expect(await ensureLedgerTopic(admin, { ...spec, topic, partitions: 2 })).toBe(true);
    expect(await topicConfig(topic)).toEqual({
      'cleanup.policy': 'delete',
      'retention.ms': '-1',
      'retention.bytes': '-1',
      'max.message.bytes': '4194304',
    });
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]!.partitions).toHaveLength(2);
    expect(await ensureLedgerTopic(admin, { ...spec, topic, partitions: 2 })).toBe(false);
  });

  it('refuses an existing topic that would refuse a transaction of LEDGER_MAX_BATCH_BYTES', async () => {
    // Created with the broker's default max.message.bytes (1 MiB), as an earlier version did.
    const topic = uniqueName('ledger-small');
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 1,
          configEntries: [
            { name: 'retention.ms', value: '-1' },
            { name: 'retention.bytes', value: '-1' },
          ],
        },
      ],
      waitForLeaders: true,
    });
    await expect(ensureLedgerTopic(admin, { ...spec, topic })).rejects.toThrow(
      /max.message.bytes=1048588: Kafka would refuse a transaction of LEDGER_MAX_BATCH_BYTES=2000000/,
    );
    expect(await ensureLedgerTopic(admin, { ...spec, topic, maxBatchBytes: 1_000_000 })).toBe(false);
  });

  it('refuses an existing topic with finite retention, saying why', async () => {
    const topic = uniqueName('ledger-week');
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '604800000' }] }],
      waitForLeaders: true,
    });
    const attempt = ensureLedgerTopic(admin, { ...spec, topic });
    await expect(attempt).rejects.toBeInstanceOf(LedgerTopicMisconfiguredError);
    await expect(attempt).rejects.toThrow(/retention.ms=604800000: records older than that would be deleted/);
  });

  it('refuses an existing compacted topic', async () => {
    const topic = uniqueName('ledger-compacted');
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'retention.ms', value: '-1' },
          ],
        },
      ],
      waitForLeaders: true,
    });
    await expect(ensureLedgerTopic(admin, { ...spec, topic })).rejects.toThrow(
      /cleanup.policy=compact: compaction deletes superseded records/,
    );
  });
});

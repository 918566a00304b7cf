import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConsoleLogger } from '@nestjs/common';
import { type Admin, type Kafka, Partitioners } from 'kafkajs';
import { createKafkaClient } from '../../src/infrastructure/kafka/kafka-client.js';
import { testKafkaBrokers, uniqueName } from '../support/environment.js';

describe('the local Kafka broker, through kafkajs', () => {
  let kafka: Kafka;
  let admin: Admin;

  beforeAll(async () => {
    kafka = createKafkaClient({ brokers: testKafkaBrokers().split(','), clientId: 'custodian-test' }, new ConsoleLogger());
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin.disconnect();
  });

  it('produces a record with acks=all and consumes the same record back', async () => {
    const topic = uniqueName('roundtrip');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });

    const producer = kafka.producer({
      idempotent: true,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const [ack] = await producer.send({
      topic,
      acks: -1,
      messages: [{ key: 'product-1', value: JSON.stringify({ step: 'commissioned' }), headers: { 'x-test': 'yes' } }],
    });
    await producer.disconnect();
    expect(ack).toMatchObject({ topicName: topic, partition: 0, errorCode: 0, baseOffset: '0' });

    const consumer = kafka.consumer({ groupId: uniqueName('roundtrip-group'), readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received = await new Promise<{ key: string; value: string; header: string; offset: string }>((resolve) => {
      void consumer.run({
        eachMessage: ({ message }) => {
          resolve({
            key: String(message.key),
            value: String(message.value),
            header: String(message.headers?.['x-test']),
            offset: message.offset,
          });
          return Promise.resolve();
        },
      });
    });
    await consumer.disconnect();

    expect(received).toEqual({ key: 'product-1', value: '{"step":"commissioned"}', header: 'yes', offset: '0' });
  });

  it('commits a transaction that a read_committed consumer then sees', async () => {
    const topic = uniqueName('transactional');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    const producer = kafka.producer({
      transactionalId: uniqueName('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const transaction = await producer.transaction();
    await transaction.send({ topic, acks: -1, messages: [{ value: 'a' }, { value: 'b' }] });
    await transaction.commit();
    await producer.disconnect();

    const offsets = await admin.fetchTopicOffsets(topic);
    // Two records plus the transaction's commit marker.
    expect(offsets[0]).toMatchObject({ partition: 0, high: '3' });
  });
});

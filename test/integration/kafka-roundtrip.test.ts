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

  it('shows a read_committed consumer the committed transaction and never the aborted one', async () => {
    const topic = uniqueName('transactional');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    const producer = kafka.producer({
      transactionalId: uniqueName('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send({ topic, acks: -1, messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send({ topic, acks: -1, messages: [{ value: 'committed-1' }, { value: 'committed-2' }] });
    await committed.commit();
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('tx-group'), readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const seen: { value: string; offset: string }[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: ({ message }) => {
          seen.push({ value: String(message.value), offset: message.offset });
          if (seen.length === 2) resolve();
          return Promise.resolve();
        },
      });
    });
    await consumer.disconnect();

    // Offsets 0-1 hold the aborted records and 2 its abort marker; the commit follows.
    expect(seen).toEqual([
      { value: 'committed-1', offset: '3' },
      { value: 'committed-2', offset: '4' },
    ]);
  });
});

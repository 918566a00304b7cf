// Exits 0 when the broker at argv[2] really serves: the readiness topic exists (created if
// missing) and a record is written to it with acks=all. Used by scripts/kafka.sh.
import kafkajs from 'kafkajs';

const { Kafka, logLevel, Partitioners } = kafkajs;
const broker = process.argv[2];
const kafka = new Kafka({
  clientId: 'custodian-kafka-ready',
  brokers: [broker],
  logLevel: logLevel.NOTHING,
  connectionTimeout: 1000,
  requestTimeout: 5000,
  retry: { retries: 0 },
});
const topic = 'custodian.readiness';
const admin = kafka.admin();
const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
try {
  await admin.connect();
  const topics = await admin.listTopics();
  if (!topics.includes(topic)) {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  }
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ value: `ready ${new Date().toISOString()}` }] });
  process.exitCode = 0;
} catch {
  process.exitCode = 1;
} finally {
  await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
}

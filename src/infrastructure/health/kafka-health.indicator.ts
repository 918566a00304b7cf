import { Inject, Injectable, Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Kafka } from 'kafkajs';
import type { CustodianConfig } from '../config/config.js';
import { CONFIG } from '../config/config.module.js';
import { createKafkaClient, KafkaLogLevel } from '../kafka/kafka-client.js';

/**
 * Kafka is ready when a broker answers a metadata request and the ledger topic has a leader
 * for every partition. Uses its own client without retries, so an outage is reported within
 * the health timeout instead of after kafkajs's retry schedule.
 */
@Injectable()
export class KafkaHealthIndicator {
  private readonly probe: Kafka;

  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {
    this.probe = createKafkaClient(
      { brokers: config.kafka.brokers, clientId: `${config.kafka.clientId}-health` },
      new Logger('KafkaHealth'),
      {
        connectionTimeout: Math.min(1000, config.health.timeoutMs),
        requestTimeout: config.health.timeoutMs,
        retry: { retries: 0 },
        // An outage is reported by the readiness answer; a log line per probe would be noise.
        logLevel: KafkaLogLevel.NOTHING,
      },
    );
  }

  check(key = 'kafka') {
    const { topic } = this.config.ledger;
    return this.indicators
      .check(key)
      .attempt(async () => {
        const admin = this.probe.admin();
        try {
          await admin.connect();
          const cluster = await admin.describeCluster();
          const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
          const partitions = metadata.topics[0]?.partitions ?? [];
          const leaderless = partitions.filter((partition) => partition.leader < 0).map((p) => p.partitionId);
          if (leaderless.length > 0) {
            throw new Error(`ledger topic ${topic} has no leader for partition(s) ${leaderless.join(', ')}`);
          }
          return { brokers: cluster.brokers.length, ledgerTopic: topic, partitions: partitions.length };
        } finally {
          await admin.disconnect();
        }
      })
      .withTimeout(this.config.health.timeoutMs);
  }
}

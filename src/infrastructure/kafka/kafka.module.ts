import { Global, Inject, Logger, Module, type OnModuleInit } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { CustodianConfig } from '../config/config.js';
import { CONFIG } from '../config/config.module.js';
import { createKafkaClient } from './kafka-client.js';
import { ensureLedgerTopic } from './ledger-topic.js';

/** Injection token of the shared kafkajs client. */
export const KAFKA = Symbol('Kafka');

/** Makes sure, before the application serves, that the ledger topic exists and is safe. */
class LedgerTopicProvisioner implements OnModuleInit {
  private readonly logger = new Logger('LedgerTopic');

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const created = await ensureLedgerTopic(admin, this.config.ledger);
      this.logger.log(
        `${created ? 'created' : 'checked'} ledger topic ${this.config.ledger.topic} (${this.config.ledger.partitions} partition(s), infinite retention, no compaction)`,
      );
    } finally {
      await admin.disconnect();
    }
  }
}

@Global()
@Module({
  providers: [
    {
      provide: KAFKA,
      inject: [CONFIG],
      useFactory: (config: CustodianConfig) => createKafkaClient(config.kafka, new Logger('Kafka')),
    },
    LedgerTopicProvisioner,
  ],
  exports: [KAFKA],
})
export class KafkaModule {}

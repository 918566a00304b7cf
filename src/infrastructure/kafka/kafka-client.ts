import type { LoggerService } from '@nestjs/common';
import kafkajs, { type Kafka, type KafkaConfig, type logCreator } from 'kafkajs';

const { Kafka: KafkaClient, logLevel } = kafkajs;

export { logLevel as KafkaLogLevel };

const CONCURRENT_TRANSACTIONS = 'concurrent operation on the same transaction';

/** Routes kafkajs's log lines into the application's structured logger. */
export function kafkaLogCreator(logger: LoggerService): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      const line = { message: `kafkajs: ${message}`, ...extra };
      // Routine for a transactional producer right after a commit, and retried by kafkajs
      // (see WRITER_RETRY in src/ledger/adapters/kafka-partition-log.ts): not an error.
      const routine = [log.error, message].some((text) => typeof text === 'string' && text.includes(CONCURRENT_TRANSACTIONS));
      if (routine) logger.debug?.(line);
      else if (level === logLevel.ERROR) logger.error(line);
      else if (level === logLevel.WARN) logger.warn(line);
      else if (level === logLevel.INFO) logger.log(line);
      else logger.debug?.(line);
    };
}

export function createKafkaClient(
  options: { brokers: readonly string[]; clientId: string },
  logger: LoggerService,
  overrides: Partial<KafkaConfig> = {},
): Kafka {
  return new KafkaClient({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logger),
    ...overrides,
  });
}

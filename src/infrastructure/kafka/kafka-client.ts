import type { LoggerService } from '@nestjs/common';
import kafkajs, { type Kafka, type KafkaConfig, type logCreator } from 'kafkajs';

const { Kafka: KafkaClient, logLevel } = kafkajs;

export { logLevel as KafkaLogLevel };

/** Routes kafkajs's log lines into the application's structured logger. */
export function kafkaLogCreator(logger: LoggerService): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      const line = { message: `kafkajs: ${message}`, ...extra };
      if (level === logLevel.ERROR) logger.error(line);
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

import type { LoggerService } from '@nestjs/common';
import kafkajs, { type Kafka, type KafkaConfig, type logCreator } from 'kafkajs';

const { Kafka: KafkaClient, logLevel } = kafkajs;

export { logLevel as KafkaLogLevel };

/**
 * Broker answers kafkajs logs at error level although it handles them itself, by a retry or by
 * rejoining the group: routine while a coordinator loads or moves, a group rebalances or a topic
 * was just created, so they are debug lines. When the retries run out, the caller gets the error
 * and reports it (and kafkajs logs a crash, which stays an error). By kafkajs's text of each
 * (src/protocol/error.js), which its log lines carry in `error` ("Response <API>" lines, a
 * rejoin), or as their message (a producer's retry of a send).
 */
const ROUTINE_RETRIES: readonly string[] = [
  // CONCURRENT_TRANSACTIONS: a transactional producer right after a commit, or at its
  // InitProducerId while the coordinator ends an earlier transaction (see WRITER_RETRY in
  // src/ledger/adapters/kafka-partition-log.ts).
  'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
  // GROUP_LOAD_IN_PROGRESS, GROUP_COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR_FOR_GROUP: a group or
  // transaction coordinator that is loading or moved (kafkajs names these codes after groups).
  "The coordinator is loading and hence can't process requests for this group",
  'The group coordinator is not available',
  'This is not the correct coordinator for this group',
  // UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS: the consumer rejoins its group.
  'The coordinator is not aware of this member',
  'The group is rebalancing, so a rejoin is needed',
  // LEADER_NOT_AVAILABLE, NOT_LEADER_FOR_PARTITION, UNKNOWN_TOPIC_OR_PARTITION: a topic just
  // created or a leader being elected; kafkajs refreshes its metadata and retries.
  'There is no leader for this topic-partition as we are in the middle of a leadership election',
  'This server is not the leader for that topic-partition',
  'This server does not host this topic-partition',
];

/** A producer's retry of a send is logged as the error's text, or as this and the text. */
const SEND_RETRY = 'Failed to send messages: ';

/** Whether a kafkajs log line is about one of the ROUTINE_RETRIES. */
export function isRoutineRetry(log: { message: string; error?: unknown }): boolean {
  const error = typeof log.error === 'string' ? log.error : '';
  const message = log.message.startsWith(SEND_RETRY) ? log.message.slice(SEND_RETRY.length) : log.message;
  return ROUTINE_RETRIES.some((known) => error.startsWith(known) || message.startsWith(known));
}

/** Routes kafkajs's log lines into the application's structured logger. */
export function kafkaLogCreator(logger: LoggerService): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      const line = { message: `kafkajs: ${message}`, ...extra };
      if (isRoutineRetry(log)) logger.debug?.(line);
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

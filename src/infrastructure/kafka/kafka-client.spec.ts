import { describe, expect, it } from '@jest/globals';
import type { LoggerService } from '@nestjs/common';
import { logLevel } from 'kafkajs';
import { createRequire } from 'node:module';
import { kafkaLogCreator } from './kafka-client.js';

// kafkajs's own error for a protocol error code, with the text its log lines carry.
const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as {
  createErrorFromCode: (code: number) => Error;
};

/** The level each kafkajs line ends up at in the application's log. */
function levelsOf(lines: { level: logLevel; message: string; error?: string }[]): string[] {
  const seen: string[] = [];
  const logger: LoggerService = {
    log: () => seen.push('log'),
    error: () => seen.push('error'),
    warn: () => seen.push('warn'),
    debug: () => seen.push('debug'),
  };
  const log = kafkaLogCreator(logger)(logLevel.DEBUG);
  for (const { level, ...line } of lines)
    log({ namespace: 'Connection', level, label: 'ERROR', log: { timestamp: '', logger: 'kafkajs', ...line } });
  return seen;
}

/** A broker's error answer as kafkajs's connection logs it. */
const response = (api: string, code: number) => ({
  level: logLevel.ERROR,
  message: `Response ${api}(key: 0, version: 1)`,
  error: createErrorFromCode(code).message,
});

describe('kafkaLogCreator', () => {
  it('logs the broker answers kafkajs retries or rejoins on as debug lines', () => {
    const routine = [
      response('InitProducerId', 51), // CONCURRENT_TRANSACTIONS
      response('InitProducerId', 14), // GROUP_LOAD_IN_PROGRESS (a transaction coordinator loading)
      response('FindCoordinator', 15), // GROUP_COORDINATOR_NOT_AVAILABLE
      response('AddPartitionsToTxn', 16), // NOT_COORDINATOR_FOR_GROUP
      response('Heartbeat', 25), // UNKNOWN_MEMBER_ID
      response('SyncGroup', 27), // REBALANCE_IN_PROGRESS
      response('Metadata', 5), // LEADER_NOT_AVAILABLE
      response('Produce', 6), // NOT_LEADER_FOR_PARTITION
      response('ListOffsets', 3), // UNKNOWN_TOPIC_OR_PARTITION
      {
        level: logLevel.ERROR,
        message: 'The coordinator is not aware of this member, re-joining the group',
        error: createErrorFromCode(25).message,
      },
      { level: logLevel.WARN, message: 'The group is rebalancing, re-joining', error: createErrorFromCode(27).message },
      // A send retried after a routine answer: the error's text is the line.
      { level: logLevel.ERROR, message: createErrorFromCode(51).message },
      { level: logLevel.ERROR, message: `Failed to send messages: ${createErrorFromCode(51).message}` },
    ];
    expect(levelsOf(routine)).toEqual(routine.map(() => 'debug'));
  });

  it('keeps every other error an error, and other lines at their level', () => {
    expect(
      levelsOf([
        response('Produce', 29), // TOPIC_AUTHORIZATION_FAILED
        response('Produce', 10), // MESSAGE_TOO_LARGE
        { level: logLevel.ERROR, message: `Failed to send messages: ${createErrorFromCode(10).message}` },
        { level: logLevel.ERROR, message: `Crash: KafkaJSProtocolError: ${createErrorFromCode(25).message}` },
        { level: logLevel.ERROR, message: 'Restarting the consumer in 300ms' },
        { level: logLevel.ERROR, message: 'Failed to connect to broker, reconnecting' },
        { level: logLevel.WARN, message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees' },
        { level: logLevel.INFO, message: 'Starting' },
      ]),
    ).toEqual(['error', 'error', 'error', 'error', 'error', 'error', 'warn', 'log']);
  });
});

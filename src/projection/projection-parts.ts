import type { LoggerService } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import type { CheckpointSigner } from '../ledger/checkpoint-note.js';
import { genesisPinOf, ledgerKeyOf } from '../ledger-module/ledger-parts.js';
import { RecordDecodePool } from '../ledger/adapters/record-decode-pool.js';
import { KafkaLedgerFeed } from '../ledger/adapters/kafka-ledger-feed.js';
import { PostgresReadModels } from './postgres-read-models.js';
import { Projector } from './projector.js';

/**
 * The projection's parts, built from the configuration: a projector of the configured ledger into
 * the configured database, for the Nest module and for the projector's own process (tools/projector.ts).
 */
export function createProjector(
  config: CustodianConfig,
  dependencies: {
    dataSource: DataSource;
    kafka: Kafka;
    signer: CheckpointSigner;
    /** The projection's logger, its context set (a Nest Logger of context 'Projection'). */
    logger: LoggerService;
  },
): Projector {
  const { dataSource, kafka, signer, logger } = dependencies;
  return new Projector({
    ledgerId: config.ledger.id,
    partitions: config.ledger.partitions,
    verifier: ledgerKeyOf(signer),
    genesisOf: genesisPinOf(config, dataSource),
    store: new PostgresReadModels(dataSource, config.ledger.id),
    feed: new KafkaLedgerFeed(kafka, config.ledger.topic, `custodian-projector-${config.ledger.id}`),
    ...readerOf(config),
    onQuarantine: (problem) => {
      logger.error(
        `partition ${problem.partition} does not verify at offset ${problem.offset} (${problem.kind}: ${problem.message}); ` +
          'the record is in quarantine and the partition is no longer projected',
      );
    },
    onFailure: (error) => {
      logger.error(
        `the projection lost the ledger feed, starting it again shortly: ${error instanceof Error ? error.message : String(error)}`,
      );
    },
    onRetry: (partition, error) => {
      logger.warn(
        `partition ${partition}: a batch could not be written, retrying (${error instanceof Error ? error.message : String(error)})`,
      );
    },
  });
}

/** The projector's record decoding threads (READER_THREADS), or none. */
function readerOf(config: CustodianConfig): { reader?: RecordDecodePool } {
  const threads = config.verification.readerThreads;
  return threads > 0 ? { reader: RecordDecodePool.start(threads) } : {};
}

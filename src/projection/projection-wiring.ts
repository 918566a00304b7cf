import type { LoggerService } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { PostgresGenesisPins } from '../ledger/adapters/postgres-genesis-pins.js';
import { type CheckpointSigner, CheckpointVerifier } from '../ledger/checkpoint-note.js';
import { KafkaLedgerFeed } from './kafka-ledger-feed.js';
import { PostgresReadModels } from './postgres-read-models.js';
import { Projector } from './projector.js';

/** A projector of the configured ledger into the configured database, in this process or its own. */
export function createProjector(
  config: CustodianConfig,
  dependencies: { dataSource: DataSource; kafka: Kafka; signer: CheckpointSigner; logger: LoggerService },
): Projector {
  const { dataSource, kafka, signer, logger } = dependencies;
  const pins = new PostgresGenesisPins(dataSource);
  return new Projector({
    ledgerId: config.ledger.id,
    partitions: config.ledger.partitions,
    verifier: new CheckpointVerifier(signer.keyName, signer.publicKey),
    genesisOf: (partition) => pins.get(config.ledger.id, partition),
    store: new PostgresReadModels(dataSource, config.ledger.id),
    feed: new KafkaLedgerFeed(kafka, config.ledger.topic, `custodian-projector-${config.ledger.id}`),
    onQuarantine: (problem) => {
      logger.error(
        `partition ${problem.partition} does not verify at offset ${problem.offset} (${problem.kind}: ${problem.message}); ` +
          'the record is in quarantine and the partition is no longer projected',
        undefined,
        'Projection',
      );
    },
    onFailure: (error) => {
      logger.error(
        `the projection lost the ledger feed, starting it again shortly: ${error instanceof Error ? error.message : String(error)}`,
        undefined,
        'Projection',
      );
    },
    onRetry: (partition, error) => {
      logger.warn(
        `partition ${partition}: a batch could not be written, retrying (${error instanceof Error ? error.message : String(error)})`,
        'Projection',
      );
    },
  });
}

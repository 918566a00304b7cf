import { Logger } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { createKafkaLedgerWriter } from '../ledger/adapters/kafka-ledger-writer.js';
import { PostgresGenesisPins } from '../ledger/adapters/postgres-genesis-pins.js';
import { PostgresSnapshotStore } from '../ledger/adapters/postgres-snapshots.js';
import { loadSigningKey } from '../ledger/adapters/signing-key-file.js';
import { CheckpointSigner, CheckpointVerifier } from '../ledger/checkpoint-note.js';
import type { Hash } from '../ledger/hashing.js';
import type { EntityStateModel } from '../ledger/ledger-record.js';
import type { LedgerWriter } from '../ledger/ledger-writer.js';
import type { SnapshotEvent } from '../ledger/partition-recovery.js';
import type { WriterStatus } from '../ledger/partition-writer.js';

/**
 * The ledger's parts, built from the configuration: what the Nest module provides and what the
 * command-line tools use, so that both build them the same way.
 */

/** The file the ledger's checkpoint key lives in when it is not configured. */
export function signingKeyFile(config: CustodianConfig): string {
  return join(config.dataDir, 'keys', `ledger-${config.ledger.id}.ed25519`);
}

/** The checkpoint signer of the configured ledger (LEDGER_SIGNING_KEY, or the key file). */
export async function ledgerSigner(config: CustodianConfig): Promise<{ signer: CheckpointSigner; source: string }> {
  const { seed, source } = await loadSigningKey({ configured: config.ledger.signingKey, file: signingKeyFile(config) });
  return { signer: new CheckpointSigner(`custodian/${config.ledger.id}`, seed), source };
}

/** The key that verifies the ledger's checkpoints: the public half of its signer. */
export function ledgerKeyOf(signer: CheckpointSigner): CheckpointVerifier {
  return new CheckpointVerifier(signer.keyName, signer.publicKey);
}

/** The genesis hash of a partition: the operator's (LEDGER_GENESIS), else the one pinned in PostgreSQL. */
export function genesisPinOf(config: CustodianConfig, dataSource: DataSource): (partition: number) => Promise<Hash | null> {
  const pins = new PostgresGenesisPins(dataSource);
  return async (partition) => config.ledger.genesis.get(partition) ?? (await pins.get(config.ledger.id, partition));
}

/** Logs each change of a partition writer's state once: what happened, and what it means. */
function logWriterStatus(status: WriterStatus): void {
  const logger = new Logger('Ledger');
  const where = `partition ${status.partition}`;
  switch (status.state) {
    case 'failed':
      logger.error(`${where}: the writer refuses to extend the chain: ${String(status.reason)} (docs/RELIABILITY.md)`);
      break;
    case 'fenced':
      logger.warn(`${where}: ${String(status.reason)}; it takes the partition back once the other writer is idle`);
      break;
    case 'unavailable':
      logger.warn(`${where}: ${String(status.reason)}`);
      break;
    case 'open':
      logger.log(`${where}: the writer takes appends`);
      break;
    default:
      break;
  }
}

/** The writers of every partition of the configured ledger, in Kafka, fenced, with their genesis pins in PostgreSQL. */
export function createLedgerWriter(
  config: CustodianConfig,
  dependencies: { kafka: Kafka; signer: CheckpointSigner; dataSource: DataSource; stateModel: EntityStateModel },
): LedgerWriter {
  return createKafkaLedgerWriter({
    kafka: dependencies.kafka,
    topic: config.ledger.topic,
    ledgerId: config.ledger.id,
    partitions: config.ledger.partitions,
    signer: dependencies.signer,
    pins: new PostgresGenesisPins(dependencies.dataSource),
    maxBatch: config.ledger.maxBatch,
    maxBatchBytes: config.ledger.maxBatchBytes,
    maxPayloadBytes: config.ledger.maxPayloadBytes,
    configuredGenesis: config.ledger.genesis,
    stateModel: dependencies.stateModel,
    reclaimDelayMs: config.ledger.reclaimDelayMs,
    // With several instances Kafka's group says who writes a partition; a fenced writer waits to be released.
    reclaimWhenFenced: !config.cluster.enabled,
    onStatus: logWriterStatus,
    snapshots: new PostgresSnapshotStore(dependencies.dataSource, config.ledger.id),
    snapshotRecords: config.ledger.snapshotRecords,
    snapshotIntervalMs: config.ledger.snapshotIntervalMs,
    stateCacheEntries: config.ledger.stateCacheEntries,
    onSnapshot: logSnapshot,
  });
}

/** Logs what became of the snapshot a writer started from (docs/RELIABILITY.md), and a snapshot that could not be written. */
function logSnapshot(event: SnapshotEvent): void {
  const logger = new Logger('Ledger');
  const where = `partition ${event.partition}`;
  switch (event.kind) {
    case 'resumed':
      logger.log(`${where}: resumed from the snapshot at tree size ${event.treeSize}, ${event.tail} records verified after it`);
      break;
    case 'refused':
      logger.warn(`${where}: snapshot not used, the whole partition is read and verified: ${event.reason}`);
      break;
    case 'failed':
      logger.warn(`${where}: a snapshot could not be written (${event.reason}); the next one takes its records`);
      break;
    case 'adopted':
      logger.warn(
        `${where}: goes on from the snapshot at tree size ${event.treeSize}, stored by a writer that lost the partition (its key signed it, its checkpoint is in this writer's chain)`,
      );
      break;
    case 'taken':
      break;
  }
}

/** The configured signer, logged with where its key came from. */
export async function loggedLedgerSigner(config: CustodianConfig): Promise<CheckpointSigner> {
  const { signer, source } = await ledgerSigner(config);
  new Logger('Ledger').log(`checkpoint key ${signer.verifierKey} from ${source}`);
  return signer;
}

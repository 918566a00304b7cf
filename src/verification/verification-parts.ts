import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { KafkaLedgerFeed } from '../ledger/adapters/kafka-ledger-feed.js';
import { RecordDecodePool } from '../ledger/adapters/record-decode-pool.js';
import { PostgresSnapshotStore } from '../ledger/adapters/postgres-snapshots.js';
import { partitionOffsetsOf, readPartition } from '../ledger/adapters/kafka-partition-reader.js';
import { loadSigningKey } from '../ledger/adapters/signing-key-file.js';
import { CheckpointSigner, type CheckpointVerifier } from '../ledger/checkpoint-note.js';
import { systemClock } from '../ledger/ports.js';
import { genesisPinOf } from '../ledger-module/ledger-parts.js';
import { LedgerAudit } from './ledger-audit.js';
import { LedgerFollower, type LedgerFollowerOptions } from './ledger-follower.js';
import type { LedgerSource } from './partition-scan.js';
import { ProductVerifier } from './product-verifier.js';
import { ReadModelSource } from './read-model-check.js';
import { ReadModelReplay } from './read-model-replay.js';
import { DirectoryWitness, HttpWitness, type Witness } from './witness.js';

/**
 * The verifier's parts, built from the configuration: what the Nest module provides and what the
 * command-line tools (audit, witness) use, so that both build them the same way.
 */

/** The file the attestation key lives in when it is not configured. */
export function attestationKeyFile(config: CustodianConfig): string {
  return join(config.dataDir, 'keys', `verifier-${config.ledger.id}.ed25519`);
}

/** The attestation key: VERIFIER_SIGNING_KEY, or a key file generated on first start. */
export async function attestationSigner(config: CustodianConfig): Promise<{ signer: CheckpointSigner; source: string }> {
  const { seed, source } = await loadSigningKey({
    configured: config.verification.signingKey,
    variable: 'VERIFIER_SIGNING_KEY',
    file: attestationKeyFile(config),
  });
  return { signer: new CheckpointSigner(`custodian-verifier/${config.ledger.id}`, seed), source };
}

/** The ledger as the verifier reads it: the topic, the checkpoint key, the genesis pins. */
export function ledgerSource(
  config: CustodianConfig,
  kafka: Kafka,
  ledgerKey: CheckpointVerifier,
  dataSource: DataSource,
): LedgerSource {
  return {
    read: (partition) => readPartition(kafka, config.ledger.topic, partition),
    ledgerId: config.ledger.id,
    partitions: config.ledger.partitions,
    ledgerKey,
    genesisPin: genesisPinOf(config, dataSource),
  };
}

/** The configured witness: WITNESS_DIR, else WITNESS_URL, else none. */
export function configuredWitness(config: CustodianConfig, ledgerKey: CheckpointVerifier): Witness | null {
  const { witnessDir, witnessUrl } = config.verification;
  if (witnessDir) return new DirectoryWitness(witnessDir, config.ledger.id, ledgerKey);
  if (witnessUrl) return new HttpWitness(witnessUrl, config.ledger.id);
  return null;
}

/** A follower of a ledger topic: its own consumer group, and the end offsets from an admin client. */
export function kafkaLedgerFollower(
  kafka: Kafka,
  topic: string,
  source: LedgerSource,
  options: Pick<LedgerFollowerOptions, 'spillDir' | 'catchUpWaitMs' | 'onError' | 'snapshots' | 'onSnapshot' | 'reader'>,
): LedgerFollower {
  const admin = kafka.admin();
  let connected: Promise<void> | null = null;
  return new LedgerFollower({
    ...options,
    source,
    feed: new KafkaLedgerFeed(kafka, topic, `custodian-verifier-${source.ledgerId}`),
    readFrom: (partition, offset) => readPartition(kafka, topic, partition, { fromOffset: offset }),
    offsets: async (partition) => {
      connected ??= admin.connect().catch((error: unknown) => {
        connected = null;
        throw error;
      });
      await connected;
      return partitionOffsetsOf(admin, topic, partition);
    },
    onStop: async () => {
      if (connected) await admin.disconnect().catch(() => undefined);
    },
  });
}

/**
 * The verified view of the ledger that attestations read (VERIFIER_FOLLOW), followed from the
 * application's start to its shutdown; null when it is switched off.
 */
export function ledgerFollower(
  config: CustodianConfig,
  kafka: Kafka,
  source: LedgerSource,
  dataSource: DataSource,
): LedgerFollower | null {
  if (!config.verification.follow) return null;
  const logger = new Logger('Verification');
  return kafkaLedgerFollower(kafka, config.ledger.topic, source, {
    spillDir: join(config.dataDir, 'cache'),
    snapshots: new PostgresSnapshotStore(dataSource, config.ledger.id),
    onSnapshot: (event) => {
      if (event.kind === 'resumed')
        logger.log(`partition ${event.partition}: following from the writer snapshot at tree size ${event.treeSize}`);
      else logger.warn(`partition ${event.partition}: writer snapshot refused, following from offset 0: ${event.reason}`);
    },
    catchUpWaitMs: config.verification.followWaitMs,
    onError: (error) => {
      logger.warn(`following the ledger failed, retrying: ${error.message}`);
    },
    ...(config.verification.readerThreads > 0 ? { reader: RecordDecodePool.start(config.verification.readerThreads) } : {}),
  });
}

/** The attestation verifier of the configured ledger, with the read models and the follower given. */
export function createProductVerifier(
  config: CustodianConfig,
  parts: {
    source: LedgerSource;
    signer: CheckpointSigner;
    witness: Witness | null;
    dataSource: DataSource;
    follower: LedgerFollower | null;
  },
): ProductVerifier {
  return new ProductVerifier({
    source: parts.source,
    signer: parts.signer,
    witness: parts.witness,
    readModel: new ReadModelSource(parts.dataSource, config.ledger.id),
    clock: systemClock,
    readModelWaitMs: config.projection.readWaitMs,
    maxConcurrent: config.verification.maxConcurrent,
    follower: parts.follower,
  });
}

/** A full audit of the configured ledger, with the read models unless `readModels` is false. */
export function createLedgerAudit(
  parts: { source: LedgerSource; witness: Witness | null; dataSource: DataSource; threads: number },
  readModels = true,
): LedgerAudit {
  const { source, witness, dataSource, threads } = parts;
  return new LedgerAudit({
    source,
    witness,
    readModel: readModels ? () => ReadModelReplay.begin(dataSource, source.ledgerId, source.partitions) : null,
    clock: systemClock,
    threads,
  });
}

import { join } from 'node:path';
import { Inject, Injectable, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { KAFKA } from '../infrastructure/kafka/kafka.module.js';
import { readPartition } from '../ledger/adapters/kafka-partition-reader.js';
import { PostgresGenesisPins } from '../ledger/adapters/postgres-genesis-pins.js';
import { loadSigningKey } from '../ledger/adapters/signing-key-file.js';
import { CheckpointSigner, CheckpointVerifier } from '../ledger/checkpoint-note.js';
import { LedgerWriter } from '../ledger/ledger-writer.js';
import { systemClock } from '../ledger/ports.js';
import { KafkaLedgerFeed } from '../projection/kafka-ledger-feed.js';
import { AuditJobs } from './audit-jobs.js';
import { LedgerAudit } from './ledger-audit.js';
import { LedgerFollower, type LedgerFollowerOptions } from './ledger-follower.js';
import type { LedgerSource } from './partition-scan.js';
import { ProductVerifier } from './product-verifier.js';
import { ReadModelSource } from './read-model-check.js';
import { ReadModelReplay } from './read-model-replay.js';
import { VerificationController } from './verification.controller.js';
import { ATTESTATION_SIGNER, LEDGER_FOLLOWER, LEDGER_SOURCE, WITNESS } from './verification.tokens.js';
import { DirectoryWitness, HttpWitness, type Witness, WitnessRefusedError } from './witness.js';

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
  const pins = new PostgresGenesisPins(dataSource);
  return {
    read: (partition) => readPartition(kafka, config.ledger.topic, partition),
    ledgerId: config.ledger.id,
    partitions: config.ledger.partitions,
    ledgerKey,
    genesisPin: async (partition) => config.ledger.genesis.get(partition) ?? (await pins.get(config.ledger.id, partition)),
  };
}

/** The configured witness: WITNESS_DIR, else WITNESS_URL, else none. */
export function configuredWitness(config: CustodianConfig, ledgerKey: CheckpointVerifier): Witness | null {
  const { witnessDir, witnessUrl } = config.verification;
  if (witnessDir) return new DirectoryWitness(witnessDir, config.ledger.id, ledgerKey);
  if (witnessUrl) return new HttpWitness(witnessUrl, config.ledger.id);
  return null;
}

/**
 * Publishes each partition's latest checkpoint to the witness every WITNESS_INTERVAL_MS, and
 * once more on shutdown. A refusal means the witness saw a larger or another tree than this
 * writer's: the ledger was truncated or forked, which is logged as an error.
 */
@Injectable()
export class WitnessPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Witness');
  private readonly published = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    @Inject(WITNESS) private readonly witness: Witness | null,
    private readonly writer: LedgerWriter,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.witness) return;
    this.logger.log(`publishing checkpoints to the witness: ${this.witness.description}`);
    this.timer = setInterval(() => void this.publish(), this.config.verification.witnessIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.publish();
  }

  /** Publishes what is new; never throws (the next round tries again). */
  publish(): Promise<void> {
    this.running = this.running.then(() => this.publishNow());
    return this.running;
  }

  private async publishNow(): Promise<void> {
    if (!this.witness) return;
    for (const [partition, head] of this.writer.heads().entries()) {
      const checkpoint = head?.lastCheckpoint;
      if (!checkpoint || checkpoint.treeSize <= (this.published.get(partition) ?? -1)) continue;
      try {
        await this.witness.publish(partition, checkpoint);
        this.published.set(partition, checkpoint.treeSize);
      } catch (error) {
        const message = `partition ${partition}: the witness did not take the checkpoint of tree size ${checkpoint.treeSize}: ${(error as Error).message}`;
        if (error instanceof WitnessRefusedError) this.logger.error(message);
        else this.logger.warn(message);
      }
    }
  }
}

/** A follower of a ledger topic: its own consumer group, and the end offsets from an admin client. */
export function kafkaLedgerFollower(
  kafka: Kafka,
  topic: string,
  source: LedgerSource,
  options: Pick<LedgerFollowerOptions, 'spillDir' | 'catchUpWaitMs' | 'onError'>,
): LedgerFollower {
  const admin = kafka.admin();
  let connected: Promise<void> | null = null;
  return new LedgerFollower({
    ...options,
    source,
    feed: new KafkaLedgerFeed(kafka, topic, `custodian-verifier-${source.ledgerId}`),
    offsets: async (partition) => {
      connected ??= admin.connect().catch((error: unknown) => {
        connected = null;
        throw error;
      });
      await connected;
      const offsets = (await admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition);
      return { start: offsets?.low ?? '0', end: offsets?.high ?? '0' };
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
export function ledgerFollower(config: CustodianConfig, kafka: Kafka, source: LedgerSource): LedgerFollower | null {
  if (!config.verification.follow) return null;
  const logger = new Logger('Verification');
  return kafkaLedgerFollower(kafka, config.ledger.topic, source, {
    spillDir: join(config.dataDir, 'cache'),
    catchUpWaitMs: config.verification.followWaitMs,
    onError: (error) => {
      logger.warn(`following the ledger failed, retrying: ${error.message}`);
    },
  });
}

/** Starts the ledger follower with the application and stops it on shutdown. */
@Injectable()
export class FollowerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(LEDGER_FOLLOWER) private readonly follower: LedgerFollower | null) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.follower?.start();
    } catch (error) {
      // Attestations then read their partition in full, as with VERIFIER_FOLLOW=false.
      new Logger('Verification').warn(`the ledger follower did not start: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.follower?.stop();
  }
}

/** Attestations, evidence bundles, full audits and the witness (docs/attestation-format.md). */
@Module({
  controllers: [VerificationController],
  providers: [
    {
      provide: ATTESTATION_SIGNER,
      inject: [CONFIG],
      useFactory: async (config: CustodianConfig) => {
        const { signer, source } = await attestationSigner(config);
        new Logger('Verification').log(`attestation key ${signer.verifierKey} from ${source}`);
        return signer;
      },
    },
    {
      provide: LEDGER_SOURCE,
      inject: [CONFIG, KAFKA, CheckpointSigner, getDataSourceToken()],
      useFactory: (config: CustodianConfig, kafka: Kafka, ledgerSigner: CheckpointSigner, dataSource: DataSource) =>
        ledgerSource(config, kafka, new CheckpointVerifier(ledgerSigner.keyName, ledgerSigner.publicKey), dataSource),
    },
    {
      provide: WITNESS,
      inject: [CONFIG, LEDGER_SOURCE],
      useFactory: (config: CustodianConfig, source: LedgerSource) => configuredWitness(config, source.ledgerKey),
    },
    {
      provide: ReadModelSource,
      inject: [getDataSourceToken(), CONFIG],
      useFactory: (dataSource: DataSource, config: CustodianConfig) => new ReadModelSource(dataSource, config.ledger.id),
    },
    {
      provide: LEDGER_FOLLOWER,
      inject: [CONFIG, KAFKA, LEDGER_SOURCE],
      useFactory: ledgerFollower,
    },
    FollowerLifecycle,
    {
      provide: ProductVerifier,
      inject: [LEDGER_SOURCE, ATTESTATION_SIGNER, WITNESS, ReadModelSource, CONFIG, LEDGER_FOLLOWER],
      useFactory: (
        source: LedgerSource,
        signer: CheckpointSigner,
        witness: Witness | null,
        readModel: ReadModelSource,
        config: CustodianConfig,
        follower: LedgerFollower | null,
      ) =>
        new ProductVerifier({
          source,
          signer,
          witness,
          readModel,
          clock: systemClock,
          readModelWaitMs: config.projection.readWaitMs,
          maxConcurrent: config.verification.maxConcurrent,
          follower,
        }),
    },
    {
      provide: AuditJobs,
      inject: [LEDGER_SOURCE, WITNESS, getDataSourceToken()],
      useFactory: (source: LedgerSource, witness: Witness | null, dataSource: DataSource) =>
        new AuditJobs(
          () =>
            new LedgerAudit({
              source,
              witness,
              readModel: () => ReadModelReplay.begin(dataSource, source.ledgerId, source.partitions),
              clock: systemClock,
            }),
        ),
    },
    WitnessPublisher,
  ],
  exports: [WitnessPublisher],
})
export class VerificationModule {}

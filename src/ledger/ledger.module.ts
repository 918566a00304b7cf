import {
  Controller,
  type DynamicModule,
  Get,
  Inject,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { AccessFor } from '../infrastructure/auth/access.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { type Readiness, ReadinessChecks } from '../infrastructure/health/readiness.js';
import { KAFKA } from '../infrastructure/kafka/kafka.module.js';
import { createKafkaLedgerWriter } from './adapters/kafka-ledger-writer.js';
import { ledgerSigner } from './adapters/ledger-signer.js';
import { PostgresGenesisPins } from './adapters/postgres-genesis-pins.js';
import { CheckpointSigner } from './checkpoint-note.js';
import type { EntityStateModel } from './ledger-record.js';
import { LedgerWriter } from './ledger-writer.js';
import type { WriterStatus } from './partition-writer.js';

const LEDGER_STATE_MODEL = Symbol('LEDGER_STATE_MODEL');

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

/** Starts the writers once the application is up, closes them on shutdown, and says whether they take appends. */
class LedgerWriterLifecycle implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Ledger');

  constructor(
    private readonly writer: LedgerWriter,
    private readonly readiness: ReadinessChecks,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {}

  onModuleInit(): void {
    this.readiness.register({ key: 'ledger', check: () => this.check() });
  }

  async onApplicationBootstrap(): Promise<void> {
    const heads = await this.writer.start();
    for (const [partition, head] of heads.entries()) {
      if (!head) continue;
      this.logger.log(
        `ledger ${this.config.ledger.id} partition ${partition}: head at sequence ${head.nextSequence - 1}, genesis ${String(head.genesisHash)}`,
      );
    }
  }

  /** Ready when every partition's writer takes appends; else each one that does not, and why. */
  private check(): Readiness {
    const writers = this.writer.describe();
    const down = writers.filter((writer) => writer.state !== 'open');
    return down.length === 0
      ? { ready: true, partitions: writers.length }
      : { ready: false, partitions: down.map(({ partition, state, reason }) => ({ partition, state, reason })) };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.writer.close();
  }
}

@Controller('ledger')
class LedgerController {
  constructor(
    private readonly signer: CheckpointSigner,
    private readonly writer: LedgerWriter,
  ) {}

  /** The key that signs checkpoints: what an auditor needs to verify offline. */
  @AccessFor('public')
  @Get('public-key')
  publicKey(): { algorithm: 'Ed25519'; keyName: string; keyId: string; publicKey: string; verifierKey: string } {
    return {
      algorithm: 'Ed25519',
      keyName: this.signer.keyName,
      keyId: this.signer.keyId,
      publicKey: Buffer.from(this.signer.publicKey).toString('base64'),
      verifierKey: this.signer.verifierKey,
    };
  }

  /**
   * Each partition's genesis and head, for operators (the genesis can be pinned in config), and
   * why its writer takes no appends when it does not. A partition that failed to verify at start
   * has no head (null fields).
   */
  @AccessFor('read')
  @Get('heads')
  heads(): {
    partition: number;
    status: string;
    reason: string | null;
    genesisHash: string | null;
    nextSequence: number | null;
    headHash: string | null;
  }[] {
    const statuses = this.writer.describe();
    return this.writer.heads().map((head, partition) => ({
      partition,
      status: statuses[partition]?.state ?? 'unknown',
      reason: statuses[partition]?.reason ?? null,
      genesisHash: head?.genesisHash ?? null,
      nextSequence: head?.nextSequence ?? null,
      headHash: head?.headHash ?? null,
    }));
  }
}

@Module({
  controllers: [LedgerController],
  providers: [
    {
      provide: CheckpointSigner,
      inject: [CONFIG],
      useFactory: async (config: CustodianConfig) => {
        const { signer, source } = await ledgerSigner(config);
        new Logger('Ledger').log(`checkpoint key ${signer.verifierKey} from ${source}`);
        return signer;
      },
    },
    {
      provide: LedgerWriter,
      inject: [CONFIG, KAFKA, CheckpointSigner, getDataSourceToken(), LEDGER_STATE_MODEL],
      useFactory: (
        config: CustodianConfig,
        kafka: Kafka,
        signer: CheckpointSigner,
        dataSource: DataSource,
        stateModel: EntityStateModel,
      ) =>
        createKafkaLedgerWriter({
          kafka,
          topic: config.ledger.topic,
          ledgerId: config.ledger.id,
          partitions: config.ledger.partitions,
          signer,
          pins: new PostgresGenesisPins(dataSource),
          maxBatch: config.ledger.maxBatch,
          maxBatchBytes: config.ledger.maxBatchBytes,
          maxPayloadBytes: config.ledger.maxPayloadBytes,
          configuredGenesis: config.ledger.genesis,
          stateModel,
          reclaimDelayMs: config.ledger.reclaimDelayMs,
          onStatus: logWriterStatus,
        }),
    },
    LedgerWriterLifecycle,
  ],
  exports: [LedgerWriter, CheckpointSigner],
})
export class LedgerModule {
  /**
   * The ledger for the whole application. The domain gives the state model its rules are
   * decided against (docs/rules-and-concurrency.md), so the ledger never imports the domain.
   */
  static forRoot(options: { stateModel: EntityStateModel }): DynamicModule {
    return {
      module: LedgerModule,
      global: true,
      providers: [{ provide: LEDGER_STATE_MODEL, useValue: options.stateModel }],
    };
  }
}

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
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Type } from '@sinclair/typebox';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { AccessFor } from '../infrastructure/auth/access.js';
import { type Answer, ApiAnswer, nullable, Sha256HexSchema } from '../infrastructure/http/api-schemas.js';
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

const PublicKeySchema = Type.Object({
  algorithm: Type.Literal('Ed25519'),
  keyName: Type.String({ description: 'the signed-note key name checkpoints are signed under' }),
  keyId: Type.String({ description: 'the signed-note key id, 8 hex digits' }),
  publicKey: Type.String({ description: 'the 32-byte Ed25519 public key, base64' }),
  verifierKey: Type.String({ description: 'the signed-note verifier key: name+id+key, as custodian-verify takes it' }),
});
/** docs/api.md, "Ledger". */
const HeadsSchema = Type.Array(
  Type.Object({
    partition: Type.Integer(),
    status: Type.String({ description: "the writer's state: open, unavailable, fenced, failed or closed" }),
    reason: nullable(Type.String({ description: 'why the writer takes no appends (null while open)' })),
    genesisHash: nullable(Sha256HexSchema),
    nextSequence: nullable(Type.Integer({ description: "the sequence of the writer's next record" })),
    headHash: nullable(Sha256HexSchema),
  }),
  {
    description:
      'one element per partition, in partition order; a writer that found its partition broken at start holds no head (null hashes and sequence)',
  },
);

@ApiTags('ledger')
@Controller('ledger')
class LedgerController {
  constructor(
    private readonly signer: CheckpointSigner,
    private readonly writer: LedgerWriter,
  ) {}

  /** The key that signs checkpoints: what an auditor needs to verify offline. */
  @AccessFor('public')
  @Get('public-key')
  @ApiOperation({ summary: 'The key that signs checkpoints (docs/ledger-format.md)' })
  @ApiAnswer(200, 'the checkpoint key', PublicKeySchema)
  publicKey(): Answer<typeof PublicKeySchema> {
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
  @ApiOperation({ summary: "Each partition's genesis and head, and why its writer takes no appends when it does not" })
  @ApiAnswer(200, 'one entry per partition', HeadsSchema)
  heads(): Answer<typeof HeadsSchema> {
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

import { type DynamicModule, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { KAFKA } from '../infrastructure/kafka/kafka.module.js';
import { CheckpointSigner } from '../ledger/checkpoint-note.js';
import type { EntityStateModel } from '../ledger/ledger-record.js';
import { LedgerWriter } from '../ledger/ledger-writer.js';
import { LedgerController } from './ledger.controller.js';
import { LedgerWriterLifecycle } from './ledger-lifecycle.js';
import { createLedgerWriter, loggedLedgerSigner } from './ledger-parts.js';

const LEDGER_STATE_MODEL = Symbol('LEDGER_STATE_MODEL');

/** The ledger in the application: its signer and writers (ledger-parts.ts), their lifecycle, its routes. */
@Module({
  controllers: [LedgerController],
  providers: [
    { provide: CheckpointSigner, inject: [CONFIG], useFactory: loggedLedgerSigner },
    {
      provide: LedgerWriter,
      inject: [CONFIG, KAFKA, CheckpointSigner, getDataSourceToken(), LEDGER_STATE_MODEL],
      useFactory: (
        config: CustodianConfig,
        kafka: Kafka,
        signer: CheckpointSigner,
        dataSource: DataSource,
        stateModel: EntityStateModel,
      ) => createLedgerWriter(config, { kafka, signer, dataSource, stateModel }),
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

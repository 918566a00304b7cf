import { Logger, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { KAFKA } from '../infrastructure/kafka/kafka.module.js';
import { CheckpointSigner } from '../ledger/checkpoint-note.js';
import { ledgerKeyOf } from '../ledger-module/ledger-parts.js';
import { AuditJobs } from './audit-jobs.js';
import type { LedgerFollower } from './ledger-follower.js';
import type { LedgerSource } from './partition-scan.js';
import { PRODUCT_EVIDENCE, productEvidence } from './product-evidence.js';
import { ProductVerifier } from './product-verifier.js';
import { VerificationController } from './verification.controller.js';
import { FollowerLifecycle, WitnessPublisher } from './verification-lifecycle.js';
import {
  attestationSigner,
  configuredWitness,
  createLedgerAudit,
  createProductVerifier,
  ledgerFollower,
  ledgerSource,
} from './verification-parts.js';
import { ATTESTATION_SIGNER, LEDGER_FOLLOWER, LEDGER_SOURCE, WITNESS } from './verification.tokens.js';
import type { Witness } from './witness.js';

/** Attestations, evidence bundles, full audits and the witness (docs/attestation-format.md); its parts from verification-parts.ts. */
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
        ledgerSource(config, kafka, ledgerKeyOf(ledgerSigner), dataSource),
    },
    {
      provide: WITNESS,
      inject: [CONFIG, LEDGER_SOURCE],
      useFactory: (config: CustodianConfig, source: LedgerSource) => configuredWitness(config, source.ledgerKey),
    },
    { provide: LEDGER_FOLLOWER, inject: [CONFIG, KAFKA, LEDGER_SOURCE, getDataSourceToken()], useFactory: ledgerFollower },
    FollowerLifecycle,
    {
      provide: ProductVerifier,
      inject: [CONFIG, LEDGER_SOURCE, ATTESTATION_SIGNER, WITNESS, getDataSourceToken(), LEDGER_FOLLOWER],
      useFactory: (
        config: CustodianConfig,
        source: LedgerSource,
        signer: CheckpointSigner,
        witness: Witness | null,
        dataSource: DataSource,
        follower: LedgerFollower | null,
      ) => createProductVerifier(config, { source, signer, witness, dataSource, follower }),
    },
    {
      provide: AuditJobs,
      inject: [CONFIG, LEDGER_SOURCE, WITNESS, getDataSourceToken()],
      useFactory: (config: CustodianConfig, source: LedgerSource, witness: Witness | null, dataSource: DataSource) =>
        new AuditJobs(() => createLedgerAudit({ source, witness, dataSource, threads: config.verification.auditThreads })),
    },
    {
      provide: PRODUCT_EVIDENCE,
      inject: [ProductVerifier, LEDGER_SOURCE, ATTESTATION_SIGNER],
      useFactory: productEvidence,
    },
    WitnessPublisher,
  ],
  exports: [WitnessPublisher, PRODUCT_EVIDENCE],
})
export class VerificationModule {}

/**
 * Builds a ledger of N custody steps quickly, through the real writer: commissionings as
 * `POST /custody/batch` records them (the same step definition and StepRecorder, the rules
 * decided at the head by the same writer, in Kafka, with its snapshots in PostgreSQL), without
 * HTTP in between. The application must not run on the same ledger meanwhile (the builder's
 * writer would fence it); the read models are built by the projector when the application
 * starts next. What it builds is an ordinary ledger: the full audit verifies it from offset 0.
 * The command is bench/build-ledger.ts (`npm run ledger:build`).
 */
import { randomUUID } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import { custodyStateModel } from '../../src/custody/custody-state.js';
import { StepRecorder, type StepToRecord } from '../../src/custody/step-recorder.js';
import { STEPS } from '../../src/custody/steps.js';
import type { CustodianConfig } from '../../src/infrastructure/config/config.js';
import { openDataSource } from '../../src/infrastructure/database/data-source-options.js';
import { prepareDatabase } from '../../src/infrastructure/database/database-provisioning.js';
import { createKafkaClient } from '../../src/infrastructure/kafka/kafka-client.js';
import { ensureLedgerTopic } from '../../src/infrastructure/kafka/ledger-topic.js';
import { createLedgerWriter, ledgerSigner } from '../../src/ledger-module/ledger-parts.js';
import { PostgresSnapshotStore } from '../../src/ledger/adapters/postgres-snapshots.js';
import { systemClock } from '../../src/ledger/ports.js';
import { commission } from './commissioning.js';

export interface LedgerBuildOptions {
  readonly steps: number;
  /** Steps a batch (one StepRecorder.record call, as one POST /custody/batch). */
  readonly batch?: number;
  /** Batches in flight at once: the writer commits what waits together (group commit). */
  readonly inFlight?: number;
  /** Serials are `<tag>-<n>`; by default a tag of its own for each build, so that builds on one ledger never repeat a serial. */
  readonly tag?: string;
  /** Called about every 10 s with the steps recorded so far. */
  readonly onProgress?: (recorded: number, seconds: number) => void;
}

export interface LedgerBuild {
  readonly steps: number;
  /** Whether every partition's last snapshot stands at its head (else the next start verifies a tail, and says so). */
  readonly snapshotAtHead: boolean;
  readonly seconds: number;
  readonly stepsPerSecond: number;
}

/** Appends `steps` commissionings to the configured ledger and closes its writer (a last snapshot at the head). */
export async function buildLedger(
  config: CustodianConfig,
  logger: LoggerService,
  options: LedgerBuildOptions,
): Promise<LedgerBuild> {
  const { steps, batch = 500, inFlight = 8, tag = `built-${Date.now().toString(36)}`, onProgress } = options;
  const definition = STEPS.get('commission');
  if (!definition) throw new Error('the step registry has no commission step');
  await prepareDatabase(config.database.url);
  const dataSource = await openDataSource(config.database.url);
  try {
    const kafka = createKafkaClient(config.kafka, logger);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureLedgerTopic(admin, config.ledger);
    } finally {
      await admin.disconnect();
    }
    const { signer } = await ledgerSigner(config);
    const writer = createLedgerWriter(config, { kafka, signer, dataSource, stateModel: custodyStateModel });
    await writer.start();
    const recorder = new StepRecorder(writer, {
      occurredAtSkewMs: config.custody.occurredAtSkewMs,
      clock: systemClock,
      newEventId: randomUUID,
    });
    const started = performance.now();
    let sent = 0;
    let recorded = 0;
    let reported = started;
    const worker = async (): Promise<void> => {
      while (sent < steps) {
        const n = Math.min(batch, steps - sent);
        sent += n;
        const items = Array.from({ length: n }, (_, i): StepToRecord => {
          const body = commission(tag) as never;
          return {
            command: definition.toCommand(body),
            occurredAt: (body as { occurredAt: string }).occurredAt,
            pointer: `/steps/${i}`,
          };
        });
        await recorder.record(items, 'ledger-build');
        recorded += n;
        if (onProgress && performance.now() - reported > 10_000) {
          reported = performance.now();
          onProgress(recorded, (reported - started) / 1000);
        }
      }
    };
    let heads: ReturnType<typeof writer.heads> = [];
    try {
      await Promise.all(Array.from({ length: inFlight }, worker));
    } finally {
      heads = writer.heads();
      // A clean close takes a last snapshot at the head: the application's next start verifies no tail.
      await writer.close();
    }
    const seconds = (performance.now() - started) / 1000;
    const snapshots = new PostgresSnapshotStore(dataSource, config.ledger.id);
    let snapshotAtHead = true;
    for (const [partition, head] of heads.entries()) {
      const latest = await snapshots.partition(partition).latest();
      if (!head || latest?.body.treeSize !== head.nextSequence - 1) snapshotAtHead = false;
    }
    return { steps: recorded, snapshotAtHead, seconds, stepsPerSecond: recorded / seconds };
  } finally {
    await dataSource.destroy();
  }
}

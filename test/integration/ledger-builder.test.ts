import { afterAll, describe, expect, it } from '@jest/globals';
import type { Kafka } from 'kafkajs';
import { buildLedger } from '../../bench/support/ledger-builder.js';
import { custodyStateModel } from '../../src/custody/custody-state.js';
import { openDataSource } from '../../src/infrastructure/database/data-source-options.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import { ledgerKeyOf, ledgerSigner } from '../../src/ledger-module/ledger-parts.js';
import { createKafkaLedgerWriter } from '../../src/ledger/adapters/kafka-ledger-writer.js';
import { PostgresGenesisPins } from '../../src/ledger/adapters/postgres-genesis-pins.js';
import { PostgresSnapshotStore } from '../../src/ledger/adapters/postgres-snapshots.js';
import type { SnapshotEvent } from '../../src/ledger/partition-recovery.js';
import { systemClock } from '../../src/ledger/ports.js';
import { LedgerAudit } from '../../src/verification/ledger-audit.js';
import { ledgerSource } from '../../src/verification/verification-parts.js';
import { reserveTestDatabase, testConfig } from '../support/environment.js';
import { testKafka, verifyTopic } from '../support/ledger-harness.js';

/*
 * The ledger builder of the scale benchmark (npm run ledger:build, issue 16): what it builds
 * through the real writer is an ordinary ledger. Every step is a commissioning of a product of
 * its own, the whole partition verifies from offset 0 against the ledger key (the test harness's
 * reader and the full audit both), and the writer's
 * last snapshot stands at the head, so the application's next start resumes with no tail.
 */
const STEPS = 2_400;

describe('the ledger builder (npm run ledger:build)', () => {
  const database = reserveTestDatabase();
  const config = testConfig(database, { LEDGER_SNAPSHOT_RECORDS: '500' });
  let kafka: Kafka | null = null;

  afterAll(async () => {
    await database.drop();
  });

  it('builds a ledger of N commissionings that verifies from offset 0, with a snapshot at its head', async () => {
    const built = await buildLedger(config, createLogger(config.log), {
      steps: STEPS,
      batch: 200,
      inFlight: 4,
      tag: 'builder-test',
    });
    expect(built.steps).toBe(STEPS);
    expect(built.snapshotAtHead).toBe(true);
    expect(built.stepsPerSecond).toBeGreaterThan(0);

    kafka = testKafka();
    const { signer } = await ledgerSigner(config);
    const verified = await verifyTopic(kafka, config.ledger.topic, config.ledger.id, signer);
    expect(verified.problem).toBeNull();
    const commissioned = verified.records.filter(({ record }) => record.eventType === 'product.commissioned');
    expect(commissioned).toHaveLength(STEPS);
    expect(new Set(commissioned.map(({ record }) => record.entities[0]?.id)).size).toBe(STEPS);
    const last = verified.records.at(-1)!;
    expect(last.record.eventType).toBe('ledger.checkpoint');

    // The full audit (npm run audit, without the read models: the builder projects nothing)
    // reads the same partition from genesis and finds it verified, every record of it.
    const dataSource = await openDataSource(config.database.url);
    const ledgerKey = ledgerKeyOf(signer);
    const report = await new LedgerAudit({
      source: ledgerSource(config, kafka, ledgerKey, dataSource),
      witness: null,
      readModel: null,
      clock: systemClock,
    }).run();
    expect(report.findings).toEqual([]);
    expect(report.verdict).toBe('verified');
    expect(report.partitions).toMatchObject([
      { partition: 0, recordsRead: verified.records.length, recordsVerified: verified.records.length },
    ]);

    // A writer started on it resumes from the builder's last snapshot, at the head: no tail to verify.
    const events: SnapshotEvent[] = [];
    const writer = createKafkaLedgerWriter({
      kafka,
      topic: config.ledger.topic,
      ledgerId: config.ledger.id,
      partitions: 1,
      signer,
      pins: new PostgresGenesisPins(dataSource),
      stateModel: custodyStateModel,
      snapshots: new PostgresSnapshotStore(dataSource, config.ledger.id),
      onSnapshot: (event) => events.push(event),
    });
    try {
      await writer.start();
      expect(events).toContainEqual({ kind: 'resumed', partition: 0, treeSize: last.record.sequence, tail: 0 });
    } finally {
      await writer.close();
      await dataSource.destroy();
    }
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { readPartition } from '../../src/ledger/adapters/kafka-partition-reader.js';
import { createKafkaLedgerWriter } from '../../src/ledger/adapters/kafka-ledger-writer.js';
import { PostgresGenesisPins } from '../../src/ledger/adapters/postgres-genesis-pins.js';
import { PostgresSnapshotStore } from '../../src/ledger/adapters/postgres-snapshots.js';
import { CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import type { LedgerWriter } from '../../src/ledger/ledger-writer.js';
import type { FollowerSnapshotEvent, LedgerFollower } from '../../src/verification/ledger-follower.js';
import type { LedgerSource } from '../../src/verification/partition-scan.js';
import { ProductVerifier } from '../../src/verification/product-verifier.js';
import { kafkaLedgerFollower } from '../../src/verification/verification-parts.js';
import { RecordDecodePool } from '../../src/ledger/adapters/record-decode-pool.js';
import { reserveTestDatabase, type TestDatabase, uniqueName } from '../support/environment.js';
import { createTopic, settled, testKafka, testSigner } from '../support/ledger-harness.js';
import { openDatabase } from '../support/projection-harness.js';

/*
 * The verifier's ledger follower over the writer's snapshots in PostgreSQL and the real topic
 * (issue 16): it starts at the newest snapshot and attests exactly as a full read does; a record
 * row of the store changed under it leaves the attestation to a full read, which still verifies.
 */
const PRODUCT = 'urn:product:followed';
const OTHERS = Array.from({ length: 6 }, (_, i) => `urn:product:other-${i}`);

describe('the ledger follower resuming from writer snapshots in PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let kafka: Kafka;
  let writer: LedgerWriter;
  const topic = uniqueName('ledger-follower-snapshots');
  const ledgerId = uniqueName('follower-snapshots');
  const signer = testSigner(61);
  const ledgerKey = new CheckpointVerifier(signer.keyName, signer.publicKey);
  const followers: LedgerFollower[] = [];
  let genesis: string;

  const source = (): LedgerSource => ({
    read: (partition) => readPartition(kafka, topic, partition),
    ledgerId,
    partitions: 1,
    ledgerKey,
    genesisPin: () => Promise.resolve(genesis),
  });

  function verifier(follower: LedgerFollower | null): ProductVerifier {
    return new ProductVerifier({
      follower,
      source: source(),
      signer: testSigner(7),
      witness: null,
      readModel: null,
      clock: { now: () => new Date('2026-12-01T12:00:00Z') },
      readModelWaitMs: 0,
    });
  }

  async function follow(): Promise<{ follower: LedgerFollower; events: FollowerSnapshotEvent[]; errors: Error[] }> {
    const events: FollowerSnapshotEvent[] = [];
    const errors: Error[] = [];
    const follower = kafkaLedgerFollower(kafka, topic, source(), {
      spillDir: mkdtempSync(join(tmpdir(), 'custodian-follower-snapshots-')),
      catchUpWaitMs: 30_000,
      snapshots: new PostgresSnapshotStore(dataSource, ledgerId),
      onSnapshot: (event) => events.push(event),
      onError: (error) => errors.push(error),
      // Decoding in a worker thread, as the application's follower does by default (READER_THREADS).
      reader: RecordDecodePool.start(1),
    });
    followers.push(follower);
    await follower.start();
    return { follower, events, errors };
  }

  beforeAll(async () => {
    database = reserveTestDatabase();
    dataSource = await openDatabase(database.url);
    kafka = testKafka('custodian-follower-snapshot-test');
    await createTopic(kafka, topic);
    writer = createKafkaLedgerWriter({
      kafka,
      topic,
      ledgerId,
      partitions: 1,
      signer,
      pins: new PostgresGenesisPins(dataSource),
      snapshots: new PostgresSnapshotStore(dataSource, ledgerId),
      snapshotRecords: 20,
      snapshotIntervalMs: 3_600_000,
    });
    await writer.start();
    genesis = writer.heads()[0]!.genesisHash!;
    const step = (entityIds: string[]) =>
      writer.append({
        eventId: crypto.randomUUID(),
        eventType: 'custody.inspect',
        entityIds,
        occurredAt: '2026-12-01T07:00:00Z',
        actor: 'op',
        payload: {},
      });
    // The product named all along the ledger: before the newest snapshot and after it.
    for (let round = 0; round < 20; round++) {
      await Promise.all([step([PRODUCT]), ...OTHERS.map((other, i) => step(i % 3 === 0 ? [other, PRODUCT] : [other]))]);
    }
    await settled({ kafka, topic, ledgerId, signer, writer });
    // Closed: the snapshot stays where it is while the cases read it.
    await writer.close();
  });

  afterAll(async () => {
    for (const follower of followers) await follower.stop();
    await writer.close().catch(() => undefined);
    await dataSource.destroy();
    await database.drop();
  });

  it('starts at the newest snapshot and attests as a full read does', async () => {
    const rows: { tree_size: string }[] = await dataSource.query('SELECT tree_size FROM ledger_snapshot WHERE ledger_id = $1', [
      ledgerId,
    ]);
    const base = Number(rows[0]!.tree_size);
    expect(base).toBeGreaterThan(100);
    const { follower, events, errors } = await follow();
    expect(events).toEqual([{ kind: 'resumed', partition: 0, treeSize: base }]);
    const followed = await verifier(follower).verify(PRODUCT, { evidence: true, since: 3 });
    const full = await verifier(null).verify(PRODUCT, { evidence: true, since: 3 });
    expect([followed.ledgerRead, full.ledgerRead]).toEqual(['followed', 'full']);
    expect(followed.attestation.attestation).toMatchObject({ verdict: 'verified', findings: [], steps: 20 + 2 * 20 });
    expect(followed.attestation).toEqual(full.attestation);
    expect(followed.bundle).toEqual(full.bundle);
    expect(errors).toEqual([]);
  });

  it('leaves an attestation to a full read when a record row of the store was changed', async () => {
    const { follower, events, errors } = await follow();
    expect(events).toMatchObject([{ kind: 'resumed' }]);
    const sequences: { sequence: string }[] = await dataSource.query(
      'SELECT sequence FROM ledger_entity_record WHERE ledger_id = $1 AND entity_id = $2 ORDER BY sequence',
      [ledgerId, PRODUCT],
    );
    const sequence = sequences[3]!.sequence;
    // (TypeORM answers an UPDATE with its rows and its count.)
    const [changed]: [unknown[], number] = await dataSource.query(
      `UPDATE ledger_record SET bytes = convert_to(replace(convert_from(bytes, 'UTF8'), '"op"', '"OP"'), 'UTF8')
        WHERE ledger_id = $1 AND sequence = $2 RETURNING sequence`,
      [ledgerId, sequence],
    );
    expect(changed).toHaveLength(1);

    const attested = await verifier(follower).verify(PRODUCT, { evidence: false });
    expect(attested.ledgerRead).toBe('full');
    expect(attested.attestation.attestation).toMatchObject({ verdict: 'verified', findings: [], steps: 60 });
    expect(errors.map((error) => error.message)).toEqual([expect.stringContaining(`record ${sequence}`)]);
    // An entity whose records the change does not touch is still read through the snapshot.
    expect((await verifier(follower).verify(OTHERS[1]!, { evidence: false })).ledgerRead).toBe('followed');
  });
});

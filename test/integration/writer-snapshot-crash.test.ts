import { afterAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createKafkaLedgerWriter } from '../../src/ledger/adapters/kafka-ledger-writer.js';
import { PostgresSnapshotStore } from '../../src/ledger/adapters/postgres-snapshots.js';
import type { AppendReceipt } from '../../src/ledger/ledger-record.js';
import type { LedgerWriter } from '../../src/ledger/ledger-writer.js';
import type { SnapshotEvent } from '../../src/ledger/partition-recovery.js';
import { reserveTestDatabase, type TestDatabase, testKafkaBrokers, uniqueName } from '../support/environment.js';
import { createTopic, settled, testKafka, testSigner, verifyTopic } from '../support/ledger-harness.js';
import { MemoryGenesisPins } from '../support/memory-ledger.js';
import { openDatabase } from '../support/projection-harness.js';
import { ROOT } from '../support/test-stack.mjs';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, done: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/*
 * The window between a batch and its snapshot. A writer commits a batch (its records and its
 * checkpoint record) as one Kafka transaction and answers its callers once Kafka acknowledged
 * it; only then are the records applied to its state, and a snapshot that is due is written to
 * PostgreSQL in the background, as one transaction (PartitionWriter.applied/snapshot,
 * PostgresSnapshotStore.commit). A writer killed in between leaves acknowledged records in the
 * topic that no snapshot covers: the store still holds the snapshot before them.
 *
 * To kill the writer in exactly that window, and not merely somewhere near it, the test holds
 * the stored snapshot's row locked (SELECT … FOR UPDATE, as the writer's own commit does): the
 * child's next snapshot waits for it inside its PostgreSQL transaction (a second at most, then
 * it is deferred and tried again after a later batch: PostgresSnapshotStore.commit) while the
 * child goes on committing batches to Kafka and acknowledging them. Then the child is killed
 * with SIGKILL, its snapshot transaction in flight or deferred. A restart must resume from the older snapshot, verify the
 * longer tail after it, and lose no acknowledged record.
 *
 * (The other order cannot happen: a snapshot is taken only of records Kafka acknowledged, and a
 * restart's log.open() -- initTransactions on the same transactional id -- completes a
 * transaction the coordinator logged before the snapshot's checkpoint record is read back.)
 */
describe('a writer killed with SIGKILL between a batch and its snapshot', () => {
  let database: TestDatabase | undefined;
  let dataSource: DataSource | undefined;
  let lock: pg.Client | undefined;
  let child: ChildProcess | undefined;
  let writer: LedgerWriter | undefined;

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await writer?.close().catch(() => undefined);
    await lock?.end().catch(() => undefined);
    await dataSource?.destroy();
    await database?.drop();
  });

  it('loses no acknowledged record: a restart resumes from the snapshot before and verifies the tail after it', async () => {
    database = reserveTestDatabase();
    dataSource = await openDatabase(database.url);
    const kafka = testKafka();
    const topic = uniqueName('ledger-snapshot-crash');
    const ledgerId = uniqueName('snapshot-crash');
    const signer = testSigner(7);
    await createTopic(kafka, topic);

    child = spawn(process.execPath, [join(ROOT, 'dist/test/fixtures/append-until-killed.js')], {
      env: {
        PATH: process.env.PATH,
        KAFKA_BROKERS: testKafkaBrokers(),
        LEDGER_TOPIC: topic,
        LEDGER_ID: ledgerId,
        LEDGER_SIGNING_KEY: Buffer.from(new Uint8Array(32).fill(7)).toString('base64'),
        CONCURRENCY: '8',
        DATABASE_URL: database.url,
        SNAPSHOT_RECORDS: '50',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => {
      child!.once('exit', (_, signal) => {
        resolve(signal);
      });
    });
    const acknowledged: (AppendReceipt & { eventId: string })[] = [];
    const snapshots: SnapshotEvent[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as { started?: boolean; snapshot?: SnapshotEvent } & AppendReceipt & { eventId: string };
      if (message.snapshot) snapshots.push(message.snapshot);
      else if (!message.started) acknowledged.push(message);
    });
    const taken = () => snapshots.filter((event) => event.kind === 'taken');

    // A few snapshots first, so that there is one to resume from.
    await until('the child took two snapshots', () => taken().length >= 2);
    lock = new pg.Client({ connectionString: database.url });
    await lock.connect();
    await lock.query('BEGIN');
    const locked = await lock.query<{ tree_size: string }>(
      'SELECT tree_size FROM ledger_snapshot WHERE ledger_id = $1 AND partition = 0 FOR UPDATE',
      [ledgerId],
    );
    const lockedSize = Number(locked.rows[0]!.tree_size);

    // The child's next snapshot waits for the lock, inside its transaction... (Seen from another
    // connection: one in a transaction sees the statistics of its first look at them.)
    const blocked = async () =>
      (
        await dataSource!.query<{ pid: number }[]>(
          `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE '%ledger_snapshot%FOR UPDATE%'`,
          [database!.name],
        )
      ).map((row) => row.pid);
    await until('the child blocks on its snapshot commit', async () => (await blocked()).length === 1);
    const [blockedPid] = await blocked();
    // ... while it goes on committing batches to Kafka: three snapshots' worth after the one stored.
    await until('the child acknowledged records well past the stored snapshot', () =>
      acknowledged.some((receipt) => receipt.sequence > lockedSize + 150),
    );
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const killedAfter = acknowledged.length;
    expect(taken().at(-1)).toEqual({ kind: 'taken', partition: 0, treeSize: lockedSize });
    // No snapshot failed but for the held row.
    for (const failed of snapshots.filter((event) => event.kind === 'failed')) {
      expect(failed).toMatchObject({ reason: expect.stringMatching(/another session holds the partition's snapshot row/) });
    }

    // The lock let go, the killed child's transaction ends without a commit: the older snapshot stays.
    await lock.query('ROLLBACK');
    await until('the killed child has no server connection left waiting', async () => {
      const left = await dataSource!.query<unknown[]>('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [blockedPid]);
      return left.length === 0;
    });
    const stored = await dataSource.query<{ tree_size: string }[]>(
      'SELECT tree_size FROM ledger_snapshot WHERE ledger_id = $1 AND partition = 0',
      [ledgerId],
    );
    expect(stored.map((row) => Number(row.tree_size))).toEqual([lockedSize]);

    const events: SnapshotEvent[] = [];
    writer = createKafkaLedgerWriter({
      kafka,
      topic,
      ledgerId,
      partitions: 1,
      signer,
      pins: new MemoryGenesisPins(),
      snapshots: new PostgresSnapshotStore(dataSource, ledgerId),
      snapshotRecords: 50,
      snapshotIntervalMs: 3_600_000,
      onSnapshot: (event) => events.push(event),
    });
    await writer.start();
    const head = writer.heads()[0]!;
    const before = await verifyTopic(kafka, topic, ledgerId, signer);
    expect(before.problem).toBeNull();
    // Resumed from the snapshot the store still held, reading everything after it (the records
    // no snapshot covers), and the head is the topic's last record.
    // (A start that read a tail takes a snapshot at its end, told before the resume.)
    expect(events.map((event) => event.kind)).toEqual(['taken', 'resumed']);
    expect(events[1]).toEqual({
      kind: 'resumed',
      partition: 0,
      treeSize: lockedSize,
      tail: before.records.length - lockedSize - 1,
    });
    expect(before.records.length - lockedSize - 1).toBeGreaterThan(150);
    expect({ nextSequence: head.nextSequence, headHash: head.headHash }).toEqual({
      nextSequence: before.records.length,
      headHash: before.records.at(-1)!.hash,
    });

    const next = await writer.append({
      eventId: crypto.randomUUID(),
      eventType: 'custody.handover',
      entityIds: ['product-after-kill'],
      occurredAt: '2026-12-01T08:00:00Z',
      actor: 'restart',
      payload: { n: -1 },
    });
    expect(next.sequence).toBe(head.nextSequence);
    await settled({ kafka, topic, ledgerId, signer, writer });
    await writer.close();

    const { problem, records } = await verifyTopic(kafka, topic, ledgerId, signer);
    expect(problem).toBeNull();
    const count = new Map<string, number>();
    for (const stored of records) count.set(stored.record.eventId, (count.get(stored.record.eventId) ?? 0) + 1);
    // Every acknowledged record is there once, where its receipt says.
    for (const receipt of acknowledged) {
      expect({ eventId: receipt.eventId, count: count.get(receipt.eventId) }).toEqual({ eventId: receipt.eventId, count: 1 });
      expect(records[receipt.sequence]?.hash).toBe(receipt.hash);
    }
    process.stderr.write(
      `[snapshots] killed with the snapshot after tree size ${lockedSize} stored and the next one in flight, after ${killedAfter} acknowledged appends; the restart verified ${String((events[1] as { tail: number }).tail)} records after the snapshot\n`,
    );
  }, 120_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createKafkaLedgerWriter } from '../../src/ledger/adapters/kafka-ledger-writer.js';
import { PostgresGenesisPins } from '../../src/ledger/adapters/postgres-genesis-pins.js';
import { PostgresSnapshotStore } from '../../src/ledger/adapters/postgres-snapshots.js';
import { CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import { EventIdConflictError, LedgerUnavailableError } from '../../src/ledger/ledger-errors.js';
import type { AppendReceipt, AppendRequest } from '../../src/ledger/ledger-record.js';
import type { LedgerWriter } from '../../src/ledger/ledger-writer.js';
import type { SnapshotEvent } from '../../src/ledger/partition-recovery.js';
import { entityKey } from '../../src/ledger/partition-state.js';
import { checkSnapshotNote, signSnapshot, type SnapshotBody } from '../../src/ledger/writer-snapshot.js';
import { reserveTestDatabase, type TestDatabase, uniqueName } from '../support/environment.js';
import { holderModel } from '../support/holder-model.js';
import { createTopic, settled, testKafka, testSigner, verifyTopic } from '../support/ledger-harness.js';
import { openDatabase } from '../support/projection-harness.js';

/*
 * The writer's snapshots (issue 16) on the real thing: a Kafka partition and the PostgreSQL
 * snapshot store of the migrations. A start resumes from the newest snapshot that checks out
 * and verifies only the tail after it; a snapshot that does not check out (its body changed,
 * its note cut, signed by another key, of another ledger, its tiles deleted, its state values
 * changed) is refused and the writer
 * reads the whole partition instead, with the same head and every record.
 *
 * The cases run in order on one ledger: each start reads what the one before it left.
 */
const PRODUCTS = 10;
const STEPS = 30;
const SNAPSHOT_RECORDS = 50;
const product = (i: number) => `urn:product:snap-${i}`;

describe('writer snapshots in PostgreSQL on a real Kafka partition', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let kafka: Kafka;
  const topic = uniqueName('ledger-snapshots');
  const ledgerId = uniqueName('snapshots');
  const signer = testSigner(16);
  /** Who holds each product, by the requests acknowledged. */
  const holders = new Map<string, string>();
  /** Every acknowledged request with its receipt, in the order acknowledged. */
  const acknowledged: { request: AppendRequest; receipt: AppendReceipt }[] = [];
  /** Every writer started, closed at the end even when a case failed half-way (a writer left open keeps reclaiming its partition). */
  const started: LedgerWriter[] = [];

  function step(entity: string, to: string): AppendRequest {
    const eventId = crypto.randomUUID();
    return {
      eventId,
      eventType: 'custody.handover',
      entityIds: [entity],
      occurredAt: '2026-12-01T08:00:00Z',
      actor: 'dock-16',
      // A request digest puts the event into the idempotency index (IdempotencyIndex).
      payload: { to, requestDigest: `digest-${eventId}` },
    };
  }

  async function append(writer: LedgerWriter, request: AppendRequest): Promise<AppendReceipt> {
    const receipt = await writer.append(request);
    acknowledged.push({ request, receipt });
    holders.set(request.entityIds[0]!, request.payload.to as string);
    return receipt;
  }

  async function start(): Promise<{ writer: LedgerWriter; events: SnapshotEvent[] }> {
    const events: SnapshotEvent[] = [];
    const writer = createKafkaLedgerWriter({
      kafka,
      topic,
      ledgerId,
      partitions: 1,
      signer,
      pins: new PostgresGenesisPins(dataSource),
      stateModel: holderModel,
      snapshots: new PostgresSnapshotStore(dataSource, ledgerId),
      snapshotRecords: SNAPSHOT_RECORDS,
      // Snapshots by count only: which records a start reads must not depend on timing.
      snapshotIntervalMs: 3_600_000,
      onSnapshot: (event) => events.push(event),
    });
    started.push(writer);
    await writer.start();
    return { writer, events };
  }

  /**
   * What a start that resumed told: it resumed, and took a snapshot at its end when it read a
   * tail (Replay.run takes it before fromSnapshot reports the resume).
   */
  function resumedOf(events: readonly SnapshotEvent[]): SnapshotEvent | undefined {
    const resumed = events.find((event) => event.kind === 'resumed');
    expect(events.map((event) => event.kind)).toEqual(resumed?.tail === 0 ? ['resumed'] : ['taken', 'resumed']);
    return resumed;
  }

  /** A clean stop: close() writes a last snapshot at the head. */
  async function stop(writer: LedgerWriter): Promise<void> {
    await settled({ kafka, topic, ledgerId, signer, writer });
    await writer.close();
  }

  /** A process killed: no close, no last snapshot (the next writer fences this one's producer). */
  async function kill(writer: LedgerWriter): Promise<void> {
    await settled({ kafka, topic, ledgerId, signer, writer });
  }

  async function storedSnapshot(): Promise<{ treeSize: number; body: SnapshotBody; note: string }> {
    const rows: { tree_size: string; body: string; note: string }[] = await dataSource.query(
      'SELECT tree_size, body, note FROM ledger_snapshot WHERE ledger_id = $1 AND partition = 0',
      [ledgerId],
    );
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    return { treeSize: Number(row.tree_size), body: JSON.parse(row.body) as SnapshotBody, note: row.note };
  }

  /** The topic as an auditor reads it: it must verify; its records, and the step records' event ids. */
  async function audit(): Promise<{ total: number; lastHash: string; eventIds: string[] }> {
    const { problem, records } = await verifyTopic(kafka, topic, ledgerId, signer);
    expect(problem).toBeNull();
    return {
      total: records.length,
      lastHash: records.at(-1)!.hash,
      eventIds: records.filter((r) => r.record.eventType === 'custody.handover').map((r) => r.record.eventId),
    };
  }

  /** What every start must give, whatever it started from: the topic's head, every product's holder, every receipt. */
  async function expectSameLedger(writer: LedgerWriter): Promise<void> {
    // A commit is acknowledged before its markers make the records readable: wait for them.
    await settled({ kafka, topic, ledgerId, signer, writer });
    const { total, lastHash, eventIds } = await audit();
    const head = writer.heads()[0]!;
    expect({ nextSequence: head.nextSequence, headHash: head.headHash }).toEqual({ nextSequence: total, headHash: lastHash });
    // No record lost and none twice: every acknowledged step is in the topic exactly once.
    expect(eventIds.slice().sort()).toEqual(acknowledged.map(({ request }) => request.eventId).sort());
    const states = await writer.statesOf([...holders.keys()]);
    expect(Object.fromEntries(states)).toEqual(Object.fromEntries(holders));
    // The idempotency index answers for the first request and the last one as it did.
    for (const { request, receipt } of [acknowledged[0]!, acknowledged.at(-1)!]) {
      expect(await writer.recorded([request.eventId], request.payload.requestDigest as string)).toEqual([receipt]);
    }
  }

  /** A start that refused the stored snapshot: it read the whole partition, and took a snapshot of it. */
  async function expectFullRead(events: readonly SnapshotEvent[], reason: RegExp): Promise<void> {
    const { total } = await audit();
    expect(events.map((event) => event.kind)).toEqual(['refused', 'taken']);
    expect(events[0]).toEqual({ kind: 'refused', partition: 0, reason: expect.stringMatching(reason) as unknown });
    // The full read's snapshot stands at the last checkpoint record, which is the partition's last record.
    expect(events[1]).toEqual({ kind: 'taken', partition: 0, treeSize: total - 1 });
    expect((await storedSnapshot()).treeSize).toBe(total - 1);
  }

  beforeAll(async () => {
    database = reserveTestDatabase();
    dataSource = await openDatabase(database.url);
    kafka = testKafka('custodian-snapshot-test');
    await createTopic(kafka, topic);
  });

  afterAll(async () => {
    for (const writer of started) await writer.close().catch(() => undefined);
    await dataSource.destroy();
    await database.drop();
  });

  it('resumes a restart from the newest snapshot and reads only the tail, with the same head, states and idempotency', async () => {
    const first = await start();
    // Concurrent callers, one product each: batches of several groups, each ending with its checkpoint.
    await Promise.all(
      Array.from({ length: PRODUCTS }, async (_, i) => {
        for (let n = 0; n < STEPS; n++) await append(first.writer, step(product(i), `holder-${i}-${n}`));
      }),
    );
    const headBefore = first.writer.heads()[0]!;
    await stop(first.writer);
    const taken = first.events.filter((event) => event.kind === 'taken');
    expect(first.events.filter((event) => event.kind !== 'taken')).toEqual([]);
    const { total } = await audit();
    expect(total).toBeGreaterThan(PRODUCTS * STEPS);
    // Snapshots every 50 records or so (at the end of a batch, one at a time): several were taken.
    expect(taken.length).toBeGreaterThanOrEqual(2);
    const stored = await storedSnapshot();
    expect(stored.treeSize).toBe((taken.at(-1) as { treeSize: number }).treeSize);
    // The last one, by close(), stands at the head: the next start verifies no record.
    expect(stored.treeSize).toBe(total - 1);

    const second = await start();
    // Resumed from the stored snapshot: only the records after its checkpoint record were read.
    expect(resumedOf(second.events)).toEqual({
      kind: 'resumed',
      partition: 0,
      treeSize: stored.treeSize,
      tail: total - stored.treeSize - 1,
    });
    const head = second.writer.heads()[0]!;
    expect({ nextSequence: head.nextSequence, headHash: head.headHash, genesisHash: head.genesisHash }).toEqual({
      nextSequence: headBefore.nextSequence,
      headHash: headBefore.headHash,
      genesisHash: headBefore.genesisHash,
    });
    await expectSameLedger(second.writer);

    // A retry of a request recorded before the snapshot is answered with its receipt, not recorded again.
    const { request: early, receipt: earlyReceipt } = acknowledged[3]!;
    expect(earlyReceipt.sequence).toBeLessThan(stored.treeSize);
    expect(await second.writer.append(early)).toEqual(earlyReceipt);
    // The same event id for another request is refused.
    await expect(second.writer.append({ ...early, payload: { to: 'mallory', requestDigest: 'other' } })).rejects.toBeInstanceOf(
      EventIdConflictError,
    );
    expect(second.writer.heads()[0]!.nextSequence).toBe(headBefore.nextSequence);

    // Three more steps: a tail of three batches (a record and its checkpoint each) after the snapshot of this start.
    const atStart = second.events.find((event) => event.kind === 'taken') as { treeSize: number } | undefined;
    const base = atStart?.treeSize ?? stored.treeSize;
    for (const n of [1, 2, 3]) await append(second.writer, step(product(0), `after-restart-${n}`));
    await kill(second.writer);

    const third = await start();
    expect(resumedOf(third.events)).toEqual({ kind: 'resumed', partition: 0, treeSize: base, tail: 6 });
    await expectSameLedger(third.writer);
    await append(third.writer, step(product(1), 'third-start'));
    await stop(third.writer);
  });

  it('refuses a snapshot whose body was changed, and reads the whole partition', async () => {
    const { body } = await storedSnapshot();
    const changed: SnapshotBody = { ...body, stateRoot: 'ab'.repeat(32) };
    await dataSource.query('UPDATE ledger_snapshot SET body = $2 WHERE ledger_id = $1', [ledgerId, JSON.stringify(changed)]);

    const { writer, events } = await start();
    await expectFullRead(events, /^the snapshot note: the signed note text is not the one expected$/);
    await expectSameLedger(writer);
    await append(writer, step(product(2), 'after-changed-body'));
    await stop(writer);
  });

  it('refuses a snapshot whose note was cut short, and reads the whole partition', async () => {
    const { note } = await storedSnapshot();
    await dataSource.query('UPDATE ledger_snapshot SET note = $2 WHERE ledger_id = $1', [ledgerId, note.slice(0, -30)]);

    const { writer, events } = await start();
    await expectFullRead(events, /^the snapshot note: /);
    await expectSameLedger(writer);
    await append(writer, step(product(3), 'after-cut-note'));
    await stop(writer);
  });

  it('refuses a snapshot signed by another key, and reads the whole partition', async () => {
    const stored = await storedSnapshot();
    const ledgerKey = new CheckpointVerifier(signer.keyName, signer.publicKey);
    const checked = checkSnapshotNote({ body: stored.body, note: stored.note }, { ledgerId, partition: 0, verifier: ledgerKey });
    if ('problem' in checked) throw new Error(checked.problem);
    // The same checkpoint, a state of the forger's choosing, signed by a key of the same name that is not the ledger's.
    const forger = testSigner(99);
    expect(forger.keyName).toBe(signer.keyName);
    const forged = signSnapshot(forger, checked.checkpoint, { ...stored.body, stateRoot: 'cd'.repeat(32) });
    await dataSource.query('UPDATE ledger_snapshot SET body = $2, note = $3 WHERE ledger_id = $1', [
      ledgerId,
      JSON.stringify(forged.body),
      forged.note,
    ]);

    const { writer, events } = await start();
    await expectFullRead(events, /^the snapshot note: the signature is not by key id /);
    await expectSameLedger(writer);
    await append(writer, step(product(4), 'after-foreign-snapshot'));
    await stop(writer);
  });

  it('refuses a snapshot of another ledger, signed by the ledger key, and reads the whole partition', async () => {
    // A database restored from another installation that shares the key: its snapshot is
    // validly signed, but of another ledger.
    const stored = await storedSnapshot();
    const ledgerKey = new CheckpointVerifier(signer.keyName, signer.publicKey);
    const checked = checkSnapshotNote({ body: stored.body, note: stored.note }, { ledgerId, partition: 0, verifier: ledgerKey });
    if ('problem' in checked) throw new Error(checked.problem);
    const other = `${ledgerId}-elsewhere`;
    const foreign = signSnapshot(signer, checked.checkpoint, { ...stored.body, ledgerId: other });
    expect(checkSnapshotNote(foreign, { ledgerId: other, partition: 0, verifier: ledgerKey })).not.toHaveProperty('problem');
    await dataSource.query('UPDATE ledger_snapshot SET body = $2, note = $3 WHERE ledger_id = $1', [
      ledgerId,
      JSON.stringify(foreign.body),
      foreign.note,
    ]);

    const { writer, events } = await start();
    await expectFullRead(events, new RegExp(`^the snapshot is of ${other}/0, not ${ledgerId}/0$`));
    await expectSameLedger(writer);
    await append(writer, step(product(8), 'after-other-ledger'));
    await stop(writer);
  });

  it('refuses a snapshot whose tiles were deleted, and reads the whole partition', async () => {
    const deleted: unknown[] = await dataSource.query(
      'DELETE FROM ledger_tile WHERE ledger_id = $1 AND partition = 0 RETURNING level',
      [ledgerId],
    );
    expect(deleted.length).toBeGreaterThan(0);

    const { writer, events } = await start();
    await expectFullRead(events, /^the snapshot's tiles: tile \S+ does not hold \d+ hashes$/);
    await expectSameLedger(writer);
    await append(writer, step(product(9), 'after-deleted-tiles'));
    await stop(writer);
  });

  /** Changes the stored state value of an entity: its holder says `holder`, which the state tree does not commit to. */
  async function changeStateValue(entity: string, holder: string): Promise<void> {
    const key = Buffer.from(entityKey(entity), 'hex');
    const rows: { value: Buffer }[] = await dataSource.query(
      'SELECT value FROM ledger_state_value WHERE ledger_id = $1 AND partition = 0 AND key = $2',
      [ledgerId, key],
    );
    expect(rows).toHaveLength(1);
    const entry = JSON.parse(rows[0]!.value.toString('utf8')) as { state: string };
    expect(entry.state).toBe(holders.get(entity));
    const changed = Buffer.from(JSON.stringify({ ...entry, state: holder }));
    await dataSource.query('UPDATE ledger_state_value SET value = $3 WHERE ledger_id = $1 AND partition = 0 AND key = $2', [
      ledgerId,
      key,
      changed,
    ]);
  }

  it('refuses a snapshot whose state value of an entity in the tail was changed, and reads the whole partition', async () => {
    // The last start's snapshot is at its start; one step after it puts product 5 into the tail.
    const { writer: before } = await start();
    await append(before, step(product(5), 'in-the-tail'));
    const entity = product(5);
    await kill(before);
    // The snapshot's value, not the tail's: the holder before the step above.
    holders.set(entity, `holder-5-${STEPS - 1}`);
    await changeStateValue(entity, 'mallory');
    holders.set(entity, 'in-the-tail');

    // Verifying the tail reads the entity's entry from the store: it is not the one committed to.
    const { writer, events } = await start();
    await expectFullRead(events, /^the value of key [0-9a-f]{64} is not the one committed to$/);
    await expectSameLedger(writer);
    await stop(writer);
  });

  it('answers no read from a changed state value of an entity outside the tail: the partition is read again in full', async () => {
    const entity = product(6);
    await changeStateValue(entity, 'mallory');

    // Nothing after the snapshot names product 6: the start resumes, the value is not read yet.
    const { writer, events } = await start();
    expect(events).toEqual([{ kind: 'resumed', partition: 0, treeSize: (await audit()).total - 1, tail: 0 }]);
    // The first read of it finds the value is not the one committed to: no answer from it.
    const read = writer.statesOf([entity]);
    await expect(read).rejects.toBeInstanceOf(LedgerUnavailableError);
    await expect(read).rejects.toThrow(/the writer's state on disk does not verify \(the value of key [0-9a-f]{64} is not/);
    // The writer reads the whole partition again in the background, and then answers from it.
    const deadline = Date.now() + 30_000;
    while (writer.statuses()[0] !== 'open' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(writer.statuses()).toEqual(['open']);
    await expectFullRead(events.slice(1), /^the value of key [0-9a-f]{64} is not the one committed to$/);
    expect((await writer.statesOf([entity])).get(entity)).toBe(holders.get(entity));
    await expectSameLedger(writer);
    await append(writer, step(entity, 'after-changed-value'));
    await stop(writer);

    // The snapshots the full read and the clean stop took are ones the next start resumes from.
    const { writer: next, events: nextEvents } = await start();
    expect(resumedOf(nextEvents)).toMatchObject({ kind: 'resumed', tail: 0 });
    await expectSameLedger(next);
    await stop(next);
  });
  it('appends nothing on a changed state value a batch reads: the partition is read again in full, and a retry is recorded', async () => {
    const entity = product(7);
    await changeStateValue(entity, 'mallory');
    const { writer, events } = await start();
    expect(events).toEqual([{ kind: 'resumed', partition: 0, treeSize: (await audit()).total - 1, tail: 0 }]);
    const { total } = await audit();

    // The batch loads the entity's entry to draft the step: it does not verify, nothing is sent.
    const request = step(entity, 'carrier-7');
    const attempt = writer.append(request);
    await expect(attempt).rejects.toBeInstanceOf(LedgerUnavailableError);
    await expect(attempt).rejects.toThrow(/the value of key [0-9a-f]{64} is not the one committed to/);
    expect((await audit()).total).toBe(total);
    const deadline = Date.now() + 30_000;
    while (writer.statuses()[0] !== 'open' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(writer.statuses()).toEqual(['open']);
    await expectFullRead(events.slice(1), /^the value of key [0-9a-f]{64} is not the one committed to$/);

    // The retry is drafted on the state read from the topic.
    await append(writer, request);
    await expectSameLedger(writer);
    await stop(writer);
  });
  it('starts without waiting for a session that holds the snapshot row (a writer that lost the partition, paused in its commit), and stores its next snapshot once the row is let go', async () => {
    // Records after the stored snapshot: the next start verifies them and snapshots at its end.
    const { writer: first } = await start();
    for (let i = 0; i < 10; i++) await append(first, step(product(i % PRODUCTS), `paused-${i}`));
    await kill(first);
    // The writer that lost the partition, paused inside its snapshot commit: the row locked, nothing more.
    const paused = new pg.Client({ connectionString: database.url });
    await paused.connect();
    try {
      await paused.query('BEGIN');
      const locked = await paused.query<{ tree_size: string }>(
        'SELECT tree_size FROM ledger_snapshot WHERE ledger_id = $1 AND partition = 0 FOR UPDATE',
        [ledgerId],
      );
      const lockedSize = Number(locked.rows[0]!.tree_size);
      // Before, the start's snapshot waited for the row as long as the pause lasted: here, for ever.
      let timer: NodeJS.Timeout | undefined;
      const { writer, events } = await Promise.race([
        start(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            reject(new Error('the start waited for the held snapshot row'));
          }, 15_000);
        }),
      ]).finally(() => {
        clearTimeout(timer);
      });
      expect(events.map((event) => event.kind)).toEqual(['failed', 'resumed']);
      expect(events[0]).toMatchObject({ reason: expect.stringMatching(/another session holds the partition's snapshot row/) });
      expect(events[1]).toMatchObject({ kind: 'resumed', partition: 0, treeSize: lockedSize });
      expect((events[1] as { tail: number }).tail).toBeGreaterThan(0);
      await append(writer, step(product(0), 'while-paused'));
      await expectSameLedger(writer);
      await paused.query('ROLLBACK');
      // The row let go: the clean stop's snapshot at the head is stored, and the next start resumes from it.
      await stop(writer);
      expect((await storedSnapshot()).treeSize).toBe((await audit()).total - 1);
      const { writer: next, events: nextEvents } = await start();
      expect(resumedOf(nextEvents)).toMatchObject({ kind: 'resumed', tail: 0 });
      await expectSameLedger(next);
      await stop(next);
    } finally {
      await paused.end().catch(() => undefined);
    }
  });
  it('ends the session of a snapshot commit whose process stopped inside it: the row is let go while the process is still stopped', async () => {
    const stored = await storedSnapshot();
    const takenAt = async (): Promise<string | undefined> => {
      const rows: { at: string }[] = await dataSource.query(
        'SELECT taken_at::text AS at FROM ledger_snapshot WHERE ledger_id = $1 AND partition = 0',
        [ledgerId],
      );
      return rows[0]?.at;
    };
    const before = await takenAt();
    // The writer that holds the partition now, in a process of its own: 2 s from now it asks for
    // the snapshot row and waits up to 3 s for it, while this process stands still.
    const taker = spawn(process.execPath, ['-e', TAKE_THE_ROW], {
      env: { ...process.env, TAKE_URL: database.url, TAKE_LEDGER: ledgerId },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let answer = '';
    taker.stdout.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    taker.stderr.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const exited = new Promise<void>((resolve) => {
      taker.on('exit', () => {
        resolve();
      });
    });
    await new Promise<void>((resolve) => {
      taker.on('spawn', () => {
        resolve();
      });
    });
    // This process stops inside its commit, holding the row: the whole thread stands still for
    // 9 s (Atomics.wait), as a process stopped by SIGSTOP or a paused VM does.
    const store = new PostgresSnapshotStore(dataSource, ledgerId, { idleTimeoutMs: 1_000 }).partition(0);
    const stopping = new StoppingMap(9_000);
    const commit = store.commit(
      stored.treeSize,
      { nodes: stopping, values: new Map(), tiles: [], records: [] },
      { body: stored.body, note: stored.note },
    );
    const outcome = commit.then(
      (value) => ({ value }),
      (error: unknown) => ({ error: String(error) }),
    );
    // The other process took the row while this one stood still.
    await exited;
    expect(answer.trim()).toMatch(/^took the row at \d+$/);
    const takenAtMs = Number(answer.trim().slice('took the row at '.length));
    expect(stopping.stop.from).toBeGreaterThan(0);
    expect(takenAtMs).toBeGreaterThan(stopping.stop.from);
    expect(takenAtMs).toBeLessThan(stopping.stop.to);
    // PostgreSQL ended the stopped session: the commit, running again, finds it gone and writes nothing.
    expect(await outcome).toEqual({ error: expect.stringMatching(/idle-in-transaction|terminat/i) });
    expect(await takenAt()).toBe(before);
    // And the store goes on: the same snapshot written again, with no stop, is written.
    const again = await new PostgresSnapshotStore(dataSource, ledgerId, { idleTimeoutMs: 1_000 })
      .partition(0)
      .commit(
        stored.treeSize,
        { nodes: new Map(), values: new Map(), tiles: [], records: [] },
        { body: stored.body, note: stored.note },
      );
    expect(again).toBe('written');
  });
});

/** Another process taking the partition's snapshot row (TAKE_URL, TAKE_LEDGER): says whether it got it, and when. */
const TAKE_THE_ROW = `
const pg = require('pg');
(async () => {
  const started = Date.now();
  const client = new pg.Client({ connectionString: process.env.TAKE_URL });
  await client.connect();
  await new Promise((resolve) => setTimeout(resolve, 2000 - (Date.now() - started)));
  await client.query('BEGIN');
  await client.query("SET LOCAL lock_timeout = '3s'");
  try {
    await client.query('SELECT tree_size FROM ledger_snapshot WHERE ledger_id = $1 AND partition = 0 FOR UPDATE', [process.env.TAKE_LEDGER]);
    console.log('took the row at ' + Date.now());
  } catch (error) {
    console.log('did not take the row: ' + error.message);
  }
  await client.query('ROLLBACK');
  await client.end();
})();
`;

/** Nodes whose first reading stops the whole thread for a while (as SIGSTOP stops a process): the commit stands still holding what it holds. */
class StoppingMap extends Map<string, Uint8Array | null> {
  private stopped = false;
  /** When the thread stood still, and when it ran again (ms since the epoch). */
  readonly stop = { from: 0, to: 0 };

  constructor(private readonly stopMs: number) {
    super();
  }

  override [Symbol.iterator](): MapIterator<[string, Uint8Array | null]> {
    if (!this.stopped) {
      this.stopped = true;
      this.stop.from = Date.now();
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, this.stopMs);
      this.stop.to = Date.now();
    }
    return super[Symbol.iterator]();
  }
}

import { describe, expect, it } from '@jest/globals';
import { MemoryGenesisPins, MemoryPartitionLog, sequentialIds, steppingClock } from '../../test/support/memory-ledger.js';
import { CheckpointSigner, type SignedCheckpoint } from './checkpoint-note.js';
import type { AppendRequest, EntityStateModel } from './ledger-record.js';
import { MemoryPartitionSnapshots } from './memory-snapshots.js';
import type { SnapshotEvent } from './partition-recovery.js';
import type { SnapshotCommit } from './ports.js';
import { entityKey } from './partition-state.js';
import { PartitionWriter } from './partition-writer.js';
import { decodeRecord } from './record-codec.js';
import { signSnapshot, snapshotHash } from './writer-snapshot.js';

const signer = new CheckpointSigner(
  'custodian/unit',
  Uint8Array.from({ length: 32 }, (_, i) => 100 + i),
);
const forger = new CheckpointSigner(
  'custodian/unit',
  Uint8Array.from({ length: 32 }, (_, i) => 200 - i),
);

/** Counts each entity's records: a state that shows whether every record was folded once. */
const counting: EntityStateModel = { evolve: (state) => ((state as number | undefined) ?? 0) + 1 };

const ids = sequentialIds(9);
const request = (entity: string, n: number, eventId = ids()): AppendRequest => ({
  eventId,
  eventType: 'custody.handover',
  entityIds: [entity],
  occurredAt: '2026-11-26T07:00:00Z',
  actor: 'operator-1',
  payload: { n, requestDigest: `digest-${eventId}` },
});

function writer(
  log: MemoryPartitionLog,
  snapshots: MemoryPartitionSnapshots,
  pins: MemoryGenesisPins,
  events: SnapshotEvent[] = [],
  caches: {
    stateCacheEntries?: number;
    stateCacheNodes?: number;
    snapshotBacklog?: number;
    snapshotBacklogWaitMs?: number;
    snapshotIntervalMs?: number;
    snapshotRecords?: number;
  } = {},
) {
  return new PartitionWriter({
    ledgerId: 'unit',
    partition: 0,
    partitions: 1,
    signer,
    log,
    pins,
    clock: steppingClock(),
    maxBatch: 7,
    newEventId: sequentialIds(1),
    stateModel: counting,
    snapshots,
    snapshotRecords: 20,
    stateCacheEntries: 8,
    ...caches,
    onSnapshot: (event) => events.push(event),
  });
}

/**
 * A writer with a backlog of 40 records and 30 records committed (a snapshot taken), whose next
 * snapshot's commit does not end until `gate.open()`; `gate.held()` waits until one is held.
 */
async function backloggedWriter() {
  const snapshots = new MemoryPartitionSnapshots(0);
  const w = writer(new MemoryPartitionLog(), snapshots, new MemoryGenesisPins(), [], { snapshotBacklog: 40 });
  await w.start();
  for (let i = 0; i < 30; i++) await w.append(request(`product-${i % 10}`, i));
  expect(snapshots.snapshot).not.toBeNull();
  const commit = snapshots.commit.bind(snapshots);
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const gate = {
    commits: 0,
    open: () => {
      open();
    },
    /** Until a commit is held, and the batches that go on meanwhile have gone. */
    async held() {
      for (let i = 0; i < 1000 && gate.commits === 0; i++) await new Promise((resolve) => setTimeout(resolve, 2));
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
  };
  snapshots.commit = async (...args) => {
    gate.commits += 1;
    await opened;
    return commit(...args);
  };
  return { w, gate };
}

/** A ledger of 300 records over 30 entities, written in batches of at most 7, with snapshots every 20 records or so. */
async function written() {
  const log = new MemoryPartitionLog();
  const snapshots = new MemoryPartitionSnapshots(0);
  const pins = new MemoryGenesisPins();
  const w = writer(log, snapshots, pins);
  await w.start();
  const eventIds: string[] = [];
  for (let round = 0; round < 10; round++) {
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        const eventId = ids();
        eventIds.push(eventId);
        return w.append(request(`product-${i}`, round, eventId));
      }),
    );
  }
  await w.close();
  return { log, snapshots, pins, eventIds, head: w.headOrNull() };
}

describe('writer snapshots', () => {
  it('keep the idempotency of the batch a snapshot was taken at: a restart from it answers a retry of that batch with its receipts', async () => {
    const log = new MemoryPartitionLog();
    const snapshots = new MemoryPartitionSnapshots(0);
    const pins = new MemoryGenesisPins();
    const first = writer(log, snapshots, pins);
    await first.start();
    // Genesis and its checkpoint, then 17 records and a checkpoint: 20 records, a snapshot due at this very batch.
    const group = Array.from({ length: 17 }, (_, i) => ({
      ...request(`product-${i}`, i),
      payload: { n: i, requestDigest: 'one-request' },
    }));
    const receipts = await first.appendAll(group);
    await first.close();
    expect((await snapshots.latest())?.body.treeSize).toBe(19);

    const second = writer(log, snapshots, pins);
    await second.start();
    expect(
      await second.recorded(
        group.map((r) => r.eventId),
        'one-request',
      ),
    ).toEqual(receipts);
    // A retry is answered from the ledger, not recorded again.
    expect(await second.appendAll(group)).toEqual(receipts);
    expect(log.entries).toHaveLength(20);
    await second.close();
  });

  it('let a restart read only the tail after the newest snapshot, and go on with the same head, states and index', async () => {
    const { log, snapshots, pins, eventIds, head } = await written();
    expect(snapshots.commits).toBeGreaterThan(5);
    // A clean close took a last snapshot at the head: a start after it verifies no record.
    expect(snapshots.snapshot!.body.treeSize).toBe(log.entries.length - 1);
    const atClose: SnapshotEvent[] = [];
    const clean = writer(log, snapshots, pins, atClose);
    expect((await clean.start())?.headHash).toBe(head?.headHash);
    expect(atClose).toEqual([{ kind: 'resumed', partition: 0, treeSize: log.entries.length - 1, tail: 0 }]);
    // Records written after it by a process that is then killed (no close, no last snapshot).
    for (let i = 0; i < 3; i++) await clean.append(request(`product-${i}`, 10));
    const killedHead = clean.headOrNull();
    const stored = snapshots.snapshot!;
    expect(stored.body.treeSize).toBeLessThan(log.entries.length - 1);

    const events: SnapshotEvent[] = [];
    const again = writer(log, snapshots, pins, events);
    const resumed = await again.start();
    const resumedAt = events.find((event) => event.kind === 'resumed');
    expect(resumedAt).toMatchObject({ treeSize: stored.body.treeSize });
    // Only the records after the snapshot's checkpoint were read and verified.
    expect((resumedAt as { tail: number }).tail).toBe(log.entries.length - stored.body.treeSize - 1);
    expect((resumedAt as { tail: number }).tail).toBeGreaterThan(0);
    expect(resumed?.headHash).toBe(killedHead?.headHash);
    expect(resumed?.tree.root()).toBe(killedHead?.tree.root());
    // Every entity's state folded every one of its records once, across snapshots and the tail.
    const states = await again.committedStates(Array.from({ length: 30 }, (_, i) => `product-${i}`));
    expect([...states.values()]).toEqual(Array.from({ length: 30 }, (_, i) => (i < 3 ? 11 : 10)));
    // A request recorded before the snapshot is answered from the index on disk, not recorded again.
    const first = eventIds[0]!;
    const receipts = await again.recorded([first], `digest-${first}`);
    expect(receipts?.[0]?.sequence).toBe(2);
    const retried = await again.append(request('product-0', 0, first));
    expect(retried.sequence).toBe(2);
    // And it goes on: the next record of product-3 links to its last one.
    const next = await again.append(request('product-3', 99));
    expect(next.sequence).toBe(resumed!.nextSequence);
    await again.close();
  });

  it('refuse a snapshot signed by another key, and the writer reads the whole partition instead', async () => {
    const { log, snapshots, pins, head } = await written();
    const stored = snapshots.snapshot!;
    const { record } = decodeRecord(log.entries[Number(stored.body.checkpointOffset)]!.entry.value);
    snapshots.snapshot = signSnapshot(forger, record.payload as unknown as SignedCheckpoint, stored.body);
    const events: SnapshotEvent[] = [];
    const again = writer(log, snapshots, pins, events);
    expect((await again.start())?.headHash).toBe(head?.headHash);
    expect(events[0]).toMatchObject({
      kind: 'refused',
      reason: expect.stringMatching(/snapshot note: the signature is not by key id/),
    });
    expect(events.some((event) => event.kind === 'taken')).toBe(true);
    await again.close();
  });

  it('refuse a snapshot whose body was changed, or cut short, or that names another record', async () => {
    const { log, snapshots, pins } = await written();
    const stored = snapshots.snapshot!;
    const cases = [
      {
        body: { ...stored.body, stateRoot: '00'.repeat(32) },
        why: /snapshot note: the signed note text is not the one expected/,
      },
      { body: { ...stored.body, frontier: stored.body.frontier.slice(1) }, why: /snapshot note/ },
      { body: { ...stored.body, checkpointOffset: '5' }, why: /is not the snapshot's checkpoint/ },
    ];
    for (const { body, why } of cases) {
      snapshots.snapshot = { body, note: stored.note };
      const events: SnapshotEvent[] = [];
      const again = writer(log, snapshots, pins, events);
      await again.start();
      expect(again.status).toBe('open');
      expect(events[0]).toMatchObject({ kind: 'refused', reason: expect.stringMatching(why) });
      await again.close();
    }
    // A note cut short.
    snapshots.snapshot = { body: stored.body, note: stored.note.slice(0, -20) };
    const events: SnapshotEvent[] = [];
    await writer(log, snapshots, pins, events).start();
    expect(events[0]).toMatchObject({ kind: 'refused' });
    expect(snapshotHash(stored.body)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuse a snapshot of a topic that was rewritten after it: a checkpoint the topic no longer holds', async () => {
    const { log, snapshots, pins } = await written();
    const stored = snapshots.snapshot!;
    // The topic lost its last records (restored from an older backup than PostgreSQL).
    const kept = log.entries.slice(0, Number(stored.body.checkpointOffset) - 3);
    const older = new MemoryPartitionLog();
    for (const { entry } of kept) older.entries.push({ offset: String(older.entries.length), entry });
    const events: SnapshotEvent[] = [];
    const again = writer(older, snapshots, pins, events);
    await again.start();
    expect(events[0]).toMatchObject({
      kind: 'refused',
      reason: expect.stringMatching(/no record at offset|not the snapshot's checkpoint/),
    });
    // The partition read in full ends where the kept records end; it does not verify (the last
    // batch is cut in two), so the writer refuses to extend it.
    expect(again.status).toBe('failed');
  });

  it('read the whole partition when the state on disk is not what the snapshot commits to', async () => {
    const { log, snapshots, pins } = await written();
    // An entity's value changed on disk: its leaf no longer matches it.
    const key = entityKey('product-4');
    snapshots.valueRows.set(key, new TextEncoder().encode('{"count":99,"head":"00","last":1,"state":99}'));
    const events: SnapshotEvent[] = [];
    const again = writer(log, snapshots, pins, events);
    await again.start();
    // Nothing in the tail named product-4: the change is found when a batch reads it.
    const receipt = again.append(request('product-4', 100));
    await expect(receipt).rejects.toThrow(/does not verify|not the one committed to/);
    for (let i = 0; i < 200 && again.status !== 'open'; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(events.some((event) => event.kind === 'refused')).toBe(true);
    expect((await again.committedStates(['product-4'])).get('product-4')).toBe(10);
    await again.close();
  });

  it('read a state again when a snapshot commits under the read: the store holds its new nodes before the writer moves to them', async () => {
    const log = new MemoryPartitionLog();
    const snapshots = new MemoryPartitionSnapshots(0);
    // Almost nothing in memory: states and tree nodes are read from the store.
    const w = writer(log, snapshots, new MemoryGenesisPins(), [], { stateCacheEntries: 1, stateCacheNodes: 1 });
    await w.start();
    for (let i = 0; i < 30; i++) await w.append(request(`product-${i}`, i));
    expect(snapshots.snapshot).not.toBeNull();
    // The next commit replaces the rows at once (as PostgreSQL commits) and its answer is held.
    const commit = snapshots.commit.bind(snapshots);
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const held = { commits: 0 };
    snapshots.commit = async (...args) => {
      const done = await commit(...args);
      held.commits += 1;
      await gate;
      return done;
    };
    // Appends until a snapshot's commit is held; they are not awaited: those that read a state
    // from the store now wait for the commit to end.
    const appends: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      if (held.commits > 0) break;
      appends.push(w.append(request(`product-${i % 3}`, 100 + i)));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(held.commits).toBe(1);
    // Products 10 to 29 are in no layer and no cache: their states are read from the store now.
    appends.push(...Array.from({ length: 20 }, (_, i) => w.append(request(`product-${10 + i}`, 200 + i))));
    await new Promise((resolve) => setTimeout(resolve, 20));
    open();
    await Promise.all(appends);
    const states = await w.committedStates(Array.from({ length: 20 }, (_, i) => `product-${10 + i}`));
    expect([...states.values()]).toEqual(Array.from({ length: 20 }, () => 2));
    await w.close();
  });

  it('hold appends while the snapshot being written falls a backlog behind, and lose none of them once it is written', async () => {
    const { w, gate } = await backloggedWriter();
    const before = w.stats.appends;
    const appends = Array.from({ length: 200 }, (_, i) => w.append(request(`product-${i % 10}`, 100 + i)));
    await gate.held();
    expect(gate.commits).toBe(1);
    // At most the backlog, the batch that reached it and the one drafted meanwhile (7 each, and their checkpoints).
    const held = w.stats.appends - before;
    expect(held).toBeLessThanOrEqual(40 + 2 * 8);
    expect(held).toBeGreaterThan(0);
    gate.open();
    await Promise.all(appends);
    expect(w.stats.appends - before).toBe(200);
    const states = await w.committedStates(Array.from({ length: 10 }, (_, i) => `product-${i}`));
    expect([...states.values()]).toEqual(Array.from({ length: 10 }, () => 23));
    await w.close();
  });

  it('send no batch that waited for the snapshot backlog once the writer stopped taking appends: it is refused, not recorded', async () => {
    const { w, gate } = await backloggedWriter();
    const before = w.stats.appends;
    const outcomes = Array.from({ length: 200 }, (_, i) =>
      w.append(request(`product-${i % 10}`, 100 + i)).then(
        () => 'recorded',
        () => 'refused',
      ),
    );
    await gate.held();
    // A batch waits for the snapshot now; the writer closes meanwhile.
    const held = w.stats.appends - before;
    const closing = w.close({ snapshot: false });
    gate.open();
    await closing;
    const settled = await Promise.all(outcomes);
    expect(w.stats.appends - before).toBe(held);
    expect(settled.filter((outcome) => outcome === 'recorded')).toHaveLength(held);
    expect(settled.filter((outcome) => outcome === 'refused')).toHaveLength(200 - held);
  });

  it('go on without a snapshot that does not end: appends wait for it once, at most the given time', async () => {
    const snapshots = new MemoryPartitionSnapshots(0);
    const w = writer(new MemoryPartitionLog(), snapshots, new MemoryGenesisPins(), [], {
      snapshotBacklog: 40,
      snapshotBacklogWaitMs: 100,
    });
    await w.start();
    for (let i = 0; i < 30; i++) await w.append(request(`product-${i % 10}`, i));
    // The next snapshot's commit never ends (a database that does not answer).
    let commits = 0;
    snapshots.commit = () => {
      commits += 1;
      return new Promise<SnapshotCommit>(() => undefined);
    };
    const before = w.stats.appends;
    await Promise.all(Array.from({ length: 200 }, (_, i) => w.append(request(`product-${i % 10}`, 100 + i))));
    expect(commits).toBe(1);
    expect(w.stats.appends - before).toBe(200);
    // close() waits for the snapshot at most 10 s (CLOSING_SNAPSHOT_WAIT_MS): not here.
    void w.close({ snapshot: false });
  });

  it('take a snapshot of the last records once the interval has passed, though no batch comes after them', async () => {
    const snapshots = new MemoryPartitionSnapshots(0);
    const w = writer(new MemoryPartitionLog(), snapshots, new MemoryGenesisPins(), [], { snapshotIntervalMs: 1_000 });
    await w.start();
    // Fewer records than a snapshot takes (20), at once: no snapshot is due when they are committed.
    await Promise.all(Array.from({ length: 5 }, (_, i) => w.append(request(`product-${i}`, i))));
    const head = w.headOrNull()?.lastCheckpoint?.treeSize;
    expect(head).toBeGreaterThan(5);
    expect(snapshots.snapshot?.body.treeSize ?? null).not.toBe(head);
    for (let i = 0; i < 100 && snapshots.snapshot?.body.treeSize !== head; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(snapshots.snapshot?.body.treeSize).toBe(head);
    await w.close();
  });

  it('lose nothing when a snapshot cannot be written: the next one takes what it would have', async () => {
    const log = new MemoryPartitionLog();
    const snapshots = new MemoryPartitionSnapshots(0);
    const pins = new MemoryGenesisPins();
    const events: SnapshotEvent[] = [];
    const w = writer(log, snapshots, pins, events);
    await w.start();
    const commit = snapshots.commit.bind(snapshots);
    let failing = true;
    snapshots.commit = (...args) => (failing ? Promise.reject(new Error('the database went away')) : commit(...args));
    for (let i = 0; i < 60; i++) await w.append(request(`product-${i % 6}`, i));
    expect(events.some((event) => event.kind === 'failed')).toBe(true);
    expect(snapshots.snapshot).toBeNull();
    failing = false;
    for (let i = 0; i < 30; i++) await w.append(request(`product-${i % 6}`, 100 + i));
    await w.close();
    expect(snapshots.snapshot?.body.treeSize).toBeGreaterThan(100);
    const again = writer(log, snapshots, pins);
    await again.start();
    const states = await again.committedStates(Array.from({ length: 6 }, (_, i) => `product-${i}`));
    expect([...states.values()]).toEqual(Array.from({ length: 6 }, () => 15));
    await again.close();
  });

  it.each([
    ['the default caches', {}, 'genuine', 'steps'],
    // Every lookup of the new writer reads the store, where the old writer's commit replaced nodes under its base's root.
    ['caches of one entry and one node', { stateCacheEntries: 1, stateCacheNodes: 1 }, 'genuine', 'steps'],
    // The first read after it is the new writer's snapshot's, at its close.
    [
      'caches of one entry and one node, closed as soon as that snapshot is stored',
      { stateCacheEntries: 1, stateCacheNodes: 1 },
      'genuine',
      'close',
    ],
    [
      'caches of one entry and one node, the stored snapshot signed by another key',
      { stateCacheEntries: 1, stateCacheNodes: 1 },
      'forged',
      'steps',
    ],
    [
      'caches of one entry and one node, the stored snapshot signed by the writer key but naming a checkpoint not in its chain',
      { stateCacheEntries: 1, stateCacheNodes: 1 },
      'foreign',
      'steps',
    ],
  ] as const)(
    'start without waiting for a writer that lost the partition and is paused in its snapshot commit, and write over the smaller snapshot it stores later (%s)',
    async (_, caches, signed, then) => {
      const log = new MemoryPartitionLog();
      const snapshots = new MemoryPartitionSnapshots(0);
      const pins = new MemoryGenesisPins();
      const steps = new Map<string, number>();
      const step = async (w: PartitionWriter, entity: string, n: number) => {
        await w.append(request(entity, n));
        steps.set(entity, (steps.get(entity) ?? 0) + 1);
      };
      const old = writer(log, snapshots, pins);
      await old.start();
      for (let i = 0; i < 30; i++) await step(old, `product-${i % 6}`, i);
      const base = snapshots.snapshot!.body.treeSize;
      // The old writer's next commit is held (paused in it); commits asked meanwhile find the rows held ('busy').
      const commit = snapshots.commit.bind(snapshots);
      let resume: () => void = () => undefined;
      const resumed = new Promise<void>((resolve) => {
        resume = resolve;
      });
      const pause: { at: number | null } = { at: null };
      const commits: { treeSize: number; outcome: SnapshotCommit }[] = [];
      snapshots.commit = async (...args) => {
        const treeSize = args[2].body.treeSize;
        if (pause.at === null) {
          pause.at = treeSize;
          await resumed;
        } else if (commits.every((c) => c.treeSize !== pause.at)) {
          commits.push({ treeSize, outcome: 'busy' });
          return 'busy';
        }
        const outcome = await commit(...args);
        commits.push({ treeSize, outcome });
        return outcome;
      };
      for (let i = 0; i < 30 && pause.at === null; i++) await step(old, `product-${i % 6}`, 100 + i);
      expect(pause.at).not.toBeNull();
      const paused = pause.at!;

      // The new writer reads the tail after the stored snapshot; its snapshot at the end is deferred, its start is not.
      const events: SnapshotEvent[] = [];
      const next = writer(log, snapshots, pins, events, caches);
      await next.start();
      expect(commits).toEqual([{ treeSize: expect.any(Number), outcome: 'busy' }]);
      expect(events.map((event) => event.kind)).toEqual(['failed', 'resumed']);
      expect(events[0]).toMatchObject({ reason: expect.stringMatching(/another session holds the partition's snapshot row/) });
      for (let i = 0; i < 5; i++) await step(next, `product-${i}`, 200 + i);

      // The old writer's commit ends: its snapshot, of a tree between the new writer's base and its head, is stored.
      resume();
      for (let i = 0; i < 100 && commits.every((c) => c.treeSize !== pause.at); i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(commits.find((c) => c.treeSize === paused)).toEqual({ treeSize: paused, outcome: 'written' });
      expect(paused).toBeGreaterThan(base);
      expect(paused).toBeLessThan(next.headOrNull()!.lastCheckpoint!.treeSize);
      if (signed !== 'genuine') {
        // Nodes as the old writer stored them, under a note not signed by the writer key, or over a
        // checkpoint that is not the one this chain holds at that tree size: the new writer does not
        // go on from it. Its read under its base's root fails on the replaced nodes, the append is
        // refused (nothing recorded), and the partition is read again in full.
        const stored = snapshots.snapshot!;
        const { record } = decodeRecord(log.entries[Number(stored.body.checkpointOffset)]!.entry.value);
        const checkpoint = record.payload as unknown as SignedCheckpoint;
        snapshots.snapshot =
          signed === 'forged'
            ? signSnapshot(forger, checkpoint, stored.body)
            : signSnapshot(signer, checkpoint, { ...stored.body, checkpointHash: 'ab'.repeat(32) });
        const records = log.entries.length;
        await expect(step(next, 'product-7', 299)).rejects.toThrow(/is not the one committed to/);
        expect(log.entries.length).toBe(records);
        // The writer reads the partition back in full, then takes appends again.
        for (let i = 0; i < 400 && next.status !== 'open'; i++) await new Promise((resolve) => setTimeout(resolve, 5));
        expect(next.status).toBe('open');
      }
      // The new writer's snapshots are written over it (before, it found another snapshot and took
      // none again), and its reads of the store go on from that snapshot's root: before, they were
      // held against its base's root, failed on the nodes that commit replaced, and the partition
      // was read again in full.
      if (then === 'steps') for (let i = 0; i < 40; i++) await step(next, `product-${i % 9}`, 300 + i);
      await next.close();
      const refused = events.filter((event) => event.kind === 'refused');
      const adopted = events.filter((event) => event.kind === 'adopted');
      if (signed !== 'genuine') {
        expect(refused).toEqual([
          { kind: 'refused', partition: 0, reason: expect.stringMatching(/is not the one committed to/) },
        ]);
        expect(adopted).toEqual([]);
      } else {
        expect(refused).toEqual([]);
        // With the default caches the new writer's reads are answered from nodes it read under its base's root.
        expect(adopted).toEqual('stateCacheNodes' in caches ? [{ kind: 'adopted', partition: 0, treeSize: paused }] : []);
      }
      expect(events.filter((event) => event.kind === 'resumed')).toHaveLength(1);
      const head = next.headOrNull()!.lastCheckpoint!.treeSize;
      const after = commits.slice(commits.findIndex((c) => c.treeSize === paused) + 1);
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((c) => c.outcome === 'written' && c.treeSize > paused)).toBe(true);
      expect(snapshots.snapshot!.body.treeSize).toBe(head);

      // A start from it resumes with no tail, and every state it reads verifies against its root.
      const starts: SnapshotEvent[] = [];
      const again = writer(log, snapshots, pins, starts);
      await again.start();
      expect(starts).toEqual([{ kind: 'resumed', partition: 0, treeSize: head, tail: 0 }]);
      const states = await again.committedStates([...steps.keys()]);
      expect(Object.fromEntries(states)).toEqual(Object.fromEntries(steps));
      await again.close();
      await old.close({ snapshot: false });
    },
  );
  it('sign no snapshot of its own where the state moved on to a stored one at or past its checkpoint, and write over it at its next', async () => {
    const log = new MemoryPartitionLog();
    const snapshots = new MemoryPartitionSnapshots(0);
    const pins = new MemoryGenesisPins();
    // Snapshots only when asked: one after 20 steps, the next at the close.
    const old = writer(log, snapshots, pins, [], { snapshotRecords: 1_000_000, snapshotIntervalMs: 3_600_000 });
    await old.start();
    for (let i = 0; i < 20; i++) await old.append(request(`product-${i % 6}`, i));
    await old.snapshotNow();
    for (let i = 20; i < 30; i++) await old.append(request(`product-${i % 6}`, i));
    const base = snapshots.snapshot!.body.treeSize;
    const head = old.headOrNull()!.lastCheckpoint!.treeSize;
    expect(head).toBeGreaterThan(base);

    // The old writer's closing snapshot, at its head, is held in its commit; commits asked meanwhile find the row held.
    const commit = snapshots.commit.bind(snapshots);
    const commits: { treeSize: number; outcome: SnapshotCommit }[] = [];
    let resume: () => void = () => undefined;
    const resumed = new Promise<void>((resolve) => {
      resume = resolve;
    });
    const held: { at: number | null } = { at: null };
    let reached: () => void = () => undefined;
    const heldNow = new Promise<void>((resolve) => {
      reached = resolve;
    });
    snapshots.commit = async (...args) => {
      const treeSize = args[2].body.treeSize;
      if (held.at === null) {
        held.at = treeSize;
        reached();
        await resumed;
      } else if (commits.length === 0) {
        commits.push({ treeSize, outcome: 'busy' });
        return 'busy';
      }
      const outcome = await commit(...args);
      commits.push({ treeSize, outcome });
      return outcome;
    };
    const closing = old.close();
    await heldNow;
    expect(held.at).toBe(head);

    // The new writer reads the tail to the same head; its snapshot there finds the row held.
    const events: SnapshotEvent[] = [];
    const next = writer(log, snapshots, pins, events, { stateCacheEntries: 1, stateCacheNodes: 1 });
    await next.start();
    expect(next.headOrNull()!.lastCheckpoint!.treeSize).toBe(head);
    expect(commits).toEqual([{ treeSize: head, outcome: 'busy' }]);

    // The old writer's commit ends: the snapshot stored is at the new writer's own checkpoint.
    resume();
    await closing;
    expect(commits.at(-1)).toEqual({ treeSize: head, outcome: 'written' });
    const stored = snapshots.snapshot!;

    // The new writer's next snapshot reads under its base's root, meets the replaced nodes, and
    // goes on from the stored snapshot; signing its own at the same checkpoint over a tree built
    // from the other would mix the two: it is deferred, and nothing is written.
    await next.snapshotNow();
    expect(events.filter((event) => event.kind !== 'resumed')).toEqual([
      { kind: 'failed', partition: 0, reason: expect.stringMatching(/another session holds the partition's snapshot row/) },
      { kind: 'adopted', partition: 0, treeSize: head },
      { kind: 'failed', partition: 0, reason: expect.stringMatching(/the one stored is of a tree at least as large/) },
    ]);
    expect(commits).toHaveLength(2);
    expect(snapshots.snapshot).toBe(stored);

    // Its next snapshot, past that checkpoint, is written over the stored one, and a start from it verifies.
    for (let i = 0; i < 25; i++) await next.append(request(`product-${i % 6}`, 100 + i));
    await next.close();
    const last = next.headOrNull()!.lastCheckpoint!.treeSize;
    const later = commits.slice(2);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((c) => c.outcome === 'written' && c.treeSize > head)).toBe(true);
    expect(later.at(-1)).toEqual({ treeSize: last, outcome: 'written' });
    expect(snapshots.snapshot!.body.treeSize).toBe(last);
    const starts: SnapshotEvent[] = [];
    const again = writer(log, snapshots, pins, starts);
    await again.start();
    expect(starts).toEqual([{ kind: 'resumed', partition: 0, treeSize: last, tail: 0 }]);
    const states = await again.committedStates(Array.from({ length: 6 }, (_, i) => `product-${i}`));
    expect([...states.values()]).toEqual(Array.from({ length: 6 }, (_, i) => 5 + (i < 1 ? 5 : 4)));
    await again.close();
  });

  it('try a snapshot whose row another session holds once a snapshot interval, not once a chunk, while a start reads a long tail', async () => {
    const log = new MemoryPartitionLog();
    const snapshots = new MemoryPartitionSnapshots(0);
    const pins = new MemoryGenesisPins();
    const old = writer(log, snapshots, pins);
    await old.start();
    for (let i = 0; i < 30; i++) await old.append(request(`product-${i % 6}`, i));
    expect(snapshots.snapshot).not.toBeNull();
    await old.close({ snapshot: false });
    // A tail of about 5,700 records after the snapshot, by a writer due no snapshot in it.
    const tailWriter = writer(log, snapshots, pins, [], { snapshotRecords: 1_000_000, snapshotIntervalMs: 3_600_000 });
    await tailWriter.start();
    for (let n = 0; n < 5_000; n += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => tailWriter.append(request(`product-${i % 40}`, 100 + n + i))));
    }
    await tailWriter.close({ snapshot: false });
    // From here the row is held: every commit is deferred.
    let tries = 0;
    snapshots.commit = () => {
      tries += 1;
      return Promise.resolve('busy');
    };
    // The start reads the tail in chunks of 2,000 records and is due a snapshot every 2,500.
    const events: SnapshotEvent[] = [];
    const next = writer(log, snapshots, pins, events, { snapshotRecords: 2_500 });
    await next.start();
    const tail = (events.at(-1) as { tail: number }).tail;
    expect(tail).toBeGreaterThan(5_000);
    expect(tail).toBeLessThan(6_500);
    // Due after the second chunk and deferred; not tried again after the third, nor at the end.
    expect(tries).toBe(1);
    expect(events.map((event) => event.kind)).toEqual(['failed', 'resumed']);
    await next.close({ snapshot: false });
  }, 30_000);
  it('try again a snapshot whose row another session holds once a snapshot interval of records later, not after every batch', async () => {
    const snapshots = new MemoryPartitionSnapshots(0);
    const events: SnapshotEvent[] = [];
    const w = writer(new MemoryPartitionLog(), snapshots, new MemoryGenesisPins(), events);
    await w.start();
    let tries = 0;
    snapshots.commit = () => {
      tries += 1;
      return Promise.resolve('busy');
    };
    // 200 batches of one step and its checkpoint: 400 records, a snapshot due every 20.
    for (let i = 0; i < 200; i++) await w.append(request(`product-${i % 6}`, i));
    expect(tries).toBeGreaterThanOrEqual(15);
    expect(tries).toBeLessThanOrEqual(21);
    expect(events.filter((event) => event.kind === 'failed')).toHaveLength(tries);
    await w.close({ snapshot: false });
  });
  it('take the records of a deferred snapshot at a clean close, though no batch came after it', async () => {
    const snapshots = new MemoryPartitionSnapshots(0);
    const events: SnapshotEvent[] = [];
    const w = writer(new MemoryPartitionLog(), snapshots, new MemoryGenesisPins(), events);
    await w.start();
    const commit = snapshots.commit.bind(snapshots);
    let tries = 0;
    snapshots.commit = () => {
      tries += 1;
      return Promise.resolve('busy');
    };
    // One batch at a time, each given the time to start its snapshot: none comes after the deferral.
    for (let i = 0; i < 100 && tries === 0; i++) {
      await w.append(request(`product-${i % 6}`, i));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(tries).toBe(1);
    expect(snapshots.snapshot).toBeNull();
    // The row let go; the writer stops cleanly with nothing appended since the deferral.
    snapshots.commit = commit;
    await w.close();
    expect(snapshots.snapshot?.body.treeSize).toBe(w.headOrNull()?.lastCheckpoint?.treeSize);
  });
});

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MemoryGenesisPins, MemoryPartitionLog, sequentialIds, steppingClock } from '../../test/support/memory-ledger.js';
import { ChainVerifier } from './chain-verifier.js';
import { CheckpointSigner, CheckpointVerifier } from './checkpoint-note.js';
import { AppendOutcomeUnknownError, AppendRejectedError, LedgerUnavailableError } from './ledger-errors.js';
import { type AppendReceipt, type AppendRequest, CHECKPOINT_EVENT, GENESIS_EVENT, REQUEST_DIGEST } from './ledger-record.js';
import { PartitionWriter } from './partition-writer.js';
import type { LogEntry, PartitionLog, StoredEntry } from './ports.js';
import { decodeRecord } from './record-codec.js';

/**
 * The pipelined writer (partition-writer.ts, `commit`) against a model, under every order of
 * appends, retries and transaction outcomes fast-check finds: Kafka is a log whose transactions
 * stay in flight until the test settles them (committed, failed, or committed or not with the
 * answer lost). What must hold whatever the order: one transaction in flight at a time, one
 * chain that verifies, every caller answered once and each receipt naming its record, nothing
 * recorded twice, nothing refused in the log, and each entity's rule (at most LIMIT records)
 * decided at the head, batches in flight included.
 */

const LIMIT = 3;
const MAX_BATCH = 4;
const signer = new CheckpointSigner(
  'custodian/pipeline',
  Uint8Array.from({ length: 32 }, (_, i) => 50 + i),
);

type Outcome = 'commit' | 'fail' | 'lost-committed' | 'lost-uncommitted';

/** A partition log whose transactions wait until the test settles them, one way or another. */
class GatedLog implements PartitionLog {
  readonly partition = 0;
  readonly inner = new MemoryPartitionLog();
  private readonly pending: { entries: readonly LogEntry[]; settle: (outcome: Outcome) => void }[] = [];
  /** Set when the writer sent a transaction while another was in flight. */
  overlap = false;

  get inFlight(): number {
    return this.pending.length;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  readAll(from?: string): AsyncIterable<StoredEntry> {
    return this.inner.readAll(from);
  }

  end(): Promise<string> {
    return this.inner.end();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** The most records one transaction carried. */
  largest = 0;

  appendTransaction(entries: readonly LogEntry[]): Promise<string[]> {
    if (this.pending.length > 0) this.overlap = true;
    this.largest = Math.max(this.largest, entries.length);
    return new Promise<string[]>((resolve, reject) => {
      this.pending.push({
        entries,
        settle: (outcome) => {
          if (outcome === 'fail') this.inner.failNext = new LedgerUnavailableError('Kafka did not take the transaction');
          if (outcome === 'lost-committed' || outcome === 'lost-uncommitted') {
            this.inner.loseAnswerNext = {
              committed: outcome === 'lost-committed',
              error: new AppendOutcomeUnknownError('the commit was sent but not confirmed'),
            };
          }
          this.inner.appendTransaction(entries).then(resolve, reject);
        },
      });
    });
  }

  /** Settles the oldest transaction in flight; false when none is. */
  settleNext(outcome: Outcome): boolean {
    const next = this.pending.shift();
    next?.settle(outcome);
    return next !== undefined;
  }
}

type Op =
  | { readonly kind: 'append'; readonly entity: number; readonly size: number }
  | { readonly kind: 'retry'; readonly which: number }
  | { readonly kind: 'settle'; readonly outcome: Outcome }
  | { readonly kind: 'turn' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('append' as const), entity: fc.nat(3), size: fc.integer({ min: 1, max: 3 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('retry' as const), which: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('settle' as const),
      outcome: fc.oneof(
        { weight: 6, arbitrary: fc.constant<Outcome>('commit') },
        fc.constant<Outcome>('fail'),
        fc.constant<Outcome>('lost-committed'),
        fc.constant<Outcome>('lost-uncommitted'),
      ),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('turn' as const) }) },
);

/** A group of requests as a caller sends it, and every answer it got (one per send). */
interface Group {
  readonly requests: readonly AppendRequest[];
  readonly entities: readonly string[];
  readonly answers: ({ receipts: AppendReceipt[] } | { error: Error })[];
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function newWriter(log: GatedLog): PartitionWriter {
  return new PartitionWriter({
    ledgerId: 'pipeline',
    partition: 0,
    partitions: 1,
    signer,
    log,
    pins: new MemoryGenesisPins(),
    clock: steppingClock(),
    maxBatch: MAX_BATCH,
    newEventId: sequentialIds(1),
    readBackDelayMs: 1,
    reclaimDelayMs: { initial: 1, max: 2 },
    snapshotRecords: 5,
    stateModel: { evolve: (state) => ((state as number | undefined) ?? 0) + 1 },
  });
}

/** A writer on a gated log, started (its genesis committed). */
async function startedWriter(): Promise<{ log: GatedLog; writer: PartitionWriter }> {
  const log = new GatedLog();
  const writer = newWriter(log);
  const startup = writer.start();
  while (!log.settleNext('commit')) await turn();
  await startup;
  return { log, writer };
}

/** A custody step of one entity, refused by the rule once the entity has LIMIT records. */
function limitedRequest(eventId: string, entity: string, payload: AppendRequest['payload'] = {}): AppendRequest {
  return {
    eventId,
    eventType: 'custody.receive',
    entityIds: [entity],
    occurredAt: '2026-12-04T10:00:00Z',
    actor: 'op',
    payload,
    precondition: (stateOf) => {
      if (((stateOf(entity) as number | undefined) ?? 0) >= LIMIT) throw new AppendRejectedError(`limit of ${entity}`);
    },
  };
}

async function run(ops: readonly Op[]): Promise<void> {
  const { log, writer } = await startedWriter();
  const groups: Group[] = [];
  const sends: Promise<void>[] = [];
  const ids = sequentialIds(2);
  const send = (group: Group) => {
    sends.push(
      writer.appendAll(group.requests).then(
        (receipts) => void group.answers.push({ receipts }),
        (error: unknown) => void group.answers.push({ error: error as Error }),
      ),
    );
  };
  for (const step of ops) {
    if (step.kind === 'append') {
      const entities = [`e${step.entity}`, `e${(step.entity + 1) % 4}`].slice(0, step.size === 3 ? 2 : 1);
      const digest = `digest-${groups.length}`;
      const requests = Array.from({ length: step.size }, (_, i) =>
        limitedRequest(ids(), entities[i % entities.length] as string, { [REQUEST_DIGEST]: digest }),
      );
      const group: Group = { requests, entities, answers: [] };
      groups.push(group);
      send(group);
    } else if (step.kind === 'retry') {
      const group = groups[step.which % Math.max(groups.length, 1)];
      if (group) send(group);
    } else if (step.kind === 'settle') {
      log.settleNext(step.outcome);
    }
    await turn();
  }
  // Then Kafka commits whatever is in flight until every caller has its answer.
  const all = Promise.all(sends);
  const answered = { done: false };
  void all.then(() => (answered.done = true));
  for (let i = 0; !answered.done && i < 10_000; i++) {
    log.settleNext('commit');
    await turn();
  }
  expect(answered.done).toBe(true);
  await writer.close({ snapshot: false });
  check(log, groups, writer.status);
}

function check(log: GatedLog, groups: readonly Group[], status: string): void {
  expect(log.overlap).toBe(false);
  // At most MAX_BATCH appends and the checkpoint (every group is smaller than MAX_BATCH).
  expect(log.largest).toBeLessThanOrEqual(MAX_BATCH + 1);
  expect(status).not.toBe('failed');
  const entries = log.inner.values();
  const verifier = new ChainVerifier({
    ledgerId: 'pipeline',
    partition: 0,
    verifier: new CheckpointVerifier(signer.keyName, signer.publicKey),
  });
  for (const entry of entries) {
    const result = verifier.push(entry.offset, entry.value);
    if ('break' in result) throw new Error(`the chain breaks: ${result.break.message}`);
  }
  expect(verifier.end()).toBeNull();

  const records = entries.map((entry) => ({ offset: entry.offset, ...decodeRecord(entry.value) }));
  const byEvent = new Map<string, (typeof records)[number]>();
  const perEntity = new Map<string, number>();
  for (const stored of records) {
    const { eventId, eventType, entities } = stored.record;
    if (eventType === GENESIS_EVENT || eventType === CHECKPOINT_EVENT) continue;
    expect(byEvent.has(eventId)).toBe(false); // nothing recorded twice
    byEvent.set(eventId, stored);
    for (const { id } of entities) perEntity.set(id, (perEntity.get(id) ?? 0) + 1);
  }
  // The rule, decided at the head with the batches in flight.
  for (const count of perEntity.values()) expect(count).toBeLessThanOrEqual(LIMIT);

  for (const group of groups) {
    const ids = group.requests.map((request) => request.eventId);
    const recorded = ids.filter((id) => byEvent.has(id));
    // A group is recorded whole or not at all.
    expect([0, ids.length]).toContain(recorded.length);
    const receipts = group.answers.flatMap((answer) => ('receipts' in answer ? [answer.receipts] : []));
    for (const answer of receipts) {
      // Every receipt names its record, at its offset, with its hash; a retry gets the same receipts.
      expect(recorded).toEqual(ids);
      expect(answer.map((receipt) => [receipt.offset, receipt.hash, receipt.sequence])).toEqual(
        ids.map((id) => [byEvent.get(id)?.offset, byEvent.get(id)?.hash, byEvent.get(id)?.record.sequence]),
      );
      expect(answer).toEqual(receipts[0]);
    }
    for (const answer of group.answers) {
      if ('error' in answer && answer.error.message.startsWith('limit of ')) {
        // Refused by the rule: the entity had LIMIT records then, with the group's own before the
        // refused one (at most all but one of them); records are never taken away.
        const entity = answer.error.message.slice('limit of '.length);
        const own = group.requests.filter((request) => request.entityIds[0] === entity).length;
        expect((perEntity.get(entity) ?? 0) + own - 1).toBeGreaterThanOrEqual(LIMIT);
      }
    }
    // Refused for certain every time it was sent: nothing of it is in the log.
    const uncertain = group.answers.some(
      (answer) =>
        'receipts' in answer || answer.error instanceof AppendOutcomeUnknownError || answer.error.name === 'EventInFlightError',
    );
    if (!uncertain) expect(recorded).toEqual([]);
  }
}

describe('PartitionWriter pipeline, against a model', () => {
  it('drafts the next batch while one is in flight, taking every group that arrives meanwhile, and sends it once that one is committed', async () => {
    const { log, writer } = await startedWriter();
    const ids = sequentialIds(3);
    const request = (entity: string) => limitedRequest(ids(), entity);
    const first = writer.append(request('a'));
    await turn();
    expect(log.inFlight).toBe(1);
    // Three groups arrive one after another while the first transaction is in flight.
    const later = [writer.append(request('a')), writer.appendAll([request('b'), request('a')])];
    await turn();
    later.push(writer.append(request('c')));
    await turn();
    expect(log.inFlight).toBe(1);
    const before = log.inner.entries.length;
    expect(log.settleNext('commit')).toBe(true);
    await first;
    await turn();
    // They went into one batch, drafted on the first, and sent as one transaction after it.
    expect(log.inFlight).toBe(1);
    expect(log.settleNext('commit')).toBe(true);
    const receipts = (await Promise.all(later)).flat();
    expect(log.inner.entries.length - before).toBe(2 + 5);
    expect(new Set(receipts.map((receipt) => receipt.checkpointSize)).size).toBe(1);
    expect(receipts.map((receipt) => receipt.sequence)).toEqual([4, 5, 6, 7]);
    await writer.close({ snapshot: false });
  });

  it('holds a refusal that rests on an earlier group of its own batch until that batch is committed, and decides it again when it is not', async () => {
    const { log, writer } = await startedWriter();
    const ids = sequentialIds(4);
    const limited = (entity: string) => limitedRequest(ids(), entity);
    const answers: string[] = [];
    const note = (name: string, answer: Promise<AppendReceipt[]>) =>
      answer.then(
        (receipts) => void answers.push(`${name}: recorded at ${receipts.map((receipt) => receipt.sequence).join(',')}`),
        (error: unknown) => void answers.push(`${name}: ${(error as Error).message}`),
      );
    // One record of e in flight; then two more, and a fourth that the rule refuses on them.
    const first = note(
      'first',
      writer.append(limited('e')).then((receipt) => [receipt]),
    );
    await turn();
    const pair = note('pair', writer.appendAll([limited('e'), limited('e')]));
    const fourth = note(
      'fourth',
      writer.append(limited('e')).then((receipt) => [receipt]),
    );
    await turn();
    expect(log.settleNext('commit')).toBe(true);
    await first;
    await turn();
    // The pair's transaction is in flight: the refusal is not told while it may not land.
    expect(log.inFlight).toBe(1);
    expect(answers).toEqual(['first: recorded at 2']);
    // It does not land: the fourth is decided again on what the partition holds, and recorded.
    expect(log.settleNext('lost-uncommitted')).toBe(true);
    await pair;
    for (let i = 0; i < 100 && log.inFlight === 0; i++) await turn();
    expect(log.settleNext('commit')).toBe(true);
    await fourth;
    expect(answers[1]).toMatch(/^pair: partition 0: the transaction was not committed/);
    expect(answers[2]).toMatch(/^fourth: recorded at \d+$/);
    check(log, [], writer.status);
    await writer.close({ snapshot: false });
  });

  it('puts a refusal withdrawn from a batch that did not land back in its order of arrival, ahead of a group that came after it', async () => {
    const { log, writer } = await startedWriter();
    const ids = sequentialIds(5);
    const answers = new Map<string, string>();
    const send = (name: string) =>
      writer.append(limitedRequest(ids(), 'e')).then(
        (receipt) => void answers.set(name, `recorded at ${receipt.sequence}`),
        (error: unknown) => void answers.set(name, (error as Error).message),
      );
    const first = send('first');
    await turn();
    expect(log.settleNext('commit')).toBe(true);
    await first;
    // e has one record; X is in flight, A is drafted on it, and R refused on A (held).
    const x = send('x');
    await turn();
    const later = [send('a'), send('r')];
    await turn();
    expect(log.settleNext('commit')).toBe(true);
    await x;
    await turn();
    // A's transaction is in flight; G arrives after R and is refused on it too.
    later.push(send('g'));
    await turn();
    expect(answers.size).toBe(2);
    // A's transaction does not land: R, which came before G, is decided first and recorded.
    expect(log.settleNext('lost-uncommitted')).toBe(true);
    for (let i = 0; i < 100 && log.inFlight === 0; i++) await turn();
    expect(log.settleNext('commit')).toBe(true);
    await Promise.all(later);
    expect(answers.get('a')).toMatch(/the transaction was not committed/);
    expect(answers.get('r')).toMatch(/^recorded at \d+$/);
    expect(answers.get('g')).toBe('limit of e');
    await writer.close({ snapshot: false });
  });

  it('keeps one chain, one transaction in flight, every answer right and every rule at the head, whatever Kafka does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => run(ops)),
      { numRuns: 400 },
    );
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { idempotentEventId } from '../../src/custody/step-recorder.js';
import { CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import { GENESIS_EVENT } from '../../src/ledger/ledger-record.js';
import type { CustodianProcess } from '../support/custodian-process.js';
import { gln, gtin, type RecordedStep, readLedger } from '../support/custody-api.js';
import { testKafka } from '../support/ledger-harness.js';
import { projectionAndRebuild } from '../support/projection-harness.js';
import { custodyWorkload, duplicates, receiptsNotInLedger, StepLoad, stepRecords } from '../support/step-load.js';
import { startTestCluster, type TestCluster } from '../support/test-cluster.js';

const MAKER = gln(81);
const SITE = gln(82);
const CARRIER = gln(83, '405432');
/** SIGKILLs of the writing instance; RELIABILITY_CLUSTER_KILLS runs more. */
const KILLS = Number(process.env.RELIABILITY_CLUSTER_KILLS ?? '2');
const INSTANCES = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Three instances of one ledger on the real broker and database (docs/scaling.md): Kafka's group
// places the partition's writer in one of them, the others forward their steps to it.
describe(`${INSTANCES} instances of one ledger, the writing one killed with SIGKILL ${KILLS} times, frozen once and stopped once, under round-robin load`, () => {
  let cluster: TestCluster;
  let keys: Record<string, string>;
  const alive = () => cluster.alive();
  const client = (i: number) => cluster.client(i);
  /** The instance whose readiness says it writes partition 0. */
  const writer = async (): Promise<number> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      for (const [i, writes] of await cluster.writes()) if (writes.includes(0)) return i;
      if (Date.now() > deadline) throw new Error('no instance writes partition 0');
      await sleep(100);
    }
  };
  const commission = (serial: string) => ({
    gtin: gtin(8001),
    serial,
    name: 'Widget',
    owner: MAKER,
    location: SITE,
    occurredAt: '2026-11-01T08:00:00Z',
  });
  beforeAll(async () => {
    cluster = await startTestCluster({
      instances: INSTANCES,
      keys: [
        { name: 'maker', role: 'operator', party: MAKER },
        { name: 'auditor', role: 'auditor' },
      ],
      name: 'cluster',
      env: {
        LEDGER_SNAPSHOT_RECORDS: '200',
        // A step forwarded to the frozen instance is answered outcome-unknown after this (10 s by default).
        CLUSTER_FORWARD_TIMEOUT_MS: '3000',
      },
    });
    keys = cluster.keys;
  });

  afterAll(() => cluster.close());

  it('answers a step the same whichever instance takes it: forwarded to the writer, with its receipts and refusals', async () => {
    const w = await writer();
    const [a, b] = alive().filter((i) => i !== w) as [number, number];
    const first = await client(a).request<RecordedStep>('POST', '/products', {
      key: keys.maker,
      idempotencyKey: 'forwarded-1',
      body: commission('F-1'),
    });
    expect(first.status === 201 ? 201 : first.body).toBe(201);
    expect(first.headers.get('idempotency-key')).toBe('forwarded-1');
    // The same request with its key, at another instance: the first receipt, nothing recorded again.
    const again = await client(b).request<RecordedStep>('POST', '/products', {
      key: keys.maker,
      idempotencyKey: 'forwarded-1',
      body: commission('F-1'),
    });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    // The key with another body, at the writer itself: refused as reused.
    const reused = await client(w).request('POST', '/products', {
      key: keys.maker,
      idempotencyKey: 'forwarded-1',
      body: commission('F-2'),
    });
    expect(reused.status).toBe(422);
    expect(reused.body.type).toBe('/problems/idempotency-key-reused');
    // A broken rule decided at the writer comes back through the hop as the same problem.
    const twice = await client(b).request('POST', '/products', { key: keys.maker, body: commission('F-1') });
    expect(twice.status).toBe(409);
    expect(twice.contentType).toContain('application/problem+json');
    expect(twice.body).toMatchObject({ type: '/problems/rule-violated', rule: 'already-exists', instance: '/products' });
    // Reads are answered by any instance: read-your-writes at one that neither wrote nor projects it.
    const { partition, sequence } = first.body.receipt;
    const read = await client(b).request('GET', `/products${first.body.subject}?waitFor=${partition}:${sequence}`, {
      key: keys.maker,
    });
    expect(read.status === 200 ? 200 : read.body).toBe(200);
    const attested = await client(a).request<{ attestation: { verdict: string; steps: number } }>(
      'GET',
      `/products${first.body.subject}/attestation`,
      { key: keys.maker },
    );
    expect(attested.status === 200 ? 200 : attested.body).toBe(200);
    expect(attested.body.attestation).toMatchObject({ verdict: 'verified', steps: 1 });
  }, 120_000);

  it('loses and duplicates no acknowledged step; one chain; the audit passes; the read models equal a rebuild', async () => {
    let turn = 0;
    const load = new StepLoad({
      // Round robin over the instances that run; a request at one just killed fails ('network') and is retried later.
      url: () => {
        const running = alive();
        return (cluster.instances[running[turn++ % running.length] as number] as CustodianProcess).url;
      },
      apiKey: keys.maker as string,
      concurrency: 9,
      timeoutMs: 30_000,
      next: custodyWorkload({ owner: MAKER, site: SITE, to: CARRIER, prefix: 'cluster', gtinNumber: 8002 }),
    });
    load.start();
    const takeovers: { signal: string; killed: number; takeoverMs: number; nextWriter: number }[] = [];
    // SIGKILL the writer KILLS times; besides, once freeze it past its session timeout and let it
    // run on (it must rejoin without writing on what it knew), and once stop it gracefully.
    const signals: NodeJS.Signals[] = Array.from({ length: KILLS }, () => 'SIGKILL');
    signals.splice(1, 0, 'SIGSTOP');
    signals.splice(3, 0, 'SIGTERM');
    try {
      for (const [kill, signal] of signals.entries()) {
        const acknowledged = load.acknowledged.size;
        await sleep(500 + Math.floor(Math.random() * 1500));
        const deadline = Date.now() + 20_000;
        while (load.acknowledged.size <= acknowledged && Date.now() < deadline) await sleep(50);
        expect(load.acknowledged.size).toBeGreaterThan(acknowledged);
        const killed = await writer();
        const frozen = cluster.instances[killed] as CustodianProcess;
        if (signal === 'SIGSTOP') {
          frozen.child.kill('SIGSTOP');
        } else {
          const exit = await frozen.stop(signal);
          if (signal === 'SIGKILL') expect(exit.signal).toBe('SIGKILL');
          else expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
        }
        cluster.instances[killed] = null;
        const t0 = Date.now();
        // Takeover: from the kill to the next 201 on the partition, asked of a surviving instance.
        const probe = client(alive()[0] as number);
        for (let n = 0; ; n++) {
          const response = await probe.request('POST', '/products', { key: keys.maker, body: commission(`probe-${kill}-${n}`) });
          if (response.status === 201) break;
          expect([503]).toContain(response.status);
          if (Date.now() - t0 >= 30_000) {
            // Which takeover, and what the instances said meanwhile: the failure must be diagnosable from its message.
            const logs = cluster.instances.map(
              (instance, i) => `--- instance ${i}:\n${(i === killed ? frozen : instance)?.output().slice(-3000) ?? '(down)'}`,
            );
            throw new Error(
              `takeover ${kill + 1} (${signal} of instance ${killed}) not done after ${Date.now() - t0} ms; last answer ${JSON.stringify(response.body)}\n${logs.join('\n')}`,
            );
          }
        }
        takeovers.push({ signal, killed, takeoverMs: Date.now() - t0, nextWriter: await writer() });
        if (signal === 'SIGSTOP') {
          // Frozen for longer than its session: the group moved the writer. It runs on now.
          frozen.child.kill('SIGCONT');
          cluster.instances[killed] = frozen;
        } else {
          await cluster.start(killed);
        }
      }
      const acknowledged = load.acknowledged.size;
      const deadline = Date.now() + 20_000;
      while (load.acknowledged.size <= acknowledged + 10 && Date.now() < deadline) await sleep(50);
    } finally {
      await load.stop();
    }
    expect(takeovers).toHaveLength(KILLS + 2);
    for (const takeover of takeovers) expect(takeover.nextWriter).not.toBe(takeover.killed);
    expect(load.statuses.get('timeout') ?? 0).toBe(0);
    expect(load.statuses.get(500) ?? 0).toBe(0);

    const any = client(alive()[0] as number);
    const kafka = testKafka('custodian-cluster-check');
    const { topic, ledgerId } = cluster;
    const before = await readLedger(kafka, topic, ledgerId, any);
    const acknowledgedSteps = [...load.acknowledged.values()].flatMap(({ steps }) => steps);
    expect(duplicates(before)).toEqual([]);
    expect(receiptsNotInLedger(acknowledgedSteps, before)).toEqual([]);
    // Every other step is the first test's or a probe (GTIN 8001), or one whose request failed (its answer may have been lost).
    const failedEventIds = new Set<string>();
    for (const [key, failure] of load.failed) {
      const count = failure.request.route === '/custody/batch' ? 3 : 1;
      for (let i = 0; i < count; i++) failedEventIds.add(idempotentEventId('maker', key, i));
    }
    const acknowledgedIds = load.acknowledgedEventIds();
    const unexplained = stepRecords(before).filter(
      (stored) =>
        !acknowledgedIds.has(stored.record.eventId) &&
        !failedEventIds.has(stored.record.eventId) &&
        (stored.record.payload as { gtin?: string }).gtin !== gtin(8001),
    );
    expect(unexplained.map((stored) => stored.record.eventId)).toEqual([]);

    // Each failed request retried with its own key: recorded once, whichever instance takes it.
    const retried = await load.retryFailed();
    expect(retried.size).toBe(load.failed.size);
    const after = await readLedger(kafka, topic, ledgerId, any);
    const retriedSteps: RecordedStep[] = [...retried.values()].flat();
    expect(duplicates(after)).toEqual([]);
    expect(receiptsNotInLedger([...acknowledgedSteps, ...retriedSteps], after)).toEqual([]);
    // One chain: a single genesis, every writer extended it (readLedger verified every link).
    expect(after.filter((stored) => stored.record.eventType === GENESIS_EVENT)).toHaveLength(1);

    const { body: key } = await any.request<{ keyName: string; publicKey: string }>('GET', '/ledger/public-key');
    const verifier = new CheckpointVerifier(key.keyName, Uint8Array.from(Buffer.from(key.publicKey, 'base64')));
    const end = BigInt(after.at(-1)!.offset) + 1n;
    const { live, rebuilt } = await projectionAndRebuild({ kafka, topic, ledgerId, verifier }, cluster.database.url, end);
    expect(live.custody_events).toHaveLength(stepRecords(after).length);
    expect(live).toEqual(rebuilt);

    // The full audit, asked of one instance: every record from genesis, and the read models against it.
    const started = await any.request<{ id: string }>('POST', '/audits', { key: keys.auditor });
    expect(started.status).toBe(202);
    let job: { status: string; report?: { verdict: string; findings: unknown[] } };
    const auditDeadline = Date.now() + 120_000;
    do {
      await sleep(200);
      job = (await any.request<typeof job>('GET', `/audits/${started.body.id}`, { key: keys.auditor })).body;
    } while (job.status === 'running' && Date.now() < auditDeadline);
    expect(job.report).toMatchObject({ verdict: 'verified', findings: [] });

    process.stderr.write(
      `[reliability:cluster] ${JSON.stringify({
        takeovers,
        requests: load.requests,
        statuses: load.summary(),
        acknowledgedRequests: load.acknowledged.size,
        acknowledgedSteps: acknowledgedSteps.length,
        failedRequests: load.failed.size,
        stepsInLedger: stepRecords(after).length,
      })}\n`,
    );
  }, 420_000);
});

/**
 * Start-up time and memory against the ledger's length (`npm run bench -- --only scale`).
 *
 * One ledger, measured at each size as it grows (the larger size is the smaller one built on).
 * The application runs as a process of its own (bench/support/app-process.ts) and records one
 * product of 100 steps over HTTP; then the ledger is built up to each size by `npm run
 * ledger:build` (commissionings through the real writer, the application stopped, its projector
 * following meanwhile as a process of its own), or with `BENCH_SCALE_BUILDER=http` through the
 * application, as users build it: batches of commissionings over HTTP, projected as they come.
 * Then, at each size, measured:
 *   - restart-ready: SIGTERM, then from the spawn of the new process until its first `201`;
 *   - the first attestation of the 100-step product after that `201` (and how the ledger was
 *     read: `followed` from the writer's snapshot, or `full`);
 *   - rss-idle: the process's resident memory a few seconds later, at rest;
 *   - rss-load: its peak under batches over HTTP (as the http section's load);
 *   - attestations of the 100-step product, p99 right after the load (the projection caught
 *     up), then p50 and p99 at rest, 15 s later.
 * Baseline in the same run: the same restart with the writer's snapshot deleted, which is what
 * every start did before snapshots (a full read of the partition by the writer, and by the
 * follower before its first attestation).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type AppProcess, startAppProcess } from './support/app-process.js';
import { parseServerTiming } from '../src/verification/phase-timings.js';
import { commission, GTIN, MAKER, SITE } from './support/commissioning.js';
import { type BenchContext, type Benchmark, type Measured, ms, percentile, sleep, whole } from './support/suite.js';

const BATCH_STEPS = 500;
const BUILD_LEDGER = fileURLToPath(new URL('./build-ledger.js', import.meta.url));
const CONNECTIONS = 4;
const PRODUCT_STEPS = 100;
const MiB = 2 ** 20;
/**
 * Attestations at rest, whose p99 the attestation-10m target reads (BENCH_SCALE_ATTESTATIONS).
 * 1,000: the p99 of 200 is their second or third slowest, which one collection of the garbage
 * the load left decides (docs/PERFORMANCE.md#attestation-10m); the slowest is in the table too.
 */
const REST_ATTESTATIONS = Number(process.env.BENCH_SCALE_ATTESTATIONS ?? 1000);

interface Client {
  readonly app: AppProcess;
  readonly key: string;
}

async function call(client: Client, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${client.app.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${client.key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Reads the answer (a body left unread keeps its connection busy, and the server's shutdown waiting for it). */
async function expectStatus(response: Response, status: number, what: string): Promise<void> {
  const text = await response.text();
  if (response.status !== status) throw new Error(`${what}: ${response.status} ${text.slice(0, 2000)}`);
}

/** Batches of commissionings on `CONNECTIONS` connections until `steps` are recorded or `until()`; the steps recorded. */
async function load(client: Client, tag: string, steps: number, until: () => boolean = () => false): Promise<number> {
  let sent = 0;
  const worker = async () => {
    while (sent < steps && !until()) {
      sent += BATCH_STEPS;
      const batch = { steps: Array.from({ length: BATCH_STEPS }, () => ({ type: 'commission', ...commission(tag) })) };
      await expectStatus(await call(client, 'POST', '/custody/batch', batch), 201, 'batch');
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return sent;
}

/** The product of `PRODUCT_STEPS` steps: commissioned, then inspected. */
async function productOfHundredSteps(client: Client, serial: string): Promise<string> {
  await expectStatus(await call(client, 'POST', '/products', { ...commission('hundred'), serial }), 201, 'commission');
  const subject = `/01/${GTIN}/21/${serial}`;
  for (let i = 1; i < PRODUCT_STEPS; i++) {
    const inspection = { subject, party: MAKER, location: SITE, result: 'passed', occurredAt: new Date().toISOString() };
    await expectStatus(await call(client, 'POST', '/custody/inspect', inspection), 201, 'inspect');
  }
  return `/products/01/${GTIN}/21/${serial}/attestation`;
}

/** One attestation as the client saw it: its time, how the ledger was read, and the verifier's phases (Server-Timing). */
interface Attested {
  readonly ms: number;
  readonly read: string;
  readonly phases: Map<string, number>;
}

/** `count` attestations, one after another. */
async function attestSeries(client: Client, path: string, count: number): Promise<Attested[]> {
  const series: Attested[] = [];
  for (let i = 0; i < count; i++) series.push(await attest(client, path));
  return series;
}

async function attest(client: Client, path: string): Promise<Attested> {
  const t0 = performance.now();
  const response = await call(client, 'GET', path);
  const elapsed = performance.now() - t0;
  const body = (await response.json()) as { attestation?: { verdict?: string; steps?: number } };
  if (response.status !== 200 || body.attestation?.verdict !== 'verified' || body.attestation.steps !== PRODUCT_STEPS) {
    throw new Error(`attestation: ${response.status} ${JSON.stringify(body).slice(0, 500)}`);
  }
  return {
    ms: elapsed,
    read: response.headers.get('custodian-ledger-read') ?? '?',
    phases: parseServerTiming(response.headers.get('server-timing')),
  };
}

/**
 * Where the time of the attestation at the series' p99 went: the time the client saw, the
 * verifier's largest phases, and the rest ("outside": HTTP, and an event loop busy elsewhere).
 */
function p99Phases(series: readonly Attested[]): string {
  const p99 = percentile(
    series.map((attested) => attested.ms),
    99,
  );
  const at = series.find((attested) => attested.ms === p99);
  if (!at) return '–';
  const total = at.phases.get('total') ?? 0;
  const largest = [...at.phases]
    .filter(([phase]) => phase !== 'total')
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([phase, time]) => `${phase} ${time.toFixed(1)}`);
  return `${ms(at.ms)}: ${largest.join(', ')}; outside ${(at.ms - total).toFixed(1)}`;
}

/**
 * How the ledger is built: `direct` (the default) by the ledger builder (bench/build-ledger.ts,
 * the real writer without HTTP, the application stopped; its projector then reads the whole
 * ledger at its start), `http` through the running application as users build it.
 */
const BUILDER = process.env.BENCH_SCALE_BUILDER === 'http' ? 'http' : 'direct';

/** The message of a log line of the builder's (JSON, or Nest's text format). */
function buildMessage(line: string): string {
  try {
    const { message } = JSON.parse(line) as { message?: unknown };
    // kafkajs's lines carry an object: its own message in it.
    return String(typeof message === 'object' && message !== null && 'message' in message ? message.message : message);
  } catch {
    return line.replace(/^.*LedgerBuild\W*/, '');
  }
}

/** Runs the ledger builder in a process of its own on the application's ledger; the steps it recorded. */
function buildLedger(
  env: Readonly<Record<string, string>>,
  steps: number,
  progress: (line: string) => void,
): Promise<{ steps: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BUILD_LEDGER, '--steps', String(steps)], {
      env: { ...process.env, ...env, LOG_LEVEL: 'log' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of chunk.toString().split('\n')) {
        // Its progress, and what went wrong meanwhile (a writer that became unavailable and read its partition again).
        if (line.includes('LedgerBuild') || /"level":"(warn|error)"|\b(WARN|ERROR)\b/.test(line))
          progress(`  ${buildMessage(line)}`);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-4000)));
    child.once('error', reject);
    // 'close', not 'exit': the result line may still be in the pipe when the process exits.
    child.once('close', (code) => {
      const result = out
        .split('\n')
        .reverse()
        .find((line) => line.startsWith('{"steps"'));
      if (code !== 0 || !result) reject(new Error(`ledger:build exited with ${code}: ${err}`));
      else resolve(JSON.parse(result) as { steps: number; seconds: number });
    });
  });
}

/** Restarts the app and times it: spawn to first 201, then the first attestation. */
async function timedRestart(client: Client, attestation: string): Promise<{ readyMs: number; attestMs: number; read: string }> {
  const { spawnedAt } = await client.app.restart();
  for (;;) {
    const response = await call(client, 'POST', '/products', commission('restart'));
    const text = await response.text();
    if (response.status === 201) break;
    if (response.status !== 503) throw new Error(`after the restart: ${response.status} ${text.slice(0, 2000)}`);
    await sleep(20);
  }
  const readyMs = performance.now() - spawnedAt;
  const first = await attest(client, attestation);
  return { readyMs, attestMs: first.ms, read: first.read };
}

interface SizeResult {
  readonly records: number;
  readonly buildSeconds: number;
  /** Steps the builder added for this size (to the ledger of the size before). */
  readonly builtSteps: number;
  readonly snapshotTreeSize: number;
  readonly rssBeforeMiB: number;
  readonly readyMs: number;
  readonly firstAttestationMs: number;
  readonly firstRead: string;
  readonly rssIdleMiB: number;
  readonly rssLoadMiB: number;
  readonly loadStepsPerSecond: number;
  readonly attestationP50Ms: number;
  readonly attestationP99Ms: number;
  readonly attestationMaxMs: number;
  readonly restAttestations: number;
  readonly attestationAfterLoadP99Ms: number;
  /** Where the p99 attestation's time went, at rest and right after the load (p99Phases). */
  readonly atRestP99Phases: string;
  readonly afterLoadP99Phases: string;
  readonly fullReadyMs: number;
  readonly fullFirstAttestationMs: number;
  readonly fullFirstRead: string;
}

/**
 * The one ledger all sizes are measured on, as it grows: its application, the 100-step product
 * recorded first, and how many products the projection holds once it has caught up.
 */
interface GrowingLedger {
  readonly client: Client;
  readonly db: pg.Client;
  readonly attestation: string;
  /** Steps built by the builder so far. */
  built: number;
  /** Products recorded so far, by the builder, the load and the restarts' first 201s. */
  products: number;
}

async function openLedger(context: BenchContext): Promise<GrowingLedger> {
  const app = await startAppProcess({
    serverUrl: context.databaseUrl,
    brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
    keys: [{ name: 'bench-maker', role: 'operator', party: MAKER }],
  });
  const client: Client = { app, key: app.keys['bench-maker']! };
  const db = new pg.Client({ connectionString: app.databaseUrl });
  try {
    await db.connect();
    const attestation = await productOfHundredSteps(client, 'H-scale');
    return { client, db, attestation, built: 0, products: 1 };
  } catch (error) {
    await db.end().catch(() => undefined);
    await app.stop();
    throw error;
  }
}

async function closeLedger(ledger: GrowingLedger): Promise<void> {
  await ledger.db.end();
  await ledger.client.app.stop();
}

/** Grows the ledger to `steps` built steps, then measures it. */
async function measureSize(
  context: BenchContext,
  ledger: GrowingLedger,
  steps: number,
  loadSeconds: number,
  attestations: number,
  restAttestations: number,
  restSeconds: number,
): Promise<SizeResult> {
  const { progress } = context;
  const { client, db, attestation } = ledger;
  const { app } = client;
  const scalar = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
  const projected = async (products: number, every: number) => {
    while ((await scalar('SELECT count(*) AS n FROM products')) < products) await sleep(every);
  };
  const more = Math.max(0, steps - ledger.built);
  const t0 = performance.now();
  let built: number;
  let buildSeconds: number;
  if (BUILDER === 'http') {
    progress(`${whole(steps)} steps: ${whole(more)} more over HTTP (batches of ${BATCH_STEPS}, ${CONNECTIONS} connections)`);
    let last = t0;
    built = await load(client, 'build', more, () => {
      if (performance.now() - last > 30_000) {
        last = performance.now();
        progress(`  ${Math.round((last - t0) / 1000)} s`);
      }
      return false;
    });
    buildSeconds = (performance.now() - t0) / 1000;
  } else {
    progress(
      `${whole(steps)} steps: ${whole(more)} more with npm run ledger:build, the application stopped, its projector following as a process of its own`,
    );
    // The builder's own time: not the application's stop and start around it.
    ({ steps: built, seconds: buildSeconds } = await app.whileStopped((env) => buildLedger(env, more, progress), {
      project: true,
    }));
  }
  ledger.built += built;
  ledger.products += built;
  progress(`${whole(built)} steps in ${buildSeconds.toFixed(0)} s; waiting for the projection`);
  const w0 = performance.now();
  await projected(ledger.products, 1000);
  progress(`projection caught up ${((performance.now() - w0) / 1000).toFixed(0)} s after the build`);
  const records = await scalar('SELECT max(sequence) + 1 AS n FROM custody_events');
  const snapshotTreeSize = await scalar("SELECT max((body::jsonb->>'treeSize')::bigint) AS n FROM ledger_snapshot");
  const rssBeforeMiB = app.rss() / MiB;
  progress(
    `ledger of ${whole(records)} records, newest snapshot at ${whole(snapshotTreeSize)}, RSS ${whole(rssBeforeMiB)} MiB; restarting`,
  );

  const restart = await timedRestart(client, attestation);
  ledger.products += 1;
  progress(
    `ready (first 201) ${ms(restart.readyMs)} after the spawn; first attestation ${ms(restart.attestMs)} (${restart.read})`,
  );
  await sleep(5000);
  const rssIdleMiB = app.rss() / MiB;

  let peak = app.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, app.rss())), 200);
  const l0 = performance.now();
  const loaded = await load(client, 'load', Number.MAX_SAFE_INTEGER, () => performance.now() - l0 > loadSeconds * 1000);
  const loadStepsPerSecond = loaded / ((performance.now() - l0) / 1000);
  clearInterval(sampler);
  ledger.products += loaded;
  const rssLoadMiB = peak / MiB;
  progress(`RSS at rest ${whole(rssIdleMiB)} MiB, under load ${whole(rssLoadMiB)} MiB (${whole(loadStepsPerSecond)} steps/s)`);

  await projected(ledger.products, 500);
  const afterLoadSeries = await attestSeries(client, attestation, attestations);
  const afterLoad = afterLoadSeries.map((attested) => attested.ms);
  progress(
    `attestations right after the load: p50 ${ms(percentile(afterLoad, 50))}, p99 ${ms(percentile(afterLoad, 99))} (${p99Phases(afterLoadSeries)})`,
  );
  // At rest: the collector has had time for what the load left behind (docs/PERFORMANCE.md,
  // "what makes the attestation tail after the load").
  await sleep(restSeconds * 1000);
  const atRest = await attestSeries(client, attestation, restAttestations);
  const times = atRest.map((attested) => attested.ms);
  progress(
    `${whole(times.length)} attestations at rest: p50 ${ms(percentile(times, 50))}, p99 ${ms(percentile(times, 99))}, slowest ${ms(Math.max(...times))} (${p99Phases(atRest)})`,
  );

  // Baseline: the start every start was before snapshots, a full read (which takes minutes
  // at a million records: measured up to BENCH_SCALE_BASELINE_MAX steps). The writer's next
  // snapshot is taken again as the ledger grows on.
  let full = { readyMs: Number.NaN, attestMs: Number.NaN, read: 'not measured' };
  if (steps <= Number(process.env.BENCH_SCALE_BASELINE_MAX ?? 200_000)) {
    await db.query('DELETE FROM ledger_snapshot');
    full = await timedRestart(client, attestation);
    ledger.products += 1;
    progress(`without the snapshot: ready ${ms(full.readyMs)}, first attestation ${ms(full.attestMs)} (${full.read})`);
  }
  return {
    records,
    buildSeconds,
    builtSteps: built,
    snapshotTreeSize,
    rssBeforeMiB,
    readyMs: restart.readyMs,
    firstAttestationMs: restart.attestMs,
    firstRead: restart.read,
    rssIdleMiB,
    rssLoadMiB,
    loadStepsPerSecond,
    attestationP50Ms: percentile(times, 50),
    attestationP99Ms: percentile(times, 99),
    attestationMaxMs: Math.max(...times),
    restAttestations: times.length,
    attestationAfterLoadP99Ms: percentile(afterLoad, 99),
    atRestP99Phases: p99Phases(atRest),
    afterLoadP99Phases: p99Phases(afterLoadSeries),
    fullReadyMs: full.readyMs,
    fullFirstAttestationMs: full.attestMs,
    fullFirstRead: full.read,
  };
}

/** A figure's name at a size: restartReady1mMs, rssIdle100kMiB. */
function sizeName(records: number): string {
  return records >= 1_000_000 ? `${records / 1_000_000}m` : `${records / 1_000}k`;
}

export const scale: Benchmark = {
  id: 'scale',
  title: 'Start-up and memory against the ledger’s length',
  async run(context): Promise<Measured> {
    const sizes = (process.env.BENCH_SCALE_SIZES ?? (context.quick ? '2000,10000' : '100000,1000000')).split(',').map(Number);
    if (sizes.some((steps, i) => !Number.isSafeInteger(steps) || steps < 1 || (i > 0 && steps <= sizes[i - 1]!)))
      throw new Error(`BENCH_SCALE_SIZES: ${sizes.join(',')} are not growing step counts`);
    const results: { steps: number; result: SizeResult }[] = [];
    // One ledger, measured at each size as it grows: the larger size is the smaller one built on.
    const ledger = await openLedger(context);
    try {
      for (const steps of sizes) {
        results.push({
          steps,
          result: await measureSize(
            context,
            ledger,
            steps,
            context.quick ? 3 : 15,
            context.quick ? 20 : 200,
            context.quick ? 50 : REST_ATTESTATIONS,
            context.quick ? 2 : 15,
          ),
        });
      }
    } finally {
      await closeLedger(ledger);
    }
    const figures: Record<string, number> = {};
    for (const { steps, result } of results) {
      const n = sizeName(steps);
      Object.assign(figures, {
        [`records${n}`]: result.records,
        [`restartReady${n}Ms`]: result.readyMs,
        [`firstAttestation${n}Ms`]: result.firstAttestationMs,
        [`rssIdle${n}MiB`]: result.rssIdleMiB,
        [`rssLoad${n}MiB`]: result.rssLoadMiB,
        [`attestation${n}P99Ms`]: result.attestationP99Ms,
        [`attestationAfterLoad${n}P99Ms`]: result.attestationAfterLoadP99Ms,
        [`fullReadRestartReady${n}Ms`]: result.fullReadyMs,
        [`fullReadFirstAttestation${n}Ms`]: result.fullFirstAttestationMs,
      });
    }
    const [small, large] = [results[0], results.at(-1)];
    const perMillion = (pick: (r: SizeResult) => number) =>
      small && large && large.result.records > small.result.records
        ? ((pick(large.result) - pick(small.result)) / (large.result.records - small.result.records)) * 1e6
        : Number.NaN;
    const slope = (pick: (r: SizeResult) => number, unit: (n: number) => string) => {
      const value = perMillion(pick);
      return Number.isFinite(value) ? unit(value) : '–';
    };
    const mib = (n: number) => `${whole(n)} MiB`;
    const row = (what: string, pick: (r: SizeResult) => string, slopeText: string) => [
      what,
      ...results.map(({ result }) => pick(result)),
      slopeText,
    ];
    return {
      about:
        'Whether start-up time and memory stay flat as the ledger grows (issue 16). One ledger is measured at each size as it ' +
        'grows: an application process of its own records one product of 100 steps over HTTP, then the ledger is built up to the size ' +
        (BUILDER === 'http'
          ? 'through it over HTTP (`POST /custody/batch` of 500 commissionings, 4 connections, projected as it goes)'
          : 'by `npm run ledger:build` (the same commissionings through the real writer without HTTP, 8 batches of 500 in ' +
            'flight, the application stopped, its projector following meanwhile as a process of its own; ' +
            '`BENCH_SCALE_BUILDER=http` builds over HTTP instead)') +
        '; then: `restart-ready` is SIGTERM and the time from the ' +
        'spawn of the new process to its first `201`; the first attestation of the 100-step product follows at once ' +
        '(`followed` when the verifier resumed from the writer snapshot, `full` when it read the partition); `rss-idle` is ' +
        'the resident memory 5 s later, `rss-load` its peak under 15 s of batches; attestation p50 and p99 are of ' +
        whole(REST_ATTESTATIONS) +
        ' attestations ' +
        'at rest (15 s after the load, the projection caught up; `BENCH_SCALE_ATTESTATIONS`), and p99 also of 200 right after the load. The baseline, in the same run, is the same restart with the snapshot deleted (`DELETE FROM ' +
        'ledger_snapshot`): the full read every start did before, measured up to 200,000 steps (`BENCH_SCALE_BASELINE_MAX`: it takes minutes at a million). The slope is per million records between the two sizes. ' +
        'Other sizes: `BENCH_SCALE_SIZES=1000000,10000000` (in steps).',
      setting: `ledgers of ${results.map(({ result }) => whole(result.records)).join(' and ')} records, one partition, snapshots every 10,000 records (the default)`,
      tables: [
        {
          head: ['figure', ...results.map(({ result }) => `${whole(result.records)} records`), 'slope per million records'],
          align: ['l', ...results.map(() => 'r' as const), 'r'],
          rows: [
            row(
              BUILDER === 'http' ? 'built over HTTP' : 'built by npm run ledger:build',
              (r) => `${whole(r.builtSteps / r.buildSeconds)} steps/s`,
              '',
            ),
            row('newest snapshot before the restart, at tree size', (r) => whole(r.snapshotTreeSize), ''),
            row(
              'RSS before the restart',
              (r) => mib(r.rssBeforeMiB),
              slope((r) => r.rssBeforeMiB, mib),
            ),
            row(
              '**restart-ready** (spawn to first 201), ms',
              (r) => ms(r.readyMs),
              slope((r) => r.readyMs, ms),
            ),
            row(
              'first attestation after it, ms',
              (r) => `${ms(r.firstAttestationMs)} (${r.firstRead})`,
              slope((r) => r.firstAttestationMs, ms),
            ),
            row(
              '**rss-idle** after the restart',
              (r) => mib(r.rssIdleMiB),
              slope((r) => r.rssIdleMiB, mib),
            ),
            row(
              '**rss-load** under HTTP batches',
              (r) => `${mib(r.rssLoadMiB)} (${whole(r.loadStepsPerSecond)} steps/s)`,
              slope((r) => r.rssLoadMiB, mib),
            ),
            row(
              'attestation of the 100-step product, p50 ms',
              (r) => ms(r.attestationP50Ms),
              slope((r) => r.attestationP50Ms, ms),
            ),
            row(
              'attestation of the 100-step product, p99 ms',
              (r) => ms(r.attestationP99Ms),
              slope((r) => r.attestationP99Ms, ms),
            ),
            row(
              'the slowest of them, ms',
              (r) => `${ms(r.attestationMaxMs)} (of ${whole(r.restAttestations)})`,
              slope((r) => r.attestationMaxMs, ms),
            ),
            row(
              'the same right after the load, p99 ms',
              (r) => ms(r.attestationAfterLoadP99Ms),
              slope((r) => r.attestationAfterLoadP99Ms, ms),
            ),
            row('where the p99 attestation at rest spent its time (Server-Timing), ms', (r) => r.atRestP99Phases, ''),
            row('the same right after the load, ms', (r) => r.afterLoadP99Phases, ''),
            row(
              'baseline: restart-ready without the snapshot (full read), ms',
              (r) => (Number.isFinite(r.fullReadyMs) ? ms(r.fullReadyMs) : '–'),
              slope((r) => r.fullReadyMs, ms),
            ),
            row(
              'baseline: first attestation after it, ms',
              (r) => (Number.isFinite(r.fullFirstAttestationMs) ? `${ms(r.fullFirstAttestationMs)} (${r.fullFirstRead})` : '–'),
              slope((r) => r.fullFirstAttestationMs, ms),
            ),
            row(
              'restart-ready as a ratio to the baseline',
              (r) => (Number.isFinite(r.fullReadyMs) ? (r.readyMs / r.fullReadyMs).toFixed(2) : '–'),
              '',
            ),
          ],
        },
      ],
      figures,
    };
  },
};

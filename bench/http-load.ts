/**
 * Custody steps recorded end to end over HTTP, while the projector follows: the app runs as a
 * process of its own (bench/support/app-process.ts), autocannon drives it from this process.
 */
import autocannon from 'autocannon';
import pg from 'pg';
import { readPartition } from '../src/ledger/adapters/kafka-partition-reader.js';
import { decodeRecord } from '../src/ledger/record-codec.js';
import { startAppProcess } from './support/app-process.js';
import { cores, cpuBetween, type CpuReading, cpuSum, findBroker, findPostmaster, readCpu } from './support/cpu-time.js';
import { commission, GTIN, MAKER } from './support/commissioning.js';
import {
  type BenchContext,
  type Benchmark,
  measure,
  median,
  ms,
  percentile,
  rateWithSpread,
  type Measured,
  sleep,
  whole,
} from './support/suite.js';

const BATCH_STEPS = 500;

export interface LoadResult {
  readonly steps: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

/** How long a recorded step takes to show in the read model, probed every 100 ms while `running()`. */
async function probeLag(url: string, key: string, running: () => boolean): Promise<number[]> {
  const lags: number[] = [];
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  while (running()) {
    const body = commission('probe');
    const response = await fetch(`${url}/products`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (response.status !== 201) throw new Error(`lag probe: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
    const acknowledged = performance.now();
    for (;;) {
      const read = await fetch(`${url}/products/01/${GTIN}/21/${String(body.serial)}`, { headers });
      await read.arrayBuffer();
      if (read.status === 200) break;
      if (performance.now() - acknowledged > 30_000) throw new Error('lag probe: not projected within 30 s');
      await sleep(5);
    }
    lags.push(performance.now() - acknowledged);
    await sleep(100);
  }
  return lags;
}

/** `connections` callers POST `body()` for `seconds`; a 2xx answer counts `stepsPerRequest` steps. */
export async function load(
  url: string,
  key: string,
  options: {
    path: string;
    body: () => unknown;
    stepsPerRequest: number;
    connections: number;
    seconds: number;
    contentType?: string;
  },
): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.seconds,
    headers: { authorization: `Bearer ${key}`, 'content-type': options.contentType ?? 'application/json' },
    requests: [
      {
        method: 'POST',
        path: options.path,
        setupRequest: (request) => ({ ...request, body: JSON.stringify(options.body()) }),
      },
    ],
  });
  return {
    steps: result['2xx'] * options.stepsPerRequest,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    // autocannon counts timeouts among its errors.
    errors: result.errors + result.non2xx,
  };
}

export const httpLoad: Benchmark = {
  id: 'http',
  title: 'Custody steps over HTTP, with the projector following',
  run: measureHttp,
};

async function measureHttp({ quick, kafka, databaseUrl, progress }: BenchContext): Promise<Measured> {
  const runs = quick ? 1 : 3;
  const seconds = quick ? 3 : 10;
  const connections = 64;
  const batchConnections = 4;
  const app = await startAppProcess({
    serverUrl: databaseUrl,
    brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
    keys: [{ name: 'bench-maker', role: 'operator', party: MAKER }],
  });
  const key = app.keys['bench-maker']!;
  const db = new pg.Client({ connectionString: app.databaseUrl });
  await db.connect();
  const projected = async () =>
    Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM custody_events')).rows[0]?.n ?? 0);
  const dataDirectory = await db
    .query<{ data_directory: string }>('SHOW data_directory')
    .then((result) => result.rows[0]?.data_directory ?? null)
    .catch(() => null); // a role that may not read the setting: PostgreSQL's CPU goes unmeasured
  const brokerPort = Number((process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',')[0]?.split(':').at(-1));
  const watched = {
    app: app.pid,
    broker: findBroker(brokerPort),
    postgres: dataDirectory ? findPostmaster(dataDirectory) : null,
  };
  const cpu = { single: [] as CpuReading[], batch: [] as CpuReading[] };
  const rssIdle = app.rss();
  let rssPeak = rssIdle;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, app.rss())), 250);
  try {
    progress(`app pid ${app.pid} on ${app.url}, RSS ${whole(rssIdle / 2 ** 20)} MiB; warming up`);
    const warm = await load(app.url, key, {
      path: '/products',
      body: () => commission('warm'),
      stepsPerRequest: 1,
      connections,
      seconds: 2,
    });

    const single: LoadResult[] = [];
    const batch: LoadResult[] = [];
    const lags = { single: [] as number[], batch: [] as number[] };
    const projectionRates = { single: [] as number[], batch: [] as number[] };
    // Every step acknowledged so far, the lag probes' included.
    const acknowledged = () =>
      [warm, ...single, ...batch].reduce((sum, r) => sum + r.steps, 0) + lags.single.length + lags.batch.length;
    // Until the projector has caught up with them; with `still`, until it also stands still (steps
    // of requests dropped at a case's end may still come): a case's CPU and lag are then its own,
    // not the backlog of the case before it.
    const caughtUp = async (still: boolean) => {
      const t0 = performance.now();
      const steps = acknowledged();
      for (let last = -1; ;) {
        const now = await projected();
        if (now >= steps && (!still || now === last)) return;
        if (performance.now() - t0 > 300_000) throw new Error(`the projector did not catch up with ${steps} steps in 300 s`);
        last = now;
        await sleep(still ? 200 : 50);
      }
    };
    const measureWith = async (phase: 'single' | 'batch', work: () => Promise<LoadResult>) => {
      await caughtUp(true);
      let running = true;
      const before = await projected();
      const probes = probeLag(app.url, key, () => running);
      const t0 = performance.now();
      const cpuBefore = readCpu(watched);
      const result = await work();
      cpu[phase].push(cpuBetween(cpuBefore, readCpu(watched)));
      const seconds = (performance.now() - t0) / 1000;
      const after = await projected();
      running = false;
      lags[phase].push(...(await probes));
      projectionRates[phase].push((after - before) / seconds);
      return result;
    };
    for (let run = 1; run <= runs; run++) {
      single.push(
        await measureWith('single', () =>
          load(app.url, key, { path: '/products', body: () => commission('one'), stepsPerRequest: 1, connections, seconds }),
        ),
      );
      const s = single.at(-1)!;
      progress(`run ${run}/${runs}: single steps ${whole(s.steps / s.seconds)}/s, p99 ${s.p99} ms, errors ${s.errors}`);
      batch.push(
        await measureWith('batch', () =>
          load(app.url, key, {
            path: '/custody/batch',
            body: () => ({ steps: Array.from({ length: BATCH_STEPS }, () => ({ type: 'commission', ...commission('batch') })) }),
            stepsPerRequest: BATCH_STEPS,
            connections: batchConnections,
            seconds,
          }),
        ),
      );
      const b = batch.at(-1)!;
      progress(`run ${run}/${runs}: batches ${whole(b.steps / b.seconds)} steps/s, p99 ${b.p99} ms, errors ${b.errors}`);
    }
    clearInterval(sampler);

    // Catch-up after the load, then what the ledger holds per recorded step.
    const t0 = performance.now();
    const allLags = [...lags.single, ...lags.batch];
    const recorded = acknowledged();
    await caughtUp(false);
    const catchUpMs = performance.now() - t0;
    let bytes = 0;
    let steps = 0;
    let records = 0;
    for await (const entry of readPartition(kafka, app.topic, 0)) {
      records += 1;
      bytes += entry.value.length;
      if (!decodeRecord(entry.value).record.eventType.startsWith('ledger.')) steps += 1;
    }
    const singleRate = measure(single.map((r) => r.steps / r.seconds));
    const batchRate = measure(batch.map((r) => r.steps / r.seconds));
    const lagP99 = percentile(allLags, 99);
    const lagRow = (phase: 'single' | 'batch', what: string) => [
      `projection under ${what}: events/s (spread); lag p50 / p99 ms`,
      `${rateWithSpread(measure(projectionRates[phase]))}; ${ms(percentile(lags[phase], 50))} / ${ms(percentile(lags[phase], 99))}`,
    ];
    const errors = [...single, ...batch].reduce((sum, r) => sum + r.errors, 0);
    const cpuPerStep = (phase: 'single' | 'batch', results: readonly LoadResult[]) => {
      const used = cpuSum(cpu[phase]);
      const steps = results.reduce((sum, r) => sum + r.steps, 0);
      const perStep = (seconds: number | null) => (seconds === null ? null : (seconds / steps) * 1e6);
      const watchedSeconds = used.app + (used.broker ?? 0) + (used.postgres ?? 0) + used.bench;
      return {
        app: perStep(used.app),
        broker: perStep(used.broker),
        postgres: perStep(used.postgres),
        bench: perStep(used.bench),
        // Not clamped: the machine's counters and the processes' are read at slightly different
        // moments, so a small negative rest says how far apart they are.
        rest: perStep(used.machineBusy - watchedSeconds),
        idle: perStep(used.machineIdle),
        total: perStep(used.machineBusy + used.machineIdle),
      };
    };
    const cpuSingle = cpuPerStep('single', single);
    const cpuBatch = cpuPerStep('batch', batch);
    // cpuSingleAppUsPerStep and the like; a process not measured has none.
    const cpuFigures = (phase: string, c: ReturnType<typeof cpuPerStep>): Record<string, number> => {
      const figures: Record<string, number> = {};
      for (const [who, value] of Object.entries(c)) {
        if (value !== null) figures[`cpu${phase}${who.charAt(0).toUpperCase()}${who.slice(1)}UsPerStep`] = value;
      }
      return figures;
    };
    const micros = (value: number | null) => (value === null ? '–' : whole(value));
    const cpuRow = (what: string, c: ReturnType<typeof cpuPerStep>) => [
      what,
      micros(c.app),
      micros(c.broker),
      micros(c.postgres),
      micros(c.bench),
      micros(c.rest),
      micros(c.idle),
      micros(c.total),
    ];
    return {
      about:
        'Custody steps recorded through the REST API, end to end: the app runs as its own process (`dist/src/main.js`, as ' +
        '`npm start` runs it) with the projector following the ledger into PostgreSQL; autocannon drives it over loopback ' +
        `from the benchmark's process. Single steps: \`POST /products\` (a commissioning with lot, name and attributes), ` +
        `${connections} connections. Batches: \`POST /custody/batch\` of ${BATCH_STEPS} commissionings, ${batchConnections} ` +
        'connections. Every request carries an API key and is validated, decided against the ledger head, hashed, signed ' +
        'into a checkpoint and committed in a Kafka transaction before its 201. Meanwhile a probe records a step every 100 ms ' +
        'and polls the read model until it shows: that is the projection lag. RSS is read from /proc while it runs; ledger ' +
        'bytes per step are the topic’s record bytes (checkpoints included) over the steps recorded. Where the cores went: ' +
        'the CPU seconds (user and system, from /proc) each process used while a case ran, summed over its runs and divided ' +
        'by the steps acknowledged: the application, the broker, the PostgreSQL server (its postmaster, its backends and those ' +
        'it reaped), the load generator (this process: autocannon and the lag probe), the rest of the machine, and the time ' +
        'no core was busy: together the CPU time the cores had per step. Each case starts once the projector has caught up ' +
        'with every step acknowledged before it, so that its CPU, its projection rate and its lag are its own. Steps of ' +
        'requests still in flight when a case ends are not counted, though their work may be.',
      setting: `${seconds} s per case, median of ${runs} run(s); ${whole(recorded)} steps recorded in ${whole(records)} ledger records; ${allLags.length} lag probes`,
      tables: [
        {
          head: ['what', 'steps/s (spread)', 'p50 ms', 'p99 ms', 'errors'],
          align: ['l', 'r', 'r', 'r', 'r'],
          rows: [
            [
              `single steps, ${connections} connections`,
              rateWithSpread(singleRate),
              ms(median(single.map((r) => r.p50))),
              ms(median(single.map((r) => r.p99))),
              String(single.reduce((n, r) => n + r.errors, 0)),
            ],
            [
              `batches of ${BATCH_STEPS}, ${batchConnections} connections`,
              rateWithSpread(batchRate),
              ms(median(batch.map((r) => r.p50))),
              ms(median(batch.map((r) => r.p99))),
              String(batch.reduce((n, r) => n + r.errors, 0)),
            ],
          ],
        },
        {
          head: ['under that load', 'value'],
          align: ['l', 'r'],
          rows: [
            lagRow('single', 'single steps'),
            lagRow('batch', 'batches'),
            ['projection catch-up after the load ends, ms', ms(catchUpMs)],
            ['app RSS idle / peak, MiB', `${whole(rssIdle / 2 ** 20)} / ${whole(rssPeak / 2 ** 20)}`],
            ['ledger bytes per custody step (checkpoints included)', whole(bytes / steps)],
          ],
        },
        {
          head: [
            'CPU µs per step while it ran',
            'application',
            'Kafka broker',
            'PostgreSQL',
            'load generator',
            'rest of the machine',
            'idle',
            `all ${cores()} cores`,
          ],
          align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
          rows: [cpuRow('single steps', cpuSingle), cpuRow(`batches of ${BATCH_STEPS}`, cpuBatch)],
        },
      ],
      figures: {
        singlePerSecond: singleRate.median,
        singleP50Ms: median(single.map((r) => r.p50)),
        singleP99Ms: median(single.map((r) => r.p99)),
        batchPerSecond: batchRate.median,
        batchP99Ms: median(batch.map((r) => r.p99)),
        errors,
        lagP99Ms: lagP99,
        lagSingleP99Ms: percentile(lags.single, 99),
        lagBatchP99Ms: percentile(lags.batch, 99),
        projectionSinglePerSecond: median(projectionRates.single),
        projectionBatchPerSecond: median(projectionRates.batch),
        catchUpMs,
        rssIdleBytes: rssIdle,
        rssPeakBytes: rssPeak,
        ledgerBytesPerStep: bytes / steps,
        ...cpuFigures('Single', cpuSingle),
        ...cpuFigures('Batch', cpuBatch),
      },
    };
  } finally {
    clearInterval(sampler);
    await db.end();
    await app.stop();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [app.topic] }).finally(() => admin.disconnect());
  }
}

/**
 * Several instances of one ledger (docs/scaling.md): single custody steps over HTTP spread over
 * three instances (two of three forward to the writer's) against one instance in the same run,
 * and the takeover when the writing instance is killed with SIGKILL.
 */
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { maintenanceUrl } from '../src/infrastructure/database/database-provisioning.js';
import { writeApiKeys } from '../test/support/api-key-file.js';
import { type CustodianProcess, startCustodianProcess } from '../test/support/custodian-process.js';
import { freePort } from './support/app-process.js';
import { commission, MAKER } from './support/commissioning.js';
import {
  type BenchContext,
  type Benchmark,
  measure,
  median,
  ms,
  type Measured,
  rateWithSpread,
  ratio,
  sleep,
  whole,
} from './support/suite.js';

interface Cluster {
  readonly instances: (CustodianProcess | null)[];
  readonly key: string;
  readonly topic: string;
  start(i: number): Promise<void>;
  /** The instance whose readiness says it writes partition 0. */
  writer(): Promise<number>;
  stop(): Promise<void>;
}

/** `count` instances of one fresh ledger (CLUSTER_ENABLED when more than one), sharing a data directory and a database. */
async function startCluster(count: number, serverUrl: string, brokers: string): Promise<Cluster> {
  const suffix = randomBytes(4).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'custodian-bench-cluster-'));
  const keys = writeApiKeys(dataDir, [{ name: 'maker', role: 'operator', party: MAKER }]);
  const database = new URL(serverUrl);
  database.pathname = `/custodian_bench_cluster_${suffix}`;
  const topic = `custodian.bench.cluster.${suffix}`;
  const shared = {
    DATABASE_URL: database.toString(),
    KAFKA_BROKERS: brokers,
    LEDGER_TOPIC: topic,
    LEDGER_ID: `bench-cluster-${suffix}`,
    CUSTODIAN_DATA_DIR: dataDir,
    API_KEYS_FILE: keys.file,
    LOG_LEVEL: 'error',
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    CLUSTER_ENABLED: count > 1 ? 'true' : 'false',
  };
  const envs: Record<string, string>[] = [];
  for (let i = 0; i < count; i++)
    envs.push({ ...shared, PORT: String(await freePort()), CLUSTER_PORT: String(await freePort()) });
  const instances: (CustodianProcess | null)[] = [];
  const cluster: Cluster = {
    instances,
    key: keys.keys.maker as string,
    topic,
    async start(i) {
      instances[i] = await startCustodianProcess(envs[i] as Record<string, string>, 120_000);
    },
    async writer() {
      const deadline = Date.now() + 30_000;
      for (;;) {
        for (const [i, instance] of instances.entries()) {
          if (!instance) continue;
          const ready = (await (await fetch(`${instance.url}/health/ready`)).json()) as {
            info?: { cluster?: { writes?: number[] } };
          };
          if (count === 1 || ready.info?.cluster?.writes?.includes(0)) return i;
        }
        if (Date.now() > deadline) throw new Error('no instance writes partition 0');
        await sleep(100);
      }
    },
    async stop() {
      for (const instance of instances) if (instance) await instance.stop('SIGTERM');
      const server = new pg.Client({ connectionString: maintenanceUrl(serverUrl) });
      await server.connect();
      await server.query(`DROP DATABASE IF EXISTS "${database.pathname.slice(1)}" WITH (FORCE)`);
      await server.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  for (let i = 0; i < count; i++) await cluster.start(i);
  return cluster;
}

/** Single commissionings through autocannon, its connections spread over the instances' URLs. */
async function singleSteps(urls: readonly string[], key: string, seconds: number, label: string) {
  const result = await autocannon({
    // autocannon spreads its connections over several URLs (lib/url.js); its types name one.
    url: [...urls] as unknown as string,
    connections: 64,
    duration: seconds,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    requests: [{ method: 'POST', path: '/products', setupRequest: (r) => ({ ...r, body: JSON.stringify(commission(label)) }) }],
  });
  return { perSecond: result['2xx'] / result.duration, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

/** From SIGKILL of the writing instance until a surviving instance answers a step 201, in ms. */
async function takeover(cluster: Cluster, n: number): Promise<{ ms: number; answers: Record<string, number> }> {
  const killed = await cluster.writer();
  const survivor = cluster.instances.findIndex((instance, i) => instance && i !== killed);
  const url = (cluster.instances[survivor] as CustodianProcess).url;
  await (cluster.instances[killed] as CustodianProcess).stop('SIGKILL');
  cluster.instances[killed] = null;
  const t0 = performance.now();
  const answers: Record<string, number> = {};
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${url}/products`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(commission(`takeover-${n}-${attempt}`)),
    });
    await response.arrayBuffer();
    answers[response.status] = (answers[response.status] ?? 0) + 1;
    if (response.status === 201) break;
    if (performance.now() - t0 > 60_000) throw new Error('no takeover within 60 s');
  }
  const elapsed = performance.now() - t0;
  await cluster.start(killed);
  return { ms: elapsed, answers };
}

export const cluster: Benchmark = {
  id: 'cluster',
  title: 'Several instances of one ledger: forwarding and failover',
  run: measureCluster,
};

async function measureCluster({ quick, databaseUrl, progress }: BenchContext): Promise<Measured> {
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:19092';
  const runs = quick ? 1 : 3;
  const seconds = quick ? 3 : 10;
  const kills = quick ? 2 : 7;
  const one: number[] = [];
  const three: number[] = [];
  const p99 = { one: [] as number[], three: [] as number[] };
  let errors = 0;
  const takeovers: number[] = [];
  const failedAnswers: Record<string, number> = {};

  const single = await startCluster(1, databaseUrl, brokers);
  try {
    const url = (single.instances[0] as CustodianProcess).url;
    await singleSteps([url], single.key, 2, 'warm');
    for (let run = 1; run <= runs; run++) {
      const r = await singleSteps([url], single.key, seconds, `one-${run}`);
      one.push(r.perSecond);
      p99.one.push(r.p99);
      errors += r.errors;
      progress(`run ${run}/${runs}: one instance ${whole(r.perSecond)} steps/s, p99 ${r.p99} ms`);
    }
  } finally {
    await single.stop();
  }

  const three_ = await startCluster(3, databaseUrl, brokers);
  try {
    const urls = () => three_.instances.map((instance) => (instance as CustodianProcess).url);
    await singleSteps(urls(), three_.key, 2, 'warm');
    for (let run = 1; run <= runs; run++) {
      const r = await singleSteps(urls(), three_.key, seconds, `three-${run}`);
      three.push(r.perSecond);
      p99.three.push(r.p99);
      errors += r.errors;
      progress(`run ${run}/${runs}: three instances ${whole(r.perSecond)} steps/s, p99 ${r.p99} ms`);
    }
    for (let n = 0; n < kills; n++) {
      const t = await takeover(three_, n);
      takeovers.push(t.ms);
      for (const [status, count] of Object.entries(t.answers)) {
        if (status !== '201') failedAnswers[status] = (failedAnswers[status] ?? 0) + count;
      }
      progress(`kill ${n + 1}/${kills}: takeover in ${whole(t.ms)} ms`);
    }
  } finally {
    await three_.stop();
  }

  const oneRate = measure(one);
  const threeRate = measure(three);
  const takeover_ = measure(takeovers);
  return {
    about:
      'Three instances of one ledger on this machine (`CLUSTER_ENABLED=true`, docs/scaling.md), each its own process as ' +
      '`npm run start:cluster` runs them, sharing the broker and the database. Kafka’s group places the one partition’s ' +
      'writer in one instance; the other two forward every step to it over `@nestjs/microservices` TCP. autocannon spreads ' +
      'its 64 connections over the three instances’ URLs (single commissionings, `POST /products`); the baseline is one ' +
      'instance without the cluster, measured in the same run with the same load. Failover: the writing instance is killed ' +
      'with SIGKILL while a client asks a surviving instance to record a step again and again; the takeover is the time from ' +
      'the kill to its first 201 (Kafka notices the silent member after its session timeout, 3 s, the group places the ' +
      'writer elsewhere and it resumes from its snapshot). The killed instance is then started again.',
    setting: `${seconds} s per load case, median of ${runs} run(s); ${kills} kills; 2 cores shared by three instances, the broker and the database`,
    tables: [
      {
        head: ['what', 'steps/s (spread)', 'p99 ms', 'ratio to one instance'],
        align: ['l', 'r', 'r', 'r'],
        rows: [
          ['single steps, one instance (`http-single-1`)', rateWithSpread(oneRate), ms(median(p99.one)), '1.00'],
          [
            'single steps, three instances, two of three forwarded (`http-single-3`)',
            rateWithSpread(threeRate),
            ms(median(p99.three)),
            ratio(threeRate.median / oneRate.median),
          ],
        ],
      },
      {
        head: ['failover', 'value'],
        align: ['l', 'r'],
        rows: [
          [
            'takeover, SIGKILL to the next 201: median (min–max), ms',
            `${whole(takeover_.median)} (${whole(takeover_.min)}–${whole(takeover_.max)})`,
          ],
          ['each takeover, ms', takeovers.map((t) => whole(t)).join(', ')],
          [
            'answers before the 201 (retryable)',
            Object.entries(failedAnswers)
              .map(([status, count]) => `${count} × ${status}`)
              .join(', ') || 'none',
          ],
          ['errors under load (non-2xx, of both cases)', String(errors)],
        ],
      },
    ],
    figures: {
      httpSingle1PerSecond: oneRate.median,
      httpSingle3PerSecond: threeRate.median,
      httpSingle3Ratio: threeRate.median / oneRate.median,
      httpSingle3P99Ms: median(p99.three),
      failoverMedianMs: takeover_.median,
      failoverMaxMs: takeover_.max,
      failoverMinMs: takeover_.min,
      errors,
    },
  };
}

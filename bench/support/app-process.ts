/**
 * Custodian as a process of its own (`node dist/src/main.js`, as `npm start` runs it) on a fresh
 * ledger topic, database and data directory, so a load generator in the benchmark's process
 * does not share its event loop and its memory can be read from /proc.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { Role } from '../../src/infrastructure/auth/api-keys.js';
import { maintenanceUrl } from '../../src/infrastructure/database/database-provisioning.js';
import { writeApiKeys } from '../../test/support/api-key-file.js';
import { MAIN, processUsage, startCustodianProcess } from '../../test/support/custodian-process.js';

/**
 * BENCH_PROJECTOR=process: the application runs without its projector (PROJECTOR_ENABLED=false)
 * and the projector runs as a process of its own (dist/src/tools/projector.js), as an operator
 * may run it; by default the application projects in its own process, as `npm start` does.
 */
const PROJECTOR_APART = process.env.BENCH_PROJECTOR === 'process';

/** `BENCH_APP_ENV='READER_THREADS=0 …'`: settings of the application measured, to compare two of them. */
function extraEnv(): Record<string, string> {
  const pairs = (process.env.BENCH_APP_ENV ?? '').split(' ').filter(Boolean);
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`BENCH_APP_ENV: ${pair} is not NAME=value`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}
const PROJECTOR = join(dirname(MAIN), 'tools/projector.js');

/** SIGTERM to a child process, resolved once it has exited. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

export interface AppProcess {
  readonly url: string;
  readonly pid: number;
  readonly topic: string;
  readonly ledgerId: string;
  readonly databaseUrl: string;
  readonly keys: Record<string, string>;
  /** Resident set size of the process now, in bytes. */
  rss(): number;
  /**
   * SIGTERM, wait for the exit, and start the process again on the same ledger, database and
   * data directory; resolves once it is ready, with the moment (performance.now()) it was spawned.
   */
  restart(env?: Record<string, string>): Promise<{ readonly spawnedAt: number }>;
  /**
   * SIGTERM, wait for the exit, run `work` with the process's environment, and start it again as
   * it was. `project`: the projector follows the ledger meanwhile as a process of its own
   * (dist/src/tools/projector.js, on the same read models and position), so the application
   * does not find all that `work` appended unprojected when it starts again.
   */
  whileStopped<T>(
    work: (env: Readonly<Record<string, string>>) => Promise<T>,
    options?: { readonly project?: boolean },
  ): Promise<T>;
  /** SIGTERM, wait for the exit, drop the database and the data directory. */
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

export async function startAppProcess(options: {
  readonly serverUrl: string;
  readonly brokers: string;
  /** API keys to create, by name. */
  readonly keys: readonly { readonly name: string; readonly role: Role; readonly party: string | null }[];
  readonly env?: Record<string, string>;
}): Promise<AppProcess> {
  const suffix = randomBytes(4).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'custodian-bench-'));
  const apiKeys = writeApiKeys(
    dataDir,
    options.keys.map(({ name, role, party }) => ({ name, role, ...(party ? { party } : {}) })),
  );
  const database = new URL(options.serverUrl);
  database.pathname = `/custodian_bench_${suffix}`;
  const topic = `custodian.bench.http.${suffix}`;
  const ledgerId = `bench-http-${suffix}`;
  const dropDatabase = async () => {
    const server = new pg.Client({ connectionString: maintenanceUrl(options.serverUrl) });
    await server.connect();
    await server.query(`DROP DATABASE IF EXISTS "${database.pathname.slice(1)}" WITH (FORCE)`);
    await server.end();
    rmSync(dataDir, { recursive: true, force: true });
  };
  // BENCH_APP_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/profiles": a profile of the app under the load.
  const nodeArgs = process.env.BENCH_APP_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const env: Record<string, string> = {
    DATABASE_URL: database.toString(),
    KAFKA_BROKERS: options.brokers,
    LEDGER_TOPIC: topic,
    LEDGER_ID: ledgerId,
    CUSTODIAN_DATA_DIR: dataDir,
    API_KEYS_FILE: apiKeys.file,
    PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    ...options.env,
    ...extraEnv(),
  };
  if (PROJECTOR_APART) env.PROJECTOR_ENABLED = 'false';
  let app = await startCustodianProcess(env, 60_000, nodeArgs).catch(async (error: unknown) => {
    await dropDatabase();
    throw error;
  });
  // Started once the application has migrated the database; it follows the ledger until stop().
  const spawnProjector = () => spawn(process.execPath, [PROJECTOR], { env: { PATH: process.env.PATH, ...env }, stdio: 'ignore' });
  const projector: ChildProcess | null = PROJECTOR_APART ? spawnProjector() : null;
  const stopProjector = async () => {
    if (projector) await stopChild(projector);
  };
  return {
    get url() {
      return app.url;
    },
    get pid() {
      return app.pid;
    },
    topic,
    ledgerId,
    databaseUrl: database.toString(),
    keys: apiKeys.keys,
    rss: () => processUsage(app.pid).rssBytes,
    async restart(more = {}) {
      await app.stop('SIGTERM');
      const spawnedAt = performance.now();
      app = await startCustodianProcess({ ...env, ...more }, 600_000, nodeArgs);
      return { spawnedAt };
    },
    async whileStopped(work, { project = false } = {}) {
      await app.stop('SIGTERM');
      // With BENCH_PROJECTOR=process the projector follows the ledger all along already.
      const beside = project && !PROJECTOR_APART ? spawnProjector() : null;
      try {
        return await work(env);
      } finally {
        if (beside) await stopChild(beside);
        app = await startCustodianProcess(env, 600_000, nodeArgs);
      }
    },
    async stop() {
      await app.stop('SIGTERM');
      await stopProjector();
      await dropDatabase();
    },
  };
}

/**
 * Custodian as a process of its own (`node dist/src/main.js`, as `npm start` runs it) on a fresh
 * ledger topic, database and data directory, so a load generator in the benchmark's process
 * does not share its event loop and its memory can be read from /proc.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { hashApiKey, newApiKey, type Role } from '../../src/infrastructure/auth/api-keys.js';
import { maintenanceUrl } from '../../src/infrastructure/database/database-provisioning.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export interface AppProcess {
  readonly url: string;
  readonly pid: number;
  readonly topic: string;
  readonly ledgerId: string;
  readonly databaseUrl: string;
  readonly keys: Record<string, string>;
  /** Resident set size of the process now, in bytes. */
  rss(): number;
  /** SIGTERM, wait for the exit, drop the database and the data directory. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
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
  const apiKeys = { file: join(dataDir, 'api-keys.json'), keys: {} as Record<string, string> };
  const entries = options.keys.map(({ name, role, party }) => {
    const key = newApiKey();
    apiKeys.keys[name] = key;
    return { name, role, party, sha256: hashApiKey(key) };
  });
  writeFileSync(apiKeys.file, JSON.stringify({ keys: entries }), { mode: 0o600 });
  const database = new URL(options.serverUrl);
  database.pathname = `/custodian_bench_${suffix}`;
  const topic = `custodian.bench.http.${suffix}`;
  const ledgerId = `bench-http-${suffix}`;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // BENCH_APP_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/profiles": a profile of the app under the load.
  const nodeArgs = process.env.BENCH_APP_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, MAIN], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: database.toString(),
      KAFKA_BROKERS: options.brokers,
      LEDGER_TOPIC: topic,
      LEDGER_ID: ledgerId,
      CUSTODIAN_DATA_DIR: dataDir,
      API_KEYS_FILE: apiKeys.file,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const dropDatabase = async () => {
    const server = new pg.Client({ connectionString: maintenanceUrl(options.serverUrl) });
    await server.connect();
    await server.query(`DROP DATABASE IF EXISTS "${database.pathname.slice(1)}" WITH (FORCE)`);
    await server.end();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  const deadline = Date.now() + 60_000;
  while (
    !(await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      await dropDatabase();
      throw new Error(`Custodian did not become ready:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const pid = child.pid ?? 0;
  return {
    url,
    pid,
    topic,
    ledgerId,
    databaseUrl: database.toString(),
    keys: apiKeys.keys,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) * 1024,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await dropDatabase();
    },
  };
}

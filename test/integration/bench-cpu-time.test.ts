import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import {
  cores,
  cpuBetween,
  findBroker,
  findPostmaster,
  postmasterFromCommandLine,
  postmasterFromPidFile,
  processSeconds,
  readCpu,
  type Watched,
} from '../../bench/support/cpu-time.js';
import { maintenanceUrl } from '../../src/infrastructure/database/database-provisioning.js';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS } from '../support/test-stack.mjs';

/*
 * Where the http benchmark's cores went (bench/support/cpu-time.ts): the CPU seconds it charges
 * to a process are the ones that process burnt, not its wall time, and the test services it
 * watches are found: the broker by its command line and port, PostgreSQL by its data directory.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A node process running `code` once it has started (it says so first). */
async function started(code: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `process.stdout.write('ready\\n'); ${code}`], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => {
      resolve();
    });
    child.once('error', reject);
  });
  // Nothing more is read from it: its pipe must not outlive it (jest waits for open handles).
  child.stdout.destroy();
  return child;
}

/** Kills a child and waits until it is gone. */
async function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** The CPU seconds of one process between two readings, as readCpu charges an application. */
const watch = (pid: number): Watched => ({ app: pid, broker: null, postgres: null });

describe('the CPU time a benchmark charges to each process', () => {
  const serverUrl = maintenanceUrl(process.env[TEST_DATABASE_URL] ?? '');
  let db: pg.Client;
  let dataDirectory = '';
  let server: number | null = null;

  beforeAll(async () => {
    db = new pg.Client({ connectionString: serverUrl });
    await db.connect();
    const { rows } = await db.query<{ data_directory: string }>('SHOW data_directory');
    dataDirectory = rows[0]?.data_directory ?? '';
    server = findPostmaster(dataDirectory);
  });

  afterAll(async () => {
    await db.end();
  });

  it('charges a busy process its CPU and an idle one almost none, and the machine its cores', async () => {
    const busy = await started('const end = Date.now() + 10_000; while (Date.now() < end);');
    const idle = await started('setTimeout(() => {}, 10_000);');
    try {
      const t0 = performance.now();
      const before = [readCpu(watch(busy.pid!)), readCpu(watch(idle.pid!))] as const;
      await sleep(1_000);
      const busyUsed = cpuBetween(before[0], readCpu(watch(busy.pid!)));
      const idleUsed = cpuBetween(before[1], readCpu(watch(idle.pid!)));
      const wall = (performance.now() - t0) / 1000;
      // A spinning process has a core for a good part of the second, even beside another test
      // worker's services; never more than the second itself.
      expect(busyUsed.app).toBeGreaterThan(0.25 * wall);
      expect(busyUsed.app).toBeLessThanOrEqual(wall + 0.05);
      expect(idleUsed.app).toBeLessThan(0.05);
      expect(busyUsed.broker).toBeNull();
      // The machine's busy and idle time is every core's: ticks read at the right rate.
      expect(busyUsed.machineBusy + busyUsed.machineIdle).toBeGreaterThan(0.75 * cores() * wall);
      expect(busyUsed.machineBusy + busyUsed.machineIdle).toBeLessThan(1.25 * cores() * wall);
      expect(busyUsed.machineBusy).toBeGreaterThan(busyUsed.app - 0.05);
    } finally {
      await Promise.all([killed(busy), killed(idle)]);
    }
  });

  it('finds the broker the tests run against by its port, and none on a port no broker listens on', () => {
    const port = Number(process.env[TEST_KAFKA_BROKERS]?.split(',')[0]?.split(':').at(-1));
    const broker = findBroker(port);
    expect(broker).not.toBeNull();
    const args = readFileSync(`/proc/${broker!}/cmdline`, 'utf8').split('\0');
    expect(args[0]).toMatch(/(^|\/)java$/);
    expect(args).toContain('kafka.Kafka');
    expect(findBroker(1)).toBeNull();
  });

  it('charges PostgreSQL the work of a backend still connected', async () => {
    expect(server).not.toBeNull();
    const watched: Watched = { app: process.pid, broker: null, postgres: server };
    const backend = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const before = readCpu(watched);
    const backendBefore = processSeconds(backend);
    await db.query('SELECT count(*) FROM generate_series(1, 5000000)');
    const backendUsed = processSeconds(backend) - backendBefore;
    const serverUsed = cpuBetween(before, readCpu(watched)).postgres!;
    expect(backendUsed).toBeGreaterThan(0.2);
    expect(serverUsed).toBeGreaterThanOrEqual(backendUsed - 0.02);
  });

  it('charges PostgreSQL the work of a backend that ended meanwhile (reaped by the postmaster)', async () => {
    const watched: Watched = { app: process.pid, broker: null, postgres: server };
    const before = readCpu(watched);
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await client.query('SELECT count(*) FROM generate_series(1, 5000000)');
    const backendUsed = processSeconds(backend);
    await client.end();
    for (let i = 0; i < 100 && existsSync(`/proc/${backend}`); i++) await sleep(50);
    expect(existsSync(`/proc/${backend}`)).toBe(false);
    const serverUsed = cpuBetween(before, readCpu(watched)).postgres!;
    expect(backendUsed).toBeGreaterThan(0.2);
    expect(serverUsed).toBeGreaterThanOrEqual(backendUsed - 0.02);
  });

  it('finds the server by its command line as by its postmaster.pid (the way for a data directory this user may not read)', () => {
    const byPidFile = postmasterFromPidFile(dataDirectory);
    expect(byPidFile).not.toBeNull();
    expect(postmasterFromCommandLine(dataDirectory)).toBe(byPidFile);
    expect(postmasterFromCommandLine(`${dataDirectory}/../${dataDirectory.split('/').at(-1)!}`)).toBe(byPidFile);
  });

  it('has no server to find in a directory that holds none', () => {
    expect(findPostmaster('/nonexistent/postgres-data')).toBeNull();
  });
});

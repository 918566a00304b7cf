import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import {
  cpuBetween,
  findBroker,
  findPostmaster,
  postmasterFromCommandLine,
  postmasterFromPidFile,
  readCpu,
  type Watched,
} from '../../bench/support/cpu-time.js';
import { maintenanceUrl } from '../../src/infrastructure/database/database-provisioning.js';
import { TEST_DATABASE_URL } from '../support/test-stack.mjs';

/*
 * Where the http benchmark's cores went (bench/support/cpu-time.ts): the CPU seconds it charges
 * to a process are the ones that process burnt, not its wall time, and the test services it
 * watches are found: the broker by its command line, PostgreSQL by its data directory.
 */
const child = (code: string): ChildProcess => spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the CPU time a benchmark charges to each process', () => {
  let db: pg.Client;
  let watchedServer: number | null = null;
  let dataDirectory = '';
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    db = new pg.Client({ connectionString: maintenanceUrl(process.env[TEST_DATABASE_URL] ?? '') });
    await db.connect();
    const { rows } = await db.query<{ data_directory: string }>('SHOW data_directory');
    dataDirectory = rows[0]?.data_directory ?? '';
    watchedServer = findPostmaster(dataDirectory);
  });

  afterAll(async () => {
    for (const process of children) process.kill('SIGKILL');
    await db.end();
  });

  it('charges a busy process its CPU and an idle one almost none', async () => {
    const busy = child('const end = Date.now() + 60_000; while (Date.now() < end);');
    const idle = child('setTimeout(() => {}, 60_000);');
    children.push(busy, idle);
    await sleep(300); // both started
    const watch = (pid: number): Watched => ({ app: pid, broker: null, postgres: null });
    const before = [readCpu(watch(busy.pid!)), readCpu(watch(idle.pid!))] as const;
    const t0 = performance.now();
    await sleep(1_000);
    const wall = (performance.now() - t0) / 1000;
    const busyUsed = cpuBetween(before[0], readCpu(watch(busy.pid!)));
    const idleUsed = cpuBetween(before[1], readCpu(watch(idle.pid!)));
    // The spinning child had a core for most of the second (two cores, this test's own thread mostly asleep).
    expect(busyUsed.app).toBeGreaterThan(0.5 * wall);
    expect(busyUsed.app).toBeLessThanOrEqual(wall + 0.05);
    expect(idleUsed.app).toBeLessThan(0.05);
    expect(busyUsed.broker).toBeNull();
    expect(busyUsed.machineBusy + busyUsed.machineIdle).toBeGreaterThan(0.9 * wall);
  });

  it('finds the broker the tests run against by its command line', () => {
    const broker = findBroker();
    expect(broker).not.toBeNull();
    expect(readFileSync(`/proc/${broker!}/cmdline`, 'utf8')).toContain('kafka.Kafka');
  });

  it('charges PostgreSQL the work of its backends', async () => {
    expect(watchedServer).not.toBeNull();
    const watched: Watched = { app: process.pid, broker: null, postgres: watchedServer };
    let before = readCpu(watched);
    await sleep(200);
    const quiet = cpuBetween(before, readCpu(watched)).postgres!;
    before = readCpu(watched);
    await db.query('SELECT count(*) FROM generate_series(1, 5000000)');
    const working = cpuBetween(before, readCpu(watched)).postgres!;
    expect(working).toBeGreaterThan(0.2);
    expect(working).toBeGreaterThan(quiet + 0.15);
  });

  it('finds the same server by its command line as by its postmaster.pid (a server another user runs)', () => {
    const byPidFile = postmasterFromPidFile(dataDirectory);
    expect(byPidFile).not.toBeNull();
    expect(postmasterFromCommandLine(dataDirectory)).toBe(byPidFile);
    expect(postmasterFromCommandLine(`${dataDirectory}/../${dataDirectory.split('/').at(-1)!}`)).toBe(byPidFile);
  });

  it('has no server to find in a directory that holds none', () => {
    expect(findPostmaster('/nonexistent/postgres-data')).toBeNull();
  });
});

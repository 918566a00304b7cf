import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StoredRecord } from '../../src/ledger/ledger-record.js';
import {
  type CustodyApp,
  startCustodyApp,
  gln,
  gtin,
  readLedger,
  type RecordedStep,
  sgtin,
  shipmentId,
  sscc,
} from '../support/custody-api.js';

const MAKER = gln(1);
const MAKER_SITE = gln(2);
const CARRIER = gln(3, '405432');
const DC = gln(4, '409876');
const DC_SITE = gln(5, '409876');
const RETAILER = gln(6, '406543');
const PRODUCT_GTIN = gtin(134352);
const PALLET = sscc(1234567);
const LOT = 'LOT-2026-11';

describe('a custody journey over HTTP, from commissioning to the retailer', () => {
  let app: CustodyApp;

  beforeAll(async () => {
    app = await startCustodyApp([
      { name: 'maker', role: 'operator', party: MAKER },
      { name: 'carrier', role: 'operator', party: CARRIER },
      { name: 'dc', role: 'operator', party: DC },
      { name: 'retailer', role: 'operator', party: RETAILER },
    ]);
  });

  afterAll(() => app.close());

  it('records every step with a receipt whose record is in the ledger topic and verifies', async () => {
    const { client, keys } = app;
    const steps: RecordedStep[] = [];
    const expectCreated = async (response: Promise<{ status: number; body: RecordedStep }>) => {
      const { status, body } = await response;
      expect(status === 201 ? 201 : body).toBe(201);
      steps.push(body);
      return body;
    };
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 8, minute)).toISOString();
    const products = Array.from({ length: 100 }, (_, i) => sgtin(PRODUCT_GTIN, `SN-${String(i).padStart(4, '0')}`));

    // The manufacturer commissions 100 serialized products (concurrently, as scanners would).
    await Promise.all(
      products.map((_, i) =>
        expectCreated(
          client.post('/products', keys.maker!, {
            gtin: PRODUCT_GTIN,
            serial: `SN-${String(i).padStart(4, '0')}`,
            lot: LOT,
            name: 'Cold-chain vaccine, 10 doses',
            owner: MAKER,
            location: MAKER_SITE,
            occurredAt: at(0),
            attributes: { expiry: '2027-11-30', doses: 10 },
          }),
        ),
      ),
    );
    // ... packs them into a pallet, dispatches it and hands it to the carrier.
    const pallet = await expectCreated(
      client.post('/shipments', keys.maker!, {
        sscc: PALLET,
        owner: MAKER,
        origin: MAKER_SITE,
        destination: DC_SITE,
        consignee: DC,
        occurredAt: at(1),
      }),
    );
    expect(pallet.subject).toBe(shipmentId(PALLET));
    const move = { shipment: pallet.subject, location: MAKER_SITE };
    const packed = await expectCreated(
      client.post('/shipments/pack', keys.maker!, { ...move, products, party: MAKER, occurredAt: at(2) }),
    );
    expect(packed.eventType).toBe('shipment.packed');
    await expectCreated(client.post('/shipments/dispatch', keys.maker!, { ...move, party: MAKER, occurredAt: at(3) }));
    await expectCreated(
      client.post('/custody/handover', keys.maker!, {
        subject: pallet.subject,
        from: MAKER,
        to: CARRIER,
        location: MAKER_SITE,
        occurredAt: at(4),
        evidence: { documentHash: 'ab'.repeat(32), url: 'https://carrier.example/cmr/4711' },
      }),
    );
    // The distribution centre receives the pallet, unpacks it and hands 10 products to a retailer.
    const atDc = { shipment: pallet.subject, location: DC_SITE };
    await expectCreated(client.post('/shipments/receive', keys.dc!, { ...atDc, party: DC, occurredAt: at(30) }));
    await expectCreated(client.post('/shipments/unpack', keys.dc!, { ...atDc, products, party: DC, occurredAt: at(31) }));
    for (const product of products.slice(0, 10)) {
      await expectCreated(
        client.post('/custody/handover', keys.dc!, {
          subject: product,
          from: DC,
          to: RETAILER,
          location: DC_SITE,
          occurredAt: at(40),
        }),
      );
    }
    expect(steps).toHaveLength(100 + 1 + 1 + 1 + 1 + 1 + 1 + 10);

    // Every receipt names a record in the topic, found by an auditor's verifying read.
    const records = await readLedger(app.kafka, app.config.ledger.topic, app.config.ledger.id, client);
    const byOffset = new Map<string, StoredRecord>(records.map((stored) => [stored.offset, stored]));
    for (const step of steps) {
      const stored = byOffset.get(step.receipt.offset);
      expect(stored?.hash).toBe(step.receipt.hash);
      expect(stored?.record.sequence).toBe(step.receipt.sequence);
      expect(stored?.record.eventId).toBe(step.eventId);
      expect(stored?.record.eventType).toBe(step.eventType);
      expect(stored?.record.entities[0]?.id).toBe(step.subject);
    }
    // The pallet's dispatch and handover carried all 100 products; the retailer now holds 10.
    const firstHandover = steps.find((step) => step.eventType === 'custody.handover')!;
    const handoverToCarrier = byOffset.get(firstHandover.receipt.offset)!.record;
    expect(handoverToCarrier.entities.map((e) => e.id)).toEqual([pallet.subject, ...products]);
    expect(handoverToCarrier.payload).toMatchObject({
      from: MAKER,
      to: CARRIER,
      evidence: { url: 'https://carrier.example/cmr/4711' },
    });
    expect(handoverToCarrier.actor).toBe('maker');
    const toRetailer = records.filter((s) => s.record.eventType === 'custody.handover' && s.record.payload.to === RETAILER);
    expect(toRetailer.map((s) => s.record.entities[0]?.id)).toEqual(products.slice(0, 10));

    // Provenance from the read models, once they hold the last step (read-your-writes).
    const last = steps.at(-1)!.receipt;
    const waitFor = `waitFor=${last.partition}:${last.sequence}`;
    const read = <T>(path: string) => client.request<T>('GET', path, { key: keys.retailer });
    const [, , gtin14, , serial] = products[0]!.split('/');
    type Step = { eventType: string; via: string | null; payload: { to?: string }; ledger: { sequence: number; hash: string } };
    const history = await read<{ steps: Step[]; next: string | null; projection: { nextSequence: number }[] }>(
      `/products/01/${gtin14}/21/${serial}/history?${waitFor}`,
    );
    expect(history.status).toBe(200);
    expect(history.body.steps.map((s) => s.eventType)).toEqual([
      'product.commissioned',
      'shipment.packed',
      'shipment.dispatched',
      'custody.handover',
      'shipment.received',
      'shipment.unpacked',
      'custody.handover',
    ]);
    // The carrier leg came from the pallet; the retailer's handover was the product's own.
    expect(history.body.steps[3]).toMatchObject({ via: pallet.subject, payload: { to: CARRIER } });
    expect(history.body.steps[6]).toMatchObject({ via: null, payload: { to: RETAILER } });
    expect(history.body.steps[3]!.ledger.hash).toBe(firstHandover.receipt.hash);
    expect(history.body.projection[0]!.nextSequence).toBeGreaterThan(last.sequence);

    const page = await read<{ steps: Step[]; next: string }>(`/products/01/${gtin14}/21/${serial}/history?limit=4`);
    const rest = await read<{ steps: Step[]; next: string | null }>(
      `/products/01/${gtin14}/21/${serial}/history?limit=4&cursor=${page.body.next}`,
    );
    expect([...page.body.steps, ...rest.body.steps].map((s) => s.ledger.sequence)).toEqual(
      history.body.steps.map((s) => s.ledger.sequence),
    );
    expect(rest.body.next).toBeNull();
    const carrierSteps = await read<{ steps: Step[] }>(`/products/01/${gtin14}/21/${serial}/history?party=${CARRIER}`);
    expect(carrierSteps.body.steps.map((s) => s.eventType)).toEqual(['custody.handover']);

    const current = await read<{ product: { holder: string; location: string; status: string; lot: string } }>(
      `/products/01/${gtin14}/21/${serial}`,
    );
    expect(current.body.product).toMatchObject({ holder: RETAILER, location: DC_SITE, status: 'active', lot: LOT });

    const forward = await read<{ products: { id: string; holder: string; holders: string[] }[] }>(
      `/products/01/${gtin14}/10/${LOT}/trace/forward`,
    );
    expect(forward.body.products).toHaveLength(100);
    const atRetailer = forward.body.products.filter((p) => p.holder === RETAILER).map((p) => p.id);
    expect(atRetailer.sort()).toEqual(products.slice(0, 10).sort());
    expect(forward.body.products.every((p) => p.holders.includes(CARRIER))).toBe(true);

    const [, , sscc18] = pallet.subject.split('/');
    const packedThen = await read<{ contents: unknown[] }>(`/shipments/00/${sscc18}/contents?at=${encodeURIComponent(at(10))}`);
    expect(packedThen.body.contents).toHaveLength(100);
    const now = await read<{ shipment: { holder: string }; contents: unknown[] }>(`/shipments/00/${sscc18}`);
    expect(now.body).toMatchObject({ shipment: { holder: DC }, contents: [] });
  });
});

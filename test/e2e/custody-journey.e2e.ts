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
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SignedAttestation } from '../../src/verification/attestation.js';
import { openDatabase } from '../support/projection-harness.js';
import type { AuditJob } from '../../src/verification/audit-jobs.js';
import { cbvTerm } from '../../src/epcis/capture-mapping.js';
import { checkEpcisJson } from '../../src/epcis/epcis-schema.js';
import { epcUrn } from '../../src/gs1/epc-urn.js';
import { type CustodyApp, gln, gtin, sscc, startCustodyApp } from '../support/custody-api.js';

/**
 * A supply chain told in EPCIS 2.0 documents only (docs/epcis.md): a maker commissions a lot of
 * 100 kg and a pallet (SSCC) bound for a distributor, makes three items of 40 kg of the lot,
 * packs them on the pallet and ships it; the distributor receives it, unpacks it, inspects one
 * item with a temperature reading, stores another and destroys the third. Then Custodian's own
 * questions: provenance, the backward and forward traces, attestations and a full audit, and the
 * events queried back with the standard query.
 */
const MAKER = gln(61);
const DISTRIBUTOR = gln(62);
const MAKER_SITE = gln(63);
const DISTRIBUTOR_SITE = gln(64);
const FLOUR = gtin(6101);
const LOAVES = gtin(6102);
const shipment = `/00/${sscc(61)}`;

const link = (path: string) => `https://id.gs1.org${path}`;
const lot = `/01/${FLOUR}/10/F-17`;
const item = (n: number) => `/01/${LOAVES}/21/L-${n}`;
const CONTEXT = ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { example: 'https://example.com/epcis/' }];

const at = (hour: number) => new Date(Date.UTC(2026, 10, 20, hour)).toISOString().replace('.000Z', 'Z');
const event = (hour: number, site: string, fields: Record<string, unknown>) => ({
  eventTime: at(hour),
  eventTimeZoneOffset: '+00:00',
  readPoint: { id: link(`/414/${site}`) },
  bizLocation: { id: link(`/414/${site}`) },
  ...fields,
});
const document = (...events: Record<string, unknown>[]) => ({
  '@context': CONTEXT,
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: at(23),
  epcisBody: { eventList: events },
});

interface Job {
  success: boolean;
  events: { eventID: string; recordedAs: string; records: { receipt: { partition: number; sequence: number } }[] }[];
}

describe('a supply chain captured as EPCIS documents only', () => {
  let app: CustodyApp;
  const eventIds: Record<string, string> = {};
  let waitFor = '';

  const capture = async (key: string, name: string, doc: unknown): Promise<Job> => {
    const response = await app.client.request<Job>('POST', '/capture', { key, body: doc, contentType: 'application/ld+json' });
    expect(response.status === 202 ? 202 : response.body).toBe(202);
    expect(response.body.success).toBe(true);
    const last = response.body.events.at(-1)!.records.at(-1)!.receipt;
    waitFor = `${last.partition}:${last.sequence}`;
    for (const [i, e] of response.body.events.entries()) eventIds[`${name}${i}`] = e.eventID;
    return response.body;
  };
  /** A read of the read models waits for the last capture (waitFor); an attestation reads the ledger itself. */
  const get = async <T>(path: string): Promise<T> => {
    const wait = path.endsWith('/attestation') ? '' : `${path.includes('?') ? '&' : '?'}waitFor=${waitFor}`;
    const response = await app.client.request<T>('GET', `${path}${wait}`, { key: app.keys.auditor });
    expect(response.status === 200 ? 200 : response.body).toBe(200);
    return response.body;
  };

  const audit = async (): Promise<AuditJob> => {
    const started = await app.client.request<AuditJob>('POST', '/audits', { key: app.keys.auditor });
    expect(started.status).toBe(202);
    for (;;) {
      const job = (await app.client.request<AuditJob>('GET', `/audits/${started.body.id}`, { key: app.keys.auditor })).body;
      if (job.status !== 'running') return job;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  /** The same chain recorded through the REST routes, on a ledger of its own. */
  let rest: CustodyApp;
  let restWaitFor = '';

  beforeAll(async () => {
    const keys = [
      { name: 'maker', role: 'operator' as const, party: MAKER },
      { name: 'distributor', role: 'operator' as const, party: DISTRIBUTOR },
      { name: 'auditor', role: 'auditor' as const },
    ];
    [app, rest] = await Promise.all([startCustodyApp(keys), startCustodyApp(keys)]);
  });

  afterAll(() => Promise.all([app.close(), rest.close()]));

  it('captures the whole chain, each event as the custody step or the observation it is', async () => {
    const maker = app.keys.maker!;
    const distributor = app.keys.distributor!;
    const made = await capture(
      maker,
      'made',
      document(
        event(6, MAKER_SITE, {
          type: 'ObjectEvent',
          action: 'ADD',
          bizStep: 'commissioning',
          disposition: 'active',
          epcList: [link(shipment)],
          quantityList: [{ epcClass: link(lot), quantity: 100, uom: 'KGM' }],
          destinationList: [
            { type: 'owning_party', destination: link(`/417/${DISTRIBUTOR}`) },
            { type: 'location', destination: link(`/414/${DISTRIBUTOR_SITE}`) },
          ],
        }),
        event(7, MAKER_SITE, {
          type: 'TransformationEvent',
          bizStep: 'commissioning',
          inputQuantityList: [{ epcClass: link(lot), quantity: 40, uom: 'KGM' }],
          outputEPCList: [1, 2, 3].map((n) => link(item(n))),
          ilmd: { 'example:bakedAt': at(7) },
        }),
        event(8, MAKER_SITE, {
          type: 'AggregationEvent',
          action: 'ADD',
          bizStep: 'packing',
          parentID: link(shipment),
          childEPCs: [1, 2, 3].map((n) => link(item(n))),
        }),
        event(9, MAKER_SITE, {
          type: 'ObjectEvent',
          action: 'OBSERVE',
          bizStep: 'shipping',
          disposition: 'in_transit',
          epcList: [link(shipment)],
          bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:0614141000012:PO-88' }],
        }),
      ),
    );
    expect(made.events.map((e) => e.recordedAs)).toEqual(['custody', 'custody', 'custody', 'custody']);

    const received = await capture(
      distributor,
      'received',
      document(
        event(12, DISTRIBUTOR_SITE, {
          type: 'ObjectEvent',
          action: 'OBSERVE',
          bizStep: 'receiving',
          disposition: 'in_progress',
          epcList: [link(shipment)],
        }),
        event(13, DISTRIBUTOR_SITE, {
          type: 'AggregationEvent',
          action: 'DELETE',
          bizStep: 'unpacking',
          parentID: link(shipment),
          childEPCs: [1, 2, 3].map((n) => link(item(n))),
        }),
        event(14, DISTRIBUTOR_SITE, {
          type: 'ObjectEvent',
          action: 'OBSERVE',
          bizStep: 'inspecting',
          disposition: 'conformant',
          epcList: [link(item(1))],
          sensorElementList: [{ sensorReport: [{ type: 'Temperature', value: 4.5, uom: 'CEL', time: at(14) }] }],
        }),
        event(15, DISTRIBUTOR_SITE, {
          type: 'ObjectEvent',
          action: 'OBSERVE',
          bizStep: 'storing',
          disposition: 'sellable_accessible',
          epcList: [link(item(2))],
        }),
        event(16, DISTRIBUTOR_SITE, {
          type: 'ObjectEvent',
          action: 'DELETE',
          bizStep: 'destroying',
          disposition: 'destroyed',
          epcList: [link(item(3))],
        }),
      ),
    );
    expect(received.events.map((e) => e.recordedAs)).toEqual(['custody', 'custody', 'custody', 'observation', 'custody']);
  });

  it('answers provenance from what was captured: holders, the lot used, the traces both ways', async () => {
    const { product: first } = await get<{ product: { holder: string; location: string; status: string } }>(
      `/products${item(1)}`,
    );
    expect(first).toMatchObject({ holder: DISTRIBUTOR, location: DISTRIBUTOR_SITE, status: 'active', shipment: null });
    const { product: third } = await get<{ product: { status: string; reason: string } }>(`/products${item(3)}`);
    expect(third).toMatchObject({ status: 'decommissioned', reason: 'destroyed' });
    const { product: flour } = await get<{ product: { quantity: number; uom: string; holder: string } }>(`/products${lot}`);
    expect(flour).toMatchObject({ quantity: 60, uom: 'KGM', holder: MAKER });
    const history = await get<{ steps: { eventType: string }[] }>(`/products${item(1)}/history`);
    expect(history.steps.map((s) => s.eventType)).toEqual([
      'custody.transformed',
      'shipment.packed',
      'shipment.dispatched',
      'shipment.received',
      'shipment.unpacked',
      'custody.inspected',
    ]);
    const backward = await get<{ inputs: { id: string }[] }>(`/products${item(2)}/trace/backward`);
    expect(backward.inputs.map((i) => i.id)).toEqual([lot]);
    const forward = await get<{ products: { id: string }[] }>(`/products${lot}/trace/forward`);
    expect(forward.products.map((p) => p.id).sort()).toEqual([lot, item(1), item(2), item(3)].sort());
  });

  it('attests every product, observations included, and a full audit verifies the ledger and the read models', async () => {
    for (const [path, steps] of [
      [item(1), 6],
      [item(2), 6],
      [item(3), 6],
      [lot, 2],
    ] as const) {
      const signed = await get<SignedAttestation>(`/products${path}/attestation`);
      expect(signed.attestation).toMatchObject({ subject: path, verdict: 'verified', findings: [], steps });
    }
    expect((await audit()).report).toMatchObject({ verdict: 'verified', findings: [] });
  });

  it('queries the chain back with the standard query: by EPC in any role, by bizStep, by time', async () => {
    const ids = async (query: string) => {
      const answer = await get<{ epcisBody: { queryResults: { resultsBody: { eventList: { eventID: string }[] } } } }>(
        `/events?${query}`,
      );
      return answer.epcisBody.queryResults.resultsBody.eventList.map((e) => e.eventID);
    };
    const urn = epcUrn({ kind: 'sgtin', gtin: LOAVES, serial: 'L-1' }, 7);
    expect(await ids(`MATCH_anyEPC=${encodeURIComponent(urn)}`)).toEqual([
      eventIds.made1,
      eventIds.made2,
      eventIds.received1,
      eventIds.received2,
    ]);
    expect(await ids(`EQ_bizStep=storing`)).toEqual([eventIds.received3]);
    expect(await ids(`EQ_bizStep=${encodeURIComponent('https://ref.gs1.org/cbv/BizStep-destroying')}`)).toEqual([
      eventIds.received4,
    ]);
    expect(await ids(`GE_eventTime=${at(12)}&LT_eventTime=${at(14)}`)).toEqual([eventIds.received0, eventIds.received1]);
    expect(await ids(`MATCH_parentID=${encodeURIComponent(link(shipment))}`)).toEqual([eventIds.made2, eventIds.received1]);
  });

  it('catches an EPCIS event edited in PostgreSQL: the full audit names its row and column', async () => {
    const db = await openDatabase(app.config.database.url);
    try {
      const [row] = await db.query<{ sequence: string }[]>('SELECT sequence::text FROM epcis_events WHERE event_id = $1', [
        eventIds.received3,
      ]);
      await db.query(`UPDATE epcis_events SET event = jsonb_set(event, '{bizStep}', '"shipping"') WHERE event_id = $1`, [
        eventIds.received3,
      ]);
      const job = await audit();
      expect(job.report?.verdict).toBe('tampered');
      expect(job.report?.findings).toEqual([
        expect.objectContaining({
          source: 'read-model',
          sequence: Number(row!.sequence),
          field: 'epcis_events.event.bizStep',
          expected: '"storing"',
          found: '"shipping"',
        }),
      ]);
    } finally {
      await db.destroy();
    }
  });

  it('records the same chain through the REST routes, whose EPCIS export tells the same custody story', async () => {
    const step = async (path: string, key: string, body: Record<string, unknown>) => {
      const response = await rest.client.post<{ receipt: { partition: number; sequence: number } }>(path, key, body);
      expect(response.status === 201 ? 201 : response.body).toBe(201);
      restWaitFor = `${response.body.receipt.partition}:${response.body.receipt.sequence}`;
    };
    const [maker, distributor] = [rest.keys.maker!, rest.keys.distributor!];
    const items = [1, 2, 3].map((n) => ({ product: item(n) }));
    await step('/products', maker, {
      gtin: FLOUR,
      lot: 'F-17',
      name: 'Flour',
      owner: MAKER,
      location: MAKER_SITE,
      quantity: 100,
      uom: 'KGM',
      occurredAt: at(6),
    });
    await step('/shipments', maker, {
      sscc: shipment.slice(4),
      owner: MAKER,
      origin: MAKER_SITE,
      destination: DISTRIBUTOR_SITE,
      consignee: DISTRIBUTOR,
      occurredAt: at(6),
    });
    await step('/custody/transform', maker, {
      party: MAKER,
      location: MAKER_SITE,
      inputs: [{ product: lot, quantity: 40, uom: 'KGM' }],
      outputs: items,
      occurredAt: at(7),
    });
    const onShipment = (party: string, site: string, hour: number) => ({ shipment, party, location: site, occurredAt: at(hour) });
    await step('/shipments/pack', maker, { ...onShipment(MAKER, MAKER_SITE, 8), products: items.map((i) => i.product) });
    await step('/shipments/dispatch', maker, onShipment(MAKER, MAKER_SITE, 9));
    await step('/shipments/receive', distributor, onShipment(DISTRIBUTOR, DISTRIBUTOR_SITE, 12));
    await step('/shipments/unpack', distributor, {
      ...onShipment(DISTRIBUTOR, DISTRIBUTOR_SITE, 13),
      products: items.map((i) => i.product),
    });
    await step('/custody/inspect', distributor, {
      subject: item(1),
      party: DISTRIBUTOR,
      location: DISTRIBUTOR_SITE,
      result: 'passed',
      occurredAt: at(14),
    });
    await step('/products/decommission', distributor, {
      product: item(3),
      party: DISTRIBUTOR,
      location: DISTRIBUTOR_SITE,
      reason: 'destroyed',
      occurredAt: at(16),
    });

    // Both ledgers leave every product in the same custody state.
    const stateIn = async (of: CustodyApp, wait: string, path: string) => {
      const response = await of.client.request<{ product: Record<string, unknown> }>('GET', `/products${path}?waitFor=${wait}`, {
        key: of.keys.auditor,
      });
      expect(response.status).toBe(200);
      const { holder, location, status, reason, shipment: packedIn, quantity, uom } = response.body.product;
      return { holder, location, status, reason, packedIn, quantity, uom };
    };
    for (const path of [lot, item(1), item(2), item(3)]) {
      expect({ path, state: await stateIn(rest, restWaitFor, path) }).toEqual({ path, state: await stateIn(app, waitFor, path) });
    }

    // The REST ledger's EPCIS export: valid EPCIS, the item's and the pallet's steps as the captured chain has them.
    const exported = async (of: CustodyApp, wait: string, query: string) => {
      const response = await of.client.request<{
        epcisBody: { queryResults: { resultsBody: { eventList: Record<string, unknown>[] } } };
      }>('GET', `/events?${query}&waitFor=${wait}`, { key: of.keys.auditor });
      expect(response.status).toBe(200);
      expect(checkEpcisJson(response.body)).toEqual({ ok: true });
      return response.body.epcisBody.queryResults.resultsBody.eventList.map((e) =>
        [e.type, e.action, cbvTerm(e.bizStep as string | undefined, 'BizStep')].filter(Boolean).join(' '),
      );
    };
    const itemQuery = `MATCH_anyEPC=${encodeURIComponent(link(item(1)))}`;
    expect(await exported(rest, restWaitFor, itemQuery)).toEqual([
      'TransformationEvent',
      'AggregationEvent ADD packing',
      'ObjectEvent OBSERVE shipping',
      'ObjectEvent OBSERVE receiving',
      'AggregationEvent DELETE unpacking',
      'ObjectEvent OBSERVE inspecting',
    ]);
    // Captured, the pallet's shipping and receiving listed the SSCC alone, and the transformation had a bizStep.
    expect(await exported(app, waitFor, itemQuery)).toEqual([
      'TransformationEvent commissioning',
      'AggregationEvent ADD packing',
      'AggregationEvent DELETE unpacking',
      'ObjectEvent OBSERVE inspecting',
    ]);
    const palletQuery = `MATCH_epc=${encodeURIComponent(link(shipment))}`;
    const pallet = ['ObjectEvent ADD commissioning', 'ObjectEvent OBSERVE shipping', 'ObjectEvent OBSERVE receiving'];
    expect(await exported(rest, restWaitFor, palletQuery)).toEqual(pallet);
    expect(await exported(app, waitFor, palletQuery)).toEqual(pallet);
  });
});

import { describe, expect, it } from '@jest/globals';
import { recordsOf, step } from '../../test/support/custody-records.js';
import type { JsonValue } from '../ledger/canonical-json.js';
import type { LedgerRecord } from '../ledger/ledger-record.js';
import { EPCIS_CONTEXT, epcisEventOf, type EpcisEvent } from './custody-rendering.js';
import { epcisRowsOf } from './epcis-event-rows.js';
import { checkEpcisJson } from './epcis-schema.js';

const GTIN = '09506000134352';
const ITEM = `/01/${GTIN}/21/SN-1`;
const ITEM_2 = `/01/${GTIN}/21/SN%222`; // SN"2, escaped in its path
const LOT = `/01/${GTIN}/10/LOT-7`;
const OUTPUT = '/01/09506000134369/21/BAG-1';
const PALLET = '/00/106141411234567897';
const MAKER = '4012345000009';
const SITE = '4012345000016';
const DC = '4098765000010';
const DC_SITE = '4098765000027';

const DL = 'https://id.gs1.org';
const uri = (path: string) => `${DL}${path}`;
const place = (gln: string) => ({ id: `${DL}/414/${gln}` });

/** The record of one step (recordsOf's first), at a given time. */
function recordOf(type: string, entities: string[], payload: { [key: string]: JsonValue }, occurredAt?: string): LedgerRecord {
  const record = recordsOf([step(type, entities, payload)])[0]!.record;
  return occurredAt ? { ...record, occurredAt } : record;
}

/** The event, held to GS1's schema in a document of its own; it must be one. */
function rendered(record: LedgerRecord): EpcisEvent {
  const event = epcisEventOf(record);
  expect(event).toBeDefined();
  const document = {
    '@context': [EPCIS_CONTEXT],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2026-01-01T00:00:00Z',
    epcisBody: { eventList: [event] },
  };
  expect(checkEpcisJson(document)).toEqual({ ok: true });
  return event!;
}

describe('a custody record as the EPCIS 2.0 event it is', () => {
  it('renders a commissioning of an item as an ObjectEvent ADD, with the header every step has', () => {
    const record = recordOf(
      'product.commissioned',
      [ITEM],
      { gtin: GTIN, serial: 'SN-1', name: 'Vaccine', owner: MAKER, location: SITE },
      '2026-11-20T09:30:00.250+01:00',
    );
    expect(rendered(record)).toEqual({
      type: 'ObjectEvent',
      eventID: `urn:uuid:${record.eventId}`,
      eventTime: '2026-11-20T09:30:00.250+01:00',
      eventTimeZoneOffset: '+01:00',
      recordTime: record.recordedAt,
      epcList: [uri(ITEM)],
      action: 'ADD',
      bizStep: 'commissioning',
      disposition: 'active',
      readPoint: place(SITE),
      bizLocation: place(SITE),
    });
  });

  it('renders a lot by class, with its quantity and unit when the record has them', () => {
    const withQuantity = rendered(
      recordOf('product.commissioned', [LOT], {
        gtin: GTIN,
        lot: 'LOT-7',
        quantity: 1000,
        uom: 'KGM',
        owner: MAKER,
        location: SITE,
      }),
    );
    expect(withQuantity.quantityList).toEqual([{ epcClass: uri(LOT), quantity: 1000, uom: 'KGM' }]);
    expect(withQuantity.epcList).toBeUndefined();
    const without = rendered(recordOf('product.commissioned', [LOT], { gtin: GTIN, lot: 'LOT-7', owner: MAKER, location: SITE }));
    expect(without.quantityList).toEqual([{ epcClass: uri(LOT) }]);
  });

  it('writes an occurredAt EPCIS would not take as the same instant in UTC', () => {
    const event = rendered(
      recordOf('custody.inspected', [ITEM], { party: MAKER, location: SITE, result: 'passed' }, '2026-11-20T23:00:00+15:00'),
    );
    expect(event).toMatchObject({ eventTime: '2026-11-20T08:00:00.000Z', eventTimeZoneOffset: '+00:00' });
  });

  it.each([
    ['destroyed', { bizStep: 'destroying', disposition: 'destroyed' }],
    ['recalled', { bizStep: 'decommissioning', disposition: 'recalled' }],
    ['consumed', { bizStep: 'decommissioning', disposition: 'inactive' }],
  ])('renders a decommissioning for %s as an ObjectEvent DELETE', (reason, vocabulary) => {
    const event = rendered(recordOf('product.decommissioned', [ITEM], { party: MAKER, location: SITE, reason }));
    expect(event).toMatchObject({ type: 'ObjectEvent', action: 'DELETE', epcList: [uri(ITEM)], ...vocabulary });
  });

  it('renders a shipment created as the SSCC commissioned, from its owner and origin to its consignee and destination', () => {
    const event = rendered(
      recordOf('shipment.created', [PALLET], { owner: MAKER, location: SITE, destination: DC_SITE, consignee: DC }),
    );
    expect(event).toMatchObject({
      epcList: [uri(PALLET)],
      action: 'ADD',
      bizStep: 'commissioning',
      sourceList: [
        { type: 'owning_party', source: `${DL}/417/${MAKER}` },
        { type: 'location', source: `${DL}/414/${SITE}` },
      ],
      destinationList: [
        { type: 'owning_party', destination: `${DL}/417/${DC}` },
        { type: 'location', destination: `${DL}/414/${DC_SITE}` },
      ],
    });
  });

  it('renders packing and unpacking as AggregationEvents on the SSCC, items as childEPCs and lots as classes', () => {
    const packed = rendered(recordOf('shipment.packed', [PALLET, ITEM, ITEM_2, LOT], { party: MAKER, location: SITE }));
    expect(packed).toMatchObject({
      type: 'AggregationEvent',
      parentID: uri(PALLET),
      childEPCs: [uri(ITEM), uri(ITEM_2)],
      childQuantityList: [{ epcClass: uri(LOT) }],
      action: 'ADD',
      bizStep: 'packing',
    });
    const unpacked = rendered(recordOf('shipment.unpacked', [PALLET, ITEM], { party: DC, location: DC_SITE }));
    expect(unpacked).toMatchObject({
      type: 'AggregationEvent',
      parentID: uri(PALLET),
      childEPCs: [uri(ITEM)],
      action: 'DELETE',
      bizStep: 'unpacking',
    });
  });

  it('renders a dispatch as shipping in transit, the SSCC then its contents, read where it left and bound for its destination', () => {
    const event = rendered(
      recordOf('shipment.dispatched', [PALLET, ITEM], { party: MAKER, location: SITE, destination: DC_SITE }),
    );
    expect(event).toMatchObject({
      action: 'OBSERVE',
      bizStep: 'shipping',
      disposition: 'in_transit',
      epcList: [uri(PALLET), uri(ITEM)],
      readPoint: place(SITE),
      destinationList: [{ type: 'location', destination: `${DL}/414/${DC_SITE}` }],
    });
    expect(event.bizLocation).toBeUndefined();
  });

  it('renders a receipt as receiving, in progress at the receiving site', () => {
    const event = rendered(recordOf('shipment.received', [PALLET, ITEM], { by: DC, location: DC_SITE }));
    expect(event).toMatchObject({ bizStep: 'receiving', disposition: 'in_progress', bizLocation: place(DC_SITE) });
    expect(event.destinationList).toContainEqual({ type: 'possessing_party', destination: `${DL}/417/${DC}` });
  });

  it('renders a handover as accepting, from one possessing party to the next', () => {
    const event = rendered(recordOf('custody.handover', [ITEM], { from: MAKER, to: DC, location: SITE }));
    expect(event).toMatchObject({
      action: 'OBSERVE',
      bizStep: 'accepting',
      sourceList: [{ type: 'possessing_party', source: `${DL}/417/${MAKER}` }],
      destinationList: [{ type: 'possessing_party', destination: `${DL}/417/${DC}` }],
    });
  });

  it.each([
    ['passed', 'conformant'],
    ['failed', 'non_conformant'],
  ])('renders an inspection that %s as inspecting, %s', (result, disposition) => {
    const event = rendered(recordOf('custody.inspected', [ITEM], { party: MAKER, location: SITE, result }));
    expect(event).toMatchObject({ bizStep: 'inspecting', disposition });
  });

  it('renders a transformation with its inputs and outputs, lots by class with the quantities taken and made', () => {
    const event = rendered(
      recordOf('custody.transformed', [LOT, ITEM, OUTPUT], {
        party: MAKER,
        location: SITE,
        inputs: [LOT, ITEM],
        quantities: [{ product: LOT, quantity: 2.5, uom: 'KGM' }],
      }),
    );
    expect(event).toMatchObject({
      type: 'TransformationEvent',
      inputEPCList: [uri(ITEM)],
      inputQuantityList: [{ epcClass: uri(LOT), quantity: 2.5, uom: 'KGM' }],
      outputEPCList: [uri(OUTPUT)],
    });
    expect(event.action).toBeUndefined();
  });

  it('renders no event for the ledger records, nor for a type it does not know', () => {
    expect(epcisEventOf(recordOf('ledger.checkpoint', [], {}))).toBeUndefined();
    expect(epcisEventOf(recordOf('custody.relabelled', [ITEM], {}))).toBeUndefined();
  });
});

describe('an event captured through EPCIS', () => {
  const captured = {
    type: 'ObjectEvent',
    eventTime: '2026-11-20T09:30:00.000+01:00',
    eventTimeZoneOffset: '+01:00',
    epcList: ['urn:epc:id:sgtin:9506000.013435.SN-1'],
    action: 'OBSERVE',
    bizStep: 'https://ref.gs1.org/cbv/BizStep-inspecting',
    'example:temperature': 4,
  };
  const context = [EPCIS_CONTEXT, { example: 'https://example.com/epcis/' }];
  const epcis = (part: number, extra: { [key: string]: JsonValue } = {}) => ({
    epcis: { hashId: 'ni:///sha-256;abc?ver=CBV2.0', part, parts: 2, ...extra },
  });

  it('is the event as captured, with its record time, its hash id for an id, and the context its prefixes need', () => {
    const record = recordOf('epcis.observed', [ITEM], { party: MAKER, ...epcis(0, { event: captured, context }) });
    expect(rendered(record)).toEqual({
      '@context': context,
      ...captured,
      eventID: 'ni:///sha-256;abc?ver=CBV2.0',
      recordTime: record.recordedAt,
    });
  });

  it('keeps an eventID of its own', () => {
    const record = recordOf('epcis.observed', [ITEM], {
      ...epcis(0, { event: { ...captured, eventID: 'urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427' } }),
    });
    expect(rendered(record).eventID).toBe('urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427');
  });

  it('is no event on the records after the first: the first carries it', () => {
    expect(epcisEventOf(recordOf('product.commissioned', [ITEM], { ...epcis(1) }))).toBeUndefined();
  });
});

describe('the query rows of an event', () => {
  it('keep identifiers and vocabulary in one form, however they were written', () => {
    const asUrn = recordsOf([
      step('epcis.observed', [ITEM], {
        epcis: {
          hashId: 'ni:///sha-256;abc?ver=CBV2.0',
          part: 0,
          parts: 1,
          event: {
            eventID: 'urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427',
            type: 'ObjectEvent',
            eventTime: '2026-11-20T09:30:00Z',
            eventTimeZoneOffset: '+00:00',
            epcList: ['urn:epc:id:sgtin:9506000.013435.SN-1', 'urn:epc:id:grai:4012345.55555.1234'],
            action: 'OBSERVE',
            bizStep: 'shipping',
            disposition: 'urn:epcglobal:cbv:disp:in_transit',
            readPoint: { id: 'urn:epc:id:sgln:4012345.00001.0' },
            errorDeclaration: { declarationTime: '2026-11-21T00:00:00Z' },
          },
        },
      }),
    ])[0]!;
    const rows = epcisRowsOf(asUrn)!;
    expect(rows.event).toMatchObject({
      event_id: 'urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427',
      biz_step: 'https://ref.gs1.org/cbv/BizStep-shipping',
      disposition: 'https://ref.gs1.org/cbv/Disp-in_transit',
      read_point: `${DL}/414/${SITE}`,
      error_declaration: true,
    });
    const fromRest = epcisRowsOf(recordsOf([step('custody.handover', [ITEM], { from: MAKER, to: DC, location: SITE })])[0]!)!;
    const itemId = fromRest.identifiers.find((row) => row.role === 'epc')!.identifier;
    expect(rows.identifiers.map((row) => row.identifier)).toContain(itemId);
    expect(rows.identifiers).toHaveLength(2);
    expect(fromRest.event.read_point).toBe(rows.event.read_point);
  });

  it('name the parent, inputs, outputs and classes in their roles', () => {
    const packed = epcisRowsOf(recordsOf([step('shipment.packed', [PALLET, ITEM, LOT], { party: MAKER, location: SITE })])[0]!)!;
    expect(packed.identifiers.map((row) => row.role).sort()).toEqual(['class', 'epc', 'parent']);
    const made = epcisRowsOf(
      recordsOf([step('custody.transformed', [ITEM, OUTPUT], { party: MAKER, location: SITE, inputs: [ITEM] })])[0]!,
    )!;
    expect(made.identifiers.map((row) => [row.role, row.identifier])).toEqual([
      ['input', uri(ITEM)],
      ['output', uri(OUTPUT)],
    ]);
  });
});

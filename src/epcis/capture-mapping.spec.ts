import { describe, expect, it } from '@jest/globals';
import { type CapturedEvent, cbvTerm, EventMappingError, epcisRecordEventId, stepsOfEvent } from './capture-mapping.js';
import type { JsonValue } from '../ledger/canonical-json.js';

const PARTY = '4012345000009';
const HASH = 'ni:///sha-256;' + 'ab'.repeat(32) + '?ver=CBV2.0';
const readPoint = { id: 'urn:epc:id:sgln:4012345.00001.0' };

const captured = (event: { [key: string]: JsonValue }, hashId = HASH): CapturedEvent => ({
  event: { eventTime: '2026-12-01T10:00:00.000+01:00', eventTimeZoneOffset: '+01:00', ...event },
  pointer: '/epcisBody/eventList/2',
  hashId,
});

const mapped = (event: { [key: string]: JsonValue }, hashId = HASH) => stepsOfEvent(captured(event, hashId), PARTY, ['ctx']);
const commands = (event: { [key: string]: JsonValue }) => mapped(event).steps.map((step) => step.command);

function mappingError(event: { [key: string]: JsonValue }): EventMappingError {
  try {
    mapped(event);
  } catch (error) {
    if (error instanceof EventMappingError) return error;
    throw error;
  }
  throw new Error('the event was mapped');
}

describe('EPCIS capture mapping', () => {
  it('makes a commissioning of items and a lot one commission per product, the first record carrying the event', () => {
    const event = {
      type: 'ObjectEvent',
      action: 'ADD',
      bizStep: 'https://ref.gs1.org/cbv/BizStep-commissioning',
      epcList: ['urn:epc:id:sgtin:4012345.011111.A1', 'https://example.com/01/04012345111118/21/A2'],
      quantityList: [{ epcClass: 'urn:epc:class:lgtin:4012345.011111.L7', quantity: 12.5, uom: 'KGM' }],
      readPoint,
    };
    const { steps, custody } = mapped(event);
    expect(custody).toBe(true);
    expect(steps.map((s) => s.command)).toEqual([
      expect.objectContaining({
        type: 'commission',
        product: '/01/04012345111118/21/A1',
        owner: PARTY,
        location: '4012345000016',
      }),
      expect.objectContaining({ type: 'commission', product: '/01/04012345111118/21/A2' }),
      expect.objectContaining({
        type: 'commission',
        product: '/01/04012345111118/10/L7',
        details: { gtin: '04012345111118', name: 'GTIN 04012345111118', lot: 'L7', quantity: 12.5, uom: 'KGM' },
      }),
    ]);
    const members = steps.map((s) => s.members?.epcis as { [key: string]: JsonValue });
    expect(members[0]).toMatchObject({ hashId: HASH, part: 0, parts: 3, context: ['ctx'] });
    expect(members[0]).not.toHaveProperty('eventID');
    expect(members[0]?.event).toMatchObject({ type: 'ObjectEvent', epcList: event.epcList });
    expect(members[1]).toEqual({ hashId: HASH, part: 1, parts: 3 });
    expect(new Set(steps.map((s) => s.eventId)).size).toBe(3);
    expect(steps[0]?.eventId).toBe(epcisRecordEventId(HASH, 0));
    expect(steps.every((s) => s.occurredAt === '2026-12-01T10:00:00.000+01:00' && s.pointer === '/epcisBody/eventList/2')).toBe(
      true,
    );
  });

  it('leaves out a context that is exactly the standard one, and keeps any other', () => {
    const event = { type: 'ObjectEvent', action: 'OBSERVE', epcList: ['urn:epc:id:sgtin:4012345.011111.A1'] };
    const member = (context: JsonValue) =>
      stepsOfEvent(captured(event), PARTY, context).steps[0]?.members?.epcis as { [key: string]: JsonValue };
    const standard = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';
    expect(member([standard])).not.toHaveProperty('context');
    expect(member(standard)).not.toHaveProperty('context');
    expect(member([standard, { example: 'https://example.com/' }]).context).toEqual([
      standard,
      { example: 'https://example.com/' },
    ]);
    expect(member(['https://ref.gs1.org/standards/epcis/epcis-context.jsonld']).context).toEqual([
      'https://ref.gs1.org/standards/epcis/epcis-context.jsonld',
    ]);
  });

  it('keeps the event as captured but without recordTime, and its own eventID', () => {
    const { steps } = mapped({
      type: 'ObjectEvent',
      action: 'OBSERVE',
      eventID: 'urn:uuid:7c6b3d4e-1111-4222-8333-944445555666',
      recordTime: '2026-12-01T10:00:05Z',
      epcList: ['urn:epc:id:sgtin:4012345.011111.A1'],
      'example:temperature': { '@value': '4.5' },
    });
    const member = steps[0]?.members?.epcis as { event: { [key: string]: JsonValue } };
    expect(member.event.eventID).toBe('urn:uuid:7c6b3d4e-1111-4222-8333-944445555666');
    expect(member.event.recordTime).toBeUndefined();
    expect(member.event['example:temperature']).toEqual({ '@value': '4.5' });
  });

  it('commissions an SSCC as a shipment, to the consignee and destination its destinationList names', () => {
    expect(
      commands({
        type: 'ObjectEvent',
        action: 'ADD',
        bizStep: 'commissioning',
        epcList: ['urn:epc:id:sscc:4012345.0111111111'],
        bizLocation: { id: 'https://id.gs1.org/414/4012345000016' },
        destinationList: [
          { type: 'owning_party', destination: 'urn:epc:id:pgln:0614141.00001' },
          { type: 'https://ref.gs1.org/cbv/SDT-location', destination: 'urn:epc:id:sgln:0614141.00777.0' },
        ],
      }),
    ).toEqual([
      {
        type: 'create-shipment',
        shipment: '/00/040123451111111110',
        owner: PARTY,
        location: '4012345000016',
        destination: '0614141007776',
        consignee: '0614141000012',
      },
    ]);
  });

  it('makes an aggregation on an SSCC a pack or an unpack, and any other aggregation an observation', () => {
    const aggregation = {
      type: 'AggregationEvent',
      parentID: 'urn:epc:id:sscc:4012345.0111111111',
      childEPCs: ['urn:epc:id:sgtin:4012345.011111.A1'],
      readPoint,
    };
    expect(commands({ ...aggregation, action: 'ADD', bizStep: 'packing' })).toEqual([
      {
        type: 'pack',
        shipment: '/00/040123451111111110',
        products: ['/01/04012345111118/21/A1'],
        party: PARTY,
        location: '4012345000016',
      },
    ]);
    expect(commands({ ...aggregation, action: 'DELETE' })[0]).toMatchObject({ type: 'unpack' });
    expect(commands({ ...aggregation, action: 'OBSERVE' })[0]).toMatchObject({ type: 'observe' });
    expect(commands({ ...aggregation, action: 'ADD', parentID: 'urn:epc:id:grai:4012345.55555.987' })[0]).toMatchObject({
      type: 'observe',
      entities: ['/01/04012345111118/21/A1'],
    });
    expect(mappingError({ ...aggregation, action: 'DELETE', childEPCs: [] }).pointer).toBe('/epcisBody/eventList/2/childEPCs');
    // Pallets in a pallet, or returnable assets, out of an SSCC: no product, an observation.
    expect(commands({ ...aggregation, action: 'DELETE', childEPCs: ['urn:epc:id:sscc:4012345.0222222222'] })[0]).toMatchObject({
      type: 'observe',
    });
    expect(commands({ ...aggregation, action: 'DELETE', childEPCs: ['urn:epc:id:grai:4012345.55555.987'] })[0]).toMatchObject({
      type: 'observe',
    });
  });

  it('makes shipping and receiving of SSCCs (with their contents or not) a dispatch and a receive, and of items alone an observation', () => {
    const observe = { type: 'ObjectEvent', action: 'OBSERVE', readPoint, epcList: ['urn:epc:id:sscc:4012345.0111111111'] };
    expect(commands({ ...observe, bizStep: 'shipping' })).toEqual([
      { type: 'dispatch', shipment: '/00/040123451111111110', party: PARTY, location: '4012345000016' },
    ]);
    expect(commands({ ...observe, bizStep: 'urn:epcglobal:cbv:bizstep:receiving' })).toEqual([
      { type: 'receive', shipment: '/00/040123451111111110', by: PARTY, location: '4012345000016' },
    ]);
    const items = commands({ ...observe, bizStep: 'shipping', epcList: ['urn:epc:id:sgtin:4012345.011111.A1'] });
    expect(items).toEqual([{ type: 'observe', party: PARTY, entities: ['/01/04012345111118/21/A1'] }]);
    // An SSCC listed with its contents (as Custodian renders a dispatch) is a dispatch of the SSCC.
    const withContents = commands({
      ...observe,
      bizStep: 'shipping',
      epcList: [...observe.epcList, 'urn:epc:id:sgtin:4012345.011111.A1'],
    });
    expect(withContents).toEqual([
      { type: 'dispatch', shipment: '/00/040123451111111110', party: PARTY, location: '4012345000016' },
    ]);
  });

  it('makes inspecting with a finding an inspection, without one an observation, and decommissioning or destroying a decommission', () => {
    const item = { type: 'ObjectEvent', readPoint, epcList: ['urn:epc:id:sgtin:4012345.011111.A1'] };
    const inspecting = { ...item, action: 'OBSERVE', bizStep: 'inspecting' };
    expect(commands({ ...inspecting, disposition: 'conformant' })[0]).toMatchObject({ type: 'inspect', result: 'passed' });
    expect(commands({ ...inspecting, disposition: 'https://ref.gs1.org/cbv/Disp-non_conformant' })[0]).toMatchObject({
      type: 'inspect',
      result: 'failed',
    });
    // No finding Custodian would have to invent: an observation.
    for (const disposition of [undefined, 'damaged', 'expired']) {
      expect(commands({ ...inspecting, ...(disposition ? { disposition } : {}) })[0]).toMatchObject({ type: 'observe' });
    }
    expect(commands({ ...inspecting, action: 'ADD', disposition: 'conformant' })[0]).toMatchObject({ type: 'observe' });
    expect(commands({ ...item, action: 'DELETE', bizStep: 'destroying' })[0]).toMatchObject({
      type: 'decommission',
      reason: 'destroyed',
    });
    expect(commands({ ...item, action: 'DELETE', bizStep: 'decommissioning', disposition: 'recalled' })[0]).toMatchObject({
      reason: 'recalled',
    });
    expect(commands({ ...item, action: 'DELETE', bizStep: 'decommissioning' })[0]).toMatchObject({ reason: 'consumed' });
  });

  it('makes a transformation a transform with its lots’ quantities; with an error declaration an observation', () => {
    const transformation: { [key: string]: JsonValue } = {
      type: 'TransformationEvent',
      readPoint,
      inputEPCList: ['urn:epc:id:sgtin:4012345.011111.A1'],
      inputQuantityList: [
        { epcClass: 'urn:epc:class:lgtin:4012345.011111.L7', quantity: 10, uom: 'KGM' },
        { epcClass: 'urn:epc:idpat:sgtin:4012345.066666.*', quantity: 220 },
      ],
      outputEPCList: ['urn:epc:id:sgtin:4012345.077889.25'],
    };
    expect(commands(transformation)).toEqual([
      {
        type: 'transform',
        party: PARTY,
        location: '4012345000016',
        inputs: ['/01/04012345111118/21/A1', '/01/04012345111118/10/L7'],
        outputs: ['/01/04012345778892/21/25'],
        quantities: [{ product: '/01/04012345111118/10/L7', quantity: 10, uom: 'KGM' }],
      },
    ]);
    const declared = mapped({
      ...transformation,
      errorDeclaration: { declarationTime: '2026-12-02T00:00:00Z', reason: 'incorrect_data' },
    });
    expect(declared.custody).toBe(false);
    expect(declared.steps[0]?.command).toMatchObject({ type: 'observe' });
    // The same Event Hash ID as the event it declares wrong, and still another record.
    expect(declared.steps[0]?.eventId).not.toBe(epcisRecordEventId(HASH, 0));
    expect(declared.steps[0]?.eventId).toBe(epcisRecordEventId(HASH, 0, '2026-12-02T00:00:00Z'));
  });

  it('puts an event that names no product or shipment on its own chain: its Event Hash ID', () => {
    expect(
      commands({
        type: 'AssociationEvent',
        action: 'ADD',
        parentID: 'urn:epc:id:grai:4012345.55555.987',
        childEPCs: ['urn:epc:id:giai:4000001.12345'],
      }),
    ).toEqual([{ type: 'observe', party: PARTY, entities: [HASH] }]);
  });

  it('refuses a custody step without a GLN to happen at, an invalid key and a quantity it cannot keep, each at its pointer', () => {
    expect(
      mappingError({
        type: 'ObjectEvent',
        action: 'ADD',
        bizStep: 'commissioning',
        epcList: ['urn:epc:id:sgtin:4012345.011111.A1'],
      }).pointer,
    ).toBe('/epcisBody/eventList/2/bizLocation');
    const badKey = mappingError({
      type: 'ObjectEvent',
      action: 'OBSERVE',
      epcList: ['urn:epc:id:sgtin:4012345.011111.A1', 'urn:epc:id:sgtin:4012345.0111.%ZZ'],
    });
    expect(badKey.pointer).toBe('/epcisBody/eventList/2/epcList/1');
    const badQuantity = mappingError({
      type: 'ObjectEvent',
      action: 'ADD',
      bizStep: 'commissioning',
      readPoint,
      quantityList: [{ epcClass: 'urn:epc:class:lgtin:4012345.011111.L7', quantity: 1e12, uom: 'KGM' }],
    });
    expect(badQuantity.pointer).toBe('/epcisBody/eventList/2/quantityList/0/quantity');
    const long = mappingError({ type: 'ObjectEvent', action: 'OBSERVE', epcList: [`urn:example:${'x'.repeat(1000)}`] });
    expect(long).toMatchObject({ pointer: '/epcisBody/eventList/2/epcList/0', message: expect.stringContaining('at most 1000') });
    expect(mappingError({ type: 'ObjectEvent', action: 'OBSERVE', readPoint: { id: `urn:x:${'y'.repeat(995)}` } }).pointer).toBe(
      '/epcisBody/eventList/2/readPoint/id',
    );
    expect(mappingError({ type: 'ObjectEvent', action: 'OBSERVE', eventTime: '2026-12-01T10:00:00' }).pointer).toBe(
      '/epcisBody/eventList/2/eventTime',
    );
  });

  it('takes an eventTime to the nanosecond, as the ledger keeps it, and refuses a finer one', () => {
    const { steps } = mapped({ type: 'ObjectEvent', action: 'OBSERVE', eventTime: '2026-12-01T10:00:00.123456789Z' });
    expect(steps[0]?.occurredAt).toBe('2026-12-01T10:00:00.123456789Z');
    expect(mappingError({ type: 'ObjectEvent', action: 'OBSERVE', eventTime: '2026-12-01T10:00:00.1234567891Z' }).pointer).toBe(
      '/epcisBody/eventList/2/eventTime',
    );
  });

  it('reads CBV terms bare, as GS1 URIs and as EPCIS 1.x URNs, and nothing else', () => {
    expect(cbvTerm('shipping', 'BizStep')).toBe('shipping');
    expect(cbvTerm('https://ref.gs1.org/cbv/BizStep-shipping', 'BizStep')).toBe('shipping');
    expect(cbvTerm('urn:epcglobal:cbv:disp:in_transit', 'Disp')).toBe('in_transit');
    expect(cbvTerm('http://example.com/bizstep/shipping', 'BizStep')).toBeUndefined();
    expect(cbvTerm('https://ref.gs1.org/cbv/Disp-active', 'BizStep')).toBeUndefined();
  });
});

import { describe, expect, it } from '@jest/globals';
import { describeStep, type Directory, directInputsOf, identityText, placeName, viaOf, whenText } from './step-view.js';

const MAKER = '4012345000009';
const PLANT = '4012345000016';
const STORE = '4098765000010';
const directory: Directory = {
  parties: { [MAKER]: { name: 'Acme', role: 'manufacturer', country: 'DE' } },
  places: { [PLANT]: { visibility: 'internal', party: MAKER } },
};

describe('what the consumer page says of a step', () => {
  it('writes the time as recorded, in its own offset, without the locale of the machine', () => {
    expect(whenText('2026-11-26T09:30:00+01:00')).toBe('26 Nov 2026, 09:30 UTC+01:00');
    expect(whenText('2026-01-05T23:59:59.123Z')).toBe('5 Jan 2026, 23:59 UTC');
    expect(whenText('2026-01-05T23:59:00+00:00')).toBe('5 Jan 2026, 23:59 UTC');
    expect(whenText('not a time')).toBe('not a time');
  });

  it('names registered parties with their role, an internal location as its party site, and anything else by GLN', () => {
    const step = describeStep(
      {
        eventType: 'custody.handover',
        occurredAt: '2026-11-26T09:30:00Z',
        payload: { from: MAKER, to: STORE, location: PLANT },
        via: null,
      },
      '/01/09506000134352/21/A',
      directory,
    );
    expect(step).toEqual({
      what: 'Handed over',
      when: '26 Nov 2026, 09:30 UTC',
      where: 'a site of Acme (manufacturer)',
      who: `Acme (manufacturer) → GLN ${STORE}`,
      shipment: '',
    });
    expect(placeName(MAKER, directory)).toBe('Acme, DE');
  });

  it("says a shipment's steps with the shipment, and whether a transformation made the product or used it up", () => {
    const subject = '/01/09506000134352/10/LOT-1';
    const transformation = (inputs: string[]) => ({
      eventType: 'custody.transformed',
      occurredAt: '2026-11-26T09:30:00Z',
      payload: { party: MAKER, location: PLANT, inputs },
      via: null,
    });
    expect(describeStep(transformation([subject]), subject, directory).what).toBe('Used to make other products');
    expect(describeStep(transformation(['/01/1', '/01/2']), subject, directory).what).toBe('Made from 2 inputs');
    expect(directInputsOf([transformation(['/01/1', '/01/2']), transformation([subject, '/01/3'])], subject)).toEqual([
      '/01/1',
      '/01/2',
    ]);
    const dispatched = describeStep(
      {
        eventType: 'shipment.dispatched',
        occurredAt: '2026-11-26T09:30:00Z',
        payload: { party: MAKER, location: PLANT, destination: STORE },
        via: '/00/106141411234567897',
      },
      subject,
      directory,
    );
    expect(dispatched).toMatchObject({ what: `Dispatched to GLN ${STORE}`, shipment: 'SSCC 106141411234567897' });
  });

  it('finds the shipment of a record as the read model does: a shipment named first, before the product', () => {
    expect(viaOf(['/00/106141411234567897', '/01/x'], '/01/x')).toBe('/00/106141411234567897');
    expect(viaOf(['/01/x'], '/01/x')).toBeNull();
    expect(viaOf(['/01/in', '/01/x'], '/01/x')).toBeNull();
    expect(identityText('/01/09506000134352/21/A%2FB')).toBe('GTIN 09506000134352, serial A/B');
  });
});

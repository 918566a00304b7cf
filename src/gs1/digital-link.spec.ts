import { describe, expect, it } from '@jest/globals';
import { digitalLinkPath, type Gs1Identity, isProductId, isShipmentId, parseDigitalLinkPath } from './digital-link.js';

describe('GS1 Digital Link paths', () => {
  const identities: [Gs1Identity, string][] = [
    [{ kind: 'sgtin', gtin: '09506000134352', serial: 'SN-0001' }, '/01/09506000134352/21/SN-0001'],
    [{ kind: 'lgtin', gtin: '09506000134352', lot: 'L2026-11' }, '/01/09506000134352/10/L2026-11'],
    [{ kind: 'sscc', sscc: '106141411234567897' }, '/00/106141411234567897'],
    [{ kind: 'sgtin', gtin: '09506000134352', serial: 'A/B%"<>?' }, '/01/09506000134352/21/A%2FB%25%22%3C%3E%3F'],
  ];

  it.each(identities)('writes %j as %s and reads it back', (identity, path) => {
    expect(digitalLinkPath(identity)).toBe(path);
    expect(parseDigitalLinkPath(path)).toEqual({ ok: true, value: identity });
  });

  it('yields printable ASCII, as ledger entity ids require', () => {
    for (const [identity] of identities) expect(digitalLinkPath(identity)).toMatch(/^[\x21-\x7e]{1,200}$/);
  });

  it('refuses paths that are not canonical or hold a bad key', () => {
    expect(parseDigitalLinkPath('/01/9506000134352/21/SN-0001')).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/14-digit form/),
    });
    expect(parseDigitalLinkPath('/01/09506000134353/21/SN-0001')).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/check digit/),
    });
    expect(parseDigitalLinkPath('/01/09506000134352/21/A%2fB')).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/canonical form/),
    });
    expect(parseDigitalLinkPath('/01/09506000134352/21/A%ZZ')).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/percent-encoded/),
    });
    expect(parseDigitalLinkPath('/01/09506000134352/22/X')).toMatchObject({ ok: false });
    expect(parseDigitalLinkPath('/01/09506000134352')).toMatchObject({ ok: false });
    expect(parseDigitalLinkPath('/00/106141411234567897/extra')).toMatchObject({ ok: false });
    expect(parseDigitalLinkPath('01/09506000134352/21/X')).toMatchObject({ ok: false });
  });
});

describe('products and shipments by their ids', () => {
  it('tells a shipment (an SSCC path) from a product (an SGTIN or LGTIN path)', () => {
    expect(isShipmentId('/00/106141411234567897')).toBe(true);
    expect(isProductId('/00/106141411234567897')).toBe(false);
    for (const product of ['/01/09506000134352/21/SN-0001', '/01/09506000134352/10/L2026-11']) {
      expect(isShipmentId(product)).toBe(false);
      expect(isProductId(product)).toBe(true);
    }
  });

  it('reads only the first segment, as the folds need it', () => {
    expect(isShipmentId('/00/not-an-sscc')).toBe(true);
    expect(isShipmentId('/000/106141411234567897')).toBe(false);
    expect(isShipmentId('00/106141411234567897')).toBe(false);
  });
});

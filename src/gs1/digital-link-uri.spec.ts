import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { gs1KeyIdentities } from '../../test/fixtures/epcis/gs1-key-arbitraries.js';
import { digitalLinkUri, parseDigitalLinkUri } from './digital-link-uri.js';

describe('GS1 Digital Link URIs on any domain', () => {
  it.each([
    ['https://example.com/01/04012345111118/21/9877', { kind: 'sgtin', gtin: '04012345111118', serial: '9877' }],
    ['https://example.com/01/4012345111118/21/9877', { kind: 'sgtin', gtin: '04012345111118', serial: '9877' }],
    ['http://id.gs1.org/01/09506000134352/21/A%2FB%25', { kind: 'sgtin', gtin: '09506000134352', serial: 'A/B%' }],
    [
      'https://brand.example/shop/p/01/09506000134352/10/LOT-7?17=261231#top',
      { kind: 'lgtin', gtin: '09506000134352', lot: 'LOT-7' },
    ],
    ['https://example.org/01/09506000134352/10/L1/21/S1/', { kind: 'sgtin', gtin: '09506000134352', serial: 'S1' }],
    ['https://example.org/00/106141412345678908', { kind: 'sscc', sscc: '106141412345678908' }],
    ['https://id.gs1.org/414/4012345000115', { kind: 'location', gln: '4012345000115' }],
    ['https://id.gs1.org/414/4280000000002/254/12', { kind: 'location', gln: '4280000000002', extension: '12' }],
    ['https://example.co.uk/417/4226350800008', { kind: 'party', gln: '4226350800008' }],
  ])('reads %s', (uri, identity) => {
    expect(parseDigitalLinkUri(uri)).toEqual({ ok: true, value: { kind: 'key', identity } });
  });

  it.each([
    ['https://id.gs1.org/01/09506000134352', /GTIN alone/],
    ['https://id.gs1.org/01/09780345418913/22/344/10/1223', /consumer product variant/],
    ['https://id.gs1.org/8003/03870585000552987', /AI 8003/],
    ['https://id.gs1.org/8004/0180451111ABC987', /AI 8004/],
    ['https://id.gs1.org/8018/385888700111111111', /AI 8018/],
  ])('reads %s as a key Custodian does not record', (uri, reason) => {
    expect(parseDigitalLinkUri(uri)).toEqual({
      ok: true,
      value: { kind: 'other-key', primaryKey: expect.any(String), reason: expect.stringMatching(reason) },
    });
  });

  it.each([
    ['a wrong GTIN check digit', 'https://example.com/01/04012345111119/21/1'],
    ['a serial before the lot', 'https://example.com/01/04012345111118/21/1/10/L'],
    ['a serial outside set 82', 'https://example.com/01/04012345111118/21/caf%C3%A9'],
    ['a serial of 21 characters', 'https://example.com/01/04012345111118/21/123456789012345678901'],
    ['a wrong SSCC', 'https://example.com/00/106141412345678909'],
    ['an SSCC with a qualifier', 'https://example.com/00/106141412345678908/21/1'],
    ['a party with an extension', 'https://example.com/417/4226350800008/254/1'],
    ['a location with another qualifier', 'https://example.com/414/4012345000115/21/1'],
  ])('refuses a link with %s', (_, uri) => {
    expect(parseDigitalLinkUri(uri)).toMatchObject({ ok: false, problem: expect.any(String) });
  });

  it.each([
    'https://example.com/about',
    'https://example.com/01',
    'geo:47.506694,11.104301',
    'urn:uuid:1',
    'https://example.com/gtin/09506000134352/ser/1',
  ])('does not take %s for a Digital Link', (uri) => {
    expect(parseDigitalLinkUri(uri)).toBeUndefined();
  });

  it('writes canonical links on id.gs1.org or any origin', () => {
    expect(digitalLinkUri({ kind: 'sgtin', gtin: '09506000134352', serial: 'A/B' })).toBe(
      'https://id.gs1.org/01/09506000134352/21/A%2FB',
    );
    expect(digitalLinkUri({ kind: 'location', gln: '4280000000002', extension: '1/2' }, 'https://example.com')).toBe(
      'https://example.com/414/4280000000002/254/1%2F2',
    );
    expect(digitalLinkUri({ kind: 'party', gln: '4226350800008' })).toBe('https://id.gs1.org/417/4226350800008');
  });

  it('reads back every key it writes, on any origin and path prefix', () => {
    const origins = fc.constantFrom(
      'https://id.gs1.org',
      'https://example.com',
      'http://brand.example.org/any/prefix',
      'https://x.example:8443/01',
    );
    fc.assert(
      fc.property(gs1KeyIdentities, origins, (identity, origin) => {
        expect(parseDigitalLinkUri(digitalLinkUri(identity, origin))).toEqual({ ok: true, value: { kind: 'key', identity } });
      }),
    );
  });
});

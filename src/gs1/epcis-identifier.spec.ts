import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { gs1KeyIdentities } from '../../test/fixtures/epcis/gs1-key-arbitraries.js';
import { digitalLinkUri } from './digital-link-uri.js';
import { epcUrn } from './epc-urn.js';
import { custodianSubject, readEpcisIdentifier } from './epcis-identifier.js';

describe('EPCIS identifiers as Custodian subjects', () => {
  it.each([
    ['urn:epc:id:sgtin:0614141.107346.2017', '/01/10614141073464/21/2017'],
    ['https://example.com/01/10614141073464/21/2017', '/01/10614141073464/21/2017'],
    ['urn:epc:class:lgtin:4012345.012345.998877', '/01/04012345123456/10/998877'],
    ['https://example.com/01/4012345123456/10/998877?15=270101', '/01/04012345123456/10/998877'],
    ['urn:epc:id:sgtin:0614141.812345.A%2FB', '/01/80614141123458/21/A%2FB'],
    ['urn:epc:id:sscc:0614141.1234567890', '/00/106141412345678908'],
    ['https://id.gs1.org/00/106141412345678908', '/00/106141412345678908'],
    ['urn:epc:id:sgln:0012345.11111.0', '0012345111112'],
    ['urn:epc:id:sgln:4012345.00011.987', '4012345000115'],
    ['https://id.gs1.org/414/4012345000115/254/987', '4012345000115'],
    ['urn:epc:id:pgln:4012345.00000', '4012345000009'],
    ['https://example.com/417/4012345000009', '4012345000009'],
  ])('maps %s to the subject %s', (identifier, subject) => {
    expect(readEpcisIdentifier(identifier)).toMatchObject({ kind: 'subject', subject });
  });

  it('keeps a GLN extension beside the location subject', () => {
    expect(readEpcisIdentifier('urn:epc:id:sgln:4012345.00011.987')).toEqual({
      kind: 'subject',
      subject: '4012345000115',
      identity: { kind: 'location', gln: '4012345000115', extension: '987' },
    });
  });

  it.each([
    'urn:epc:id:grai:4012345.00022.334455',
    'urn:epc:id:giai:4012345.ABC345',
    'urn:epc:id:gsrn:4012345.0000006765',
    'urn:epc:idpat:sgtin:4012345.012345.*',
    'urn:epc:class:sgtin:4012345.012345',
    'https://id.gs1.org/01/09506000134352',
    'https://id.gs1.org/8004/0180451111ABC987',
    'geo:47.506694,11.104301',
    'https://transaction.example.com/po/12345678',
    'urn:epcglobal:cbv:bt:5200001000008:4711',
  ])('keeps %s as it is, saying why', (identifier) => {
    expect(readEpcisIdentifier(identifier)).toEqual({ kind: 'kept', reason: expect.any(String) });
  });

  it.each([
    'urn:epc:id:sgtin:0614141.107346.20%2317',
    'urn:epc:id:sscc:0614141.123',
    'https://example.com/01/10614141073465/21/2017',
  ])('refuses %s, written as a key Custodian records but wrong', (identifier) => {
    expect(readEpcisIdentifier(identifier)).toEqual({ kind: 'invalid', problem: expect.any(String) });
  });

  it('gives the same subject for a key written as an EPC URN and as a Digital Link on any domain', () => {
    fc.assert(
      fc.property(
        gs1KeyIdentities,
        fc.integer({ min: 6, max: 12 }),
        fc.constantFrom('https://id.gs1.org', 'https://example.com/p'),
        (identity, companyPrefixLength, origin) => {
          const expected = { kind: 'subject', identity, subject: custodianSubject(identity) };
          expect(readEpcisIdentifier(epcUrn(identity, companyPrefixLength))).toEqual(expected);
          expect(readEpcisIdentifier(digitalLinkUri(identity, origin))).toEqual(expected);
        },
      ),
    );
  });
});

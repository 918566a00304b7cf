import { describe, expect, it } from '@jest/globals';
import { canonicalKeyLink } from './event-hash-identifiers.js';

/**
 * Inputs written for Custodian; the expected links are what the reference implementation's
 * normaliser (RalphTro/epcis-event-hash-generator 5d2f1c3, dl_normaliser.py) answers for them,
 * `undefined` where it answers None (the value then enters the pre-hash string as written).
 */
const CASES: [string, string | undefined][] = [
  ['urn:epc:id:sgtin:0614141.812345.6789AB', 'https://id.gs1.org/01/80614141123458/21/6789AB'],
  [
    'urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()',
    'https://id.gs1.org/01/80614141123458/21/6789%2F%26%25%22%21%3F%28%29',
  ],
  ['urn:epc:id:sgtin:950600013435.2.X:Y+Z', 'https://id.gs1.org/01/29506000134356/21/X%3AY%2BZ'],
  ['urn:epc:id:sscc:0614141.1234567890', 'https://id.gs1.org/00/106141412345678908'],
  ['urn:epc:id:sgln:0614141.12345.400', 'https://id.gs1.org/414/0614141123452/254/400'],
  ['urn:epc:id:sgln:0614141.12345.0', 'https://id.gs1.org/414/0614141123452'],
  ['urn:epc:id:sgln:999999999999..A,B', 'https://id.gs1.org/414/9999999999994/254/A%2CB'],
  ['urn:epc:id:pgln:0614141.12345', 'https://id.gs1.org/417/0614141123452'],
  ['urn:epc:id:grai:0614141.12345.XYZ-1', 'https://id.gs1.org/8003/00614141123452XYZ-1'],
  ['urn:epc:id:giai:0614141.A(1).2', 'https://id.gs1.org/8004/0614141A%281%29.2'],
  ['urn:epc:id:gsrn:0614141.1234567890', 'https://id.gs1.org/8018/061414112345678902'],
  ['urn:epc:id:gsrnp:0614141.1234567890', 'https://id.gs1.org/8017/061414112345678902'],
  ['urn:epc:id:gdti:0614141.12345.DOC-9', 'https://id.gs1.org/253/0614141123452DOC-9'],
  ['urn:epc:id:cpi:0614141.PART-A%2F1.77', 'https://id.gs1.org/8010/0614141PART-A%2F1/8011/77'],
  ['urn:epc:id:sgcn:0614141.12345.42', 'https://id.gs1.org/255/061414112345242'],
  ['urn:epc:id:ginc:0614141.CONS*1', 'https://id.gs1.org/401/0614141CONS%2A1'],
  ['urn:epc:id:gsin:0614141.123456789', 'https://id.gs1.org/402/06141411234567890'],
  ['urn:epc:id:itip:0614141.812345.01.04.S1', 'https://id.gs1.org/8006/806141411234580104/21/S1'],
  ['urn:epc:id:upui:0614141.812345.Ab%3C9', 'https://id.gs1.org/01/80614141123458/235/Ab%3C9'],
  ['urn:epc:class:lgtin:0614141.812345.LOT:1', 'https://id.gs1.org/01/80614141123458/10/LOT%3A1'],
  ['urn:epc:idpat:sgtin:0614141.812345.*', 'https://id.gs1.org/01/80614141123458'],
  ['urn:epc:idpat:grai:0614141.12345.*', 'https://id.gs1.org/8003/00614141123452'],
  ['urn:epc:idpat:gdti:0614141.12345.*', 'https://id.gs1.org/253/0614141123452'],
  ['urn:epc:idpat:sgcn:0614141.12345.*', 'https://id.gs1.org/255/0614141123452'],
  ['urn:epc:idpat:cpi:0614141.PART-A.*', 'https://id.gs1.org/8010/0614141PART-A'],
  ['urn:epc:idpat:itip:0614141.812345.01.04.*', 'https://id.gs1.org/8006/806141411234580104'],
  ['urn:epc:idpat:upui:0614141.812345.*', 'https://id.gs1.org/01/80614141123458'],
  ['urn:epc:id:sgtin:0614141.81234.1', undefined],
  ['urn:epc:id:sgtin:0614141.812345.a#b', undefined],
  ['urn:epc:id:gid:95100000.12345.400', undefined],
  ['https://example.com/01/80614141123458/21/6789AB', 'https://id.gs1.org/01/80614141123458/21/6789AB'],
  ['http://example.com/shop/01/80614141123458/10/L1/21/S1?linkType=all', 'https://id.gs1.org/01/80614141123458/21/S1'],
  ['https://example.com/01/9506000134352/21/S1', 'https://id.gs1.org/01/09506000134352/21/S1'],
  ['https://example.com/01/950600013435/10/L1', 'https://id.gs1.org/01/00950600013435/10/L1'],
  ['https://example.com/01/95060001/21/S1', 'https://id.gs1.org/01/00000095060001/21/S1'],
  ['https://example.com/01/09506000134352/22/V1', 'https://id.gs1.org/01/09506000134352'],
  ['https://example.com/01/09506000134352/22/V1/21/S1', 'https://id.gs1.org/01/09506000134352/21/S1'],
  ['https://example.com/gtin/09506000134352/ser/S1', 'https://id.gs1.org/01/09506000134352/21/S1'],
  ['https://example.com/01/09506000134352/21/S%2F1', undefined],
  ['https://example.com/01/09506000134352/21/S!1', undefined],
  ['https://example.com/01/09506000134352', 'https://id.gs1.org/01/09506000134352'],
  ['https://example.com/00/106141412345678908', 'https://id.gs1.org/00/106141412345678908'],
  ['https://example.com/414/0614141123452/254/400', 'https://id.gs1.org/414/0614141123452/254/400'],
  ['https://example.com/417/0614141123452', 'https://id.gs1.org/417/0614141123452'],
  ['https://example.com/8004/0614141A12', 'https://id.gs1.org/8004/0614141A12'],
  ['https://example.com/about/us.html', undefined],
  ['https://transaction.example.com/po/12345678', undefined],
  ['geo:47.506694,11.104301', undefined],
  ['urn:epcglobal:cbv:bt:0614141073467:1152', undefined],
];

describe('GS1 keys in the pre-hash string: the constrained canonical Digital Link', () => {
  it.each(CASES)('writes %s as %s', (value, link) => {
    expect(canonicalKeyLink(value)).toBe(link);
  });
});

import { describe, expect, it } from '@jest/globals';
import { ProblemException } from '../infrastructure/http/problem-details.js';
import { DEFAULT_PER_PAGE, pageToken, parseEventQuery } from './event-query-parameters.js';

const ITEM_LINK = 'https://id.gs1.org/01/09506000134352/21/SN-1';

/** The problem's errors a query gets, or fails when it gets none. */
function errorsOf(query: Record<string, string | string[]>): { pointer: string; detail: string }[] {
  try {
    parseEventQuery(query);
  } catch (error) {
    expect(error).toBeInstanceOf(ProblemException);
    return (error as ProblemException).problem.errors ?? [];
  }
  throw new Error('the query was taken');
}

describe('the parameters of GET /events', () => {
  it('filter nothing when none is given, a page of the default size', () => {
    expect(parseEventQuery({})).toEqual({ filter: {}, perPage: DEFAULT_PER_PAGE, after: null });
  });

  it('take repeated and comma-separated values alike, identifiers and vocabulary in their normal forms', () => {
    const { filter } = parseEventQuery({
      MATCH_epc: ['urn:epc:id:sgtin:9506000.013435.SN-1', `https://example.com/01/09506000134352/21/SN-2`],
      EQ_bizStep: 'shipping,https://ref.gs1.org/cbv/BizStep-receiving',
      EQ_action: 'ADD,OBSERVE',
      EQ_readPoint: 'urn:epc:id:sgln:4012345.00001.0',
    });
    expect(filter).toEqual({
      epcs: [ITEM_LINK, 'https://id.gs1.org/01/09506000134352/21/SN-2'],
      bizSteps: ['https://ref.gs1.org/cbv/BizStep-shipping', 'https://ref.gs1.org/cbv/BizStep-receiving'],
      actions: ['ADD', 'OBSERVE'],
      readPoints: ['https://id.gs1.org/414/4012345000016'],
    });
  });

  it('take times with an offset, and an error declaration asked for without a value', () => {
    const { filter } = parseEventQuery({ GE_eventTime: '2026-11-20T00:00:00+01:00', EXISTS_errorDeclaration: '' });
    expect(filter).toEqual({ eventTimeFrom: '2026-11-20T00:00:00+01:00', errorDeclaration: true });
  });

  it('name each wrong parameter', () => {
    expect(
      errorsOf({
        EQ_action: 'MOVE',
        GE_eventTime: '2026-11-20',
        MATCH_epc: 'urn:epc:id:sgtin:9506000.013435.SN-1,urn:epc:idpat:sgtin:9506000.013435.*',
        MATCH_parentID: 'not a uri',
        perPage: '1001',
        EXISTS_errorDeclaration: 'false',
        LT_recordTime: ['2026-11-20T00:00:00Z', '2026-11-21T00:00:00Z'],
      }).map((error) => error.pointer),
    ).toEqual([
      '/EQ_action',
      '/MATCH_epc',
      '/MATCH_parentID',
      '/GE_eventTime',
      '/LT_recordTime',
      '/EXISTS_errorDeclaration',
      '/perPage',
    ]);
  });

  it('refuse an identifier with a wrong check digit, saying so', () => {
    const [error] = errorsOf({ MATCH_anyEPC: 'https://id.gs1.org/00/106141411234567890' });
    expect(error?.pointer).toBe('/MATCH_anyEPC');
    expect(error?.detail).toMatch(/check digit/);
  });

  it('continue after the position a page token holds, only with the query it was made for', () => {
    const filter = { epcs: [ITEM_LINK] };
    const token = pageToken(filter, { partition: 0, sequence: 41 });
    // The same query, with the identifier written another way: the same filter.
    expect(parseEventQuery({ MATCH_epc: 'urn:epc:id:sgtin:9506000.013435.SN-1', nextPageToken: token }).after).toEqual({
      partition: 0,
      sequence: 41,
    });
    expect(errorsOf({ MATCH_epc: ITEM_LINK, EQ_action: 'ADD', nextPageToken: token })).toEqual([
      expect.objectContaining({ pointer: '/nextPageToken' }),
    ]);
    expect(errorsOf({ nextPageToken: 'garbage' })).toEqual([expect.objectContaining({ pointer: '/nextPageToken' })]);
  });
});

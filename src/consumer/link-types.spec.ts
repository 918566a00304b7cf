import { describe, expect, it } from '@jest/globals';
import { acceptQuality, requestedLink } from './link-types.js';

describe('what a Digital Link resolves to', () => {
  it('gives a browser the page, an API client the JSON, and anyone else the page (the default link)', () => {
    const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
    expect(requestedLink(undefined, browser)).toBe('gs1:pip');
    expect(requestedLink(undefined, 'application/json')).toBe('gs1:traceability');
    expect(requestedLink(undefined, 'application/json, text/html;q=0.5')).toBe('gs1:traceability');
    expect(requestedLink(undefined, '*/*')).toBe('gs1:pip');
    expect(requestedLink(undefined, undefined)).toBe('gs1:pip');
    expect(requestedLink('custodian:qr', 'application/json')).toBe('custodian:qr');
  });

  it('weighs a media type by its most specific range (RFC 9110)', () => {
    expect(acceptQuality('text/*;q=0.3, text/html;q=0.7, */*;q=0.1', 'text/html')).toBe(0.7);
    expect(acceptQuality('text/*;q=0.3, */*;q=0.1', 'text/html')).toBe(0.3);
    expect(acceptQuality('application/json;q=0', 'application/json')).toBe(0);
    expect(acceptQuality('image/png', 'text/html')).toBe(0);
  });
});

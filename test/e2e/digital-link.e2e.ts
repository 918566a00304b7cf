import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import { checkEvidenceBundle } from '../../src/verification/evidence-bundle.js';
import { type CustodyApp, gln, gtin, startCustodyApp } from '../support/custody-api.js';

/*
 * GS1 Digital Link resolution over HTTP (docs/consumer-page.md): what each link type and Accept
 * header gets, without a key; bad input as problems; the party registry's operator routes; and
 * the per-client rate limit.
 */
const MAKER = gln(81);
const SITE = gln(82);
const OTHER = gln(83, '405432');
const G = gtin(8181);
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const RATE = 40;

describe('GS1 Digital Link resolution', () => {
  let app: CustodyApp;
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(app.client.url + path, { headers, redirect: 'manual' });

  beforeAll(async () => {
    app = await startCustodyApp(
      [
        { name: 'maker', role: 'operator', party: MAKER },
        { name: 'other', role: 'operator', party: OTHER },
        { name: 'reader', role: 'consumer' },
      ],
      { RESOLVER_BASE_URL: 'https://id.example.com/', CONSUMER_RATE_LIMIT_PER_MINUTE: String(RATE) },
    );
    const made = await app.client.post('/products', app.keys.maker!, {
      gtin: G,
      serial: 'S/1',
      name: 'Widget',
      owner: MAKER,
      location: SITE,
      occurredAt: '2026-11-01T08:00:00Z',
    });
    expect(made.status).toBe(201);
    const projected = await app.client.request('GET', `/products/01/${G}/21/S%2F1?waitFor=0:${made.body.receipt.sequence}`, {
      key: app.keys.reader!,
    });
    expect(projected.status).toBe(200);
  });

  afterAll(() => app.close());

  it('answers a browser with the page, under a Content-Security-Policy that admits only its own files', async () => {
    const response = await get(`/01/${G}/21/S%2F1`, { accept: BROWSER_ACCEPT });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('vary')).toContain('Accept');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await response.text();
    expect(html).toContain('<h1 id="product-name">Widget</h1>');
    const script = /<script type="module" src="(\/assets\/verify\.[0-9a-f]{12}\.js)">/.exec(html)?.[1];
    const asset = await get(script!);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await get('/assets/verify.000000000000.js')).status).toBe(404);
    // No linkType and */*: the default link, the page; gs1:pip says so outright.
    expect((await get(`/01/${G}/21/S%2F1`)).headers.get('content-type')).toContain('text/html');
    expect(
      (await get(`/01/${G}/21/S%2F1?linkType=gs1:pip`, { accept: 'application/json' })).headers.get('content-type'),
    ).toContain('text/html');
  });

  it('sends an API client to the provenance JSON, where its key is asked for', async () => {
    for (const request of [
      { path: `/01/${G}/21/S%2F1`, accept: 'application/json' },
      { path: `/01/${G}/21/S%2F1?linkType=gs1:traceability`, accept: BROWSER_ACCEPT },
    ]) {
      const response = await get(request.path, { accept: request.accept });
      expect(response.status).toBe(307);
      expect(response.headers.get('location')).toBe(`/products/01/${G}/21/S%2F1/history`);
    }
    const followed = await fetch(`${app.client.url}/01/${G}/21/S%2F1`, {
      headers: { accept: 'application/json', authorization: `Bearer ${app.keys.reader!}` },
    });
    expect(followed.status).toBe(200);
    expect(((await followed.json()) as { steps: unknown[] }).steps).toHaveLength(1);
  });

  it('gives anyone the evidence bundle, which verifies with the published keys', async () => {
    const response = await get(`/01/${G}/21/S%2F1?linkType=custodian:evidence`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    // Parsed in the test's own realm: canonical JSON takes plain objects of this realm only.
    const bundle = JSON.parse(await response.text()) as unknown;
    const keys = await app.client.request<{ ledgerKey: string; attestationKey: string }>('GET', '/verification/keys');
    const check = checkEvidenceBundle(bundle, {
      ledgerKey: CheckpointVerifier.fromVerifierKey(keys.body.ledgerKey),
      attestationKey: CheckpointVerifier.fromVerifierKey(keys.body.attestationKey),
      subject: `/01/${G}/21/S%2F1`,
    });
    expect(check.failures).toEqual([]);
  });

  it('draws a QR code of the Digital Link URI under RESOLVER_BASE_URL', async () => {
    const response = await get(`/01/${G}/21/S%2F1?linkType=custodian:qr`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/svg+xml');
    expect(await response.text()).toContain(`<title id="t">QR code of https://id.example.com/01/${G}/21/S%2F1</title>`);
  });

  it('answers an unknown product with a page for a browser and a problem otherwise, and bad input with a 400 naming it', async () => {
    const page = await get(`/01/${G}/21/NOPE`, { accept: BROWSER_ACCEPT });
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('No such product here');
    const evidence = await get(`/01/${G}/10/NOPE?linkType=custodian:evidence`);
    expect(evidence.status).toBe(404);
    expect(evidence.headers.get('content-type')).toContain('application/problem+json');
    for (const [path, pointer] of [
      [`/01/${G.slice(0, -1)}0/21/S1`, '/gtin'],
      [`/01/${G}/21/S1?linkType=gs1:epil`, '/linkType'],
    ] as const) {
      const bad = await app.client.request<{ errors: { pointer: string }[] }>('GET', path);
      expect({ path, status: bad.status, type: bad.contentType, pointer: bad.body.errors[0]?.pointer }).toEqual({
        path,
        status: 400,
        type: expect.stringContaining('application/problem+json'),
        pointer,
      });
    }
  });

  it("keeps the party registry to each party's own operators, and a location to the party that registered it", async () => {
    const { client, keys } = app;
    const party = { name: 'Acme', role: 'manufacturer', country: 'DE' };
    expect((await client.request('PUT', `/registry/parties/${MAKER}`, { key: keys.maker!, body: party })).body).toEqual({
      gln: MAKER,
      ...party,
    });
    const refused = await client.request<{ errors: { pointer: string }[] }>('PUT', `/registry/parties/${MAKER}`, {
      key: keys.other!,
      body: party,
    });
    expect({ status: refused.status, pointer: refused.body.errors[0]?.pointer }).toEqual({ status: 403, pointer: '/gln' });
    const invalid = await client.request<{ errors: { pointer: string }[] }>('PUT', `/registry/parties/${MAKER}`, {
      key: keys.maker!,
      body: { ...party, country: 'de' },
    });
    expect({ status: invalid.status, pointer: invalid.body.errors[0]?.pointer }).toEqual({ status: 400, pointer: '/country' });
    const site = { party: MAKER, name: 'Plant', country: 'DE', visibility: 'internal' };
    expect((await client.request('PUT', `/registry/locations/${SITE}`, { key: keys.maker!, body: site })).status).toBe(200);
    const taken = await client.request<{ errors: { pointer: string }[] }>('PUT', `/registry/locations/${SITE}`, {
      key: keys.other!,
      body: { ...site, party: OTHER },
    });
    expect({ status: taken.status, pointer: taken.body.errors[0]?.pointer }).toEqual({ status: 403, pointer: '/gln' });
    expect((await client.request('PUT', `/registry/locations/${SITE}`, { body: site })).status).toBe(401);
    const html = await (await get(`/01/${G}/21/S%2F1`, { accept: BROWSER_ACCEPT })).text();
    expect(html).toContain('<dd>a site of Acme (manufacturer)</dd>');
    expect(html).not.toContain('Plant');
  });

  it('limits each client: beyond CONSUMER_RATE_LIMIT_PER_MINUTE at once, a 429 problem with Retry-After', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < RATE + 5 && !limited; i++) {
      const response = await get(`/01/${G}/21/S%2F1?linkType=custodian:qr`);
      statuses.push(response.status);
      if (response.status === 429) limited = response;
      else await response.arrayBuffer();
    }
    expect(limited?.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await limited?.json()) as { type: string }).type).toBe('/problems/rate-limited');
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(RATE);
    // The API itself is not limited by it.
    expect((await app.client.request('GET', '/verification/keys')).status).toBe(200);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { type ApiDocument, fastifyRoutes, nestRoutes, type Operation, routeKey, schemaErrors } from '../support/api-document.js';
import { type CustodyApp, type RecordedStep, startCustodyApp } from '../support/custody-api.js';

// The parties, products and shipment of the document's own request examples.
const MAKER = '4012345000009';
const CONSIGNEE = '4098765000010';
const GTIN = '09506000134352';
const SSCC = '106141411234567897';
const PATH_VALUES: Record<string, string> = {
  gtin: GTIN,
  serial: 'SN-0001',
  lot: 'LOT-7',
  sscc: SSCC,
  id: randomUUID(),
  gln: MAKER,
  name: 'name',
};
/** Served by Fastify for the document itself, not part of the API it documents. */
const DOCUMENTATION_ROUTES = /^GET \/docs(?:-json|\/.*)?$/;

const operations = (document: ApiDocument) =>
  Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ key: routeKey(method, path), path, method, operation })),
  );

const successStatuses = (operation: Operation) => Object.keys(operation.responses).filter((status) => /^2\d\d$/.test(status));

describe('the OpenAPI document', () => {
  let app: CustodyApp;
  let document: ApiDocument;

  beforeAll(async () => {
    app = await startCustodyApp([
      { name: 'maker', role: 'operator', party: MAKER },
      { name: 'consignee', role: 'operator', party: CONSIGNEE },
      { name: 'auditor', role: 'auditor' },
      { name: 'consumer', role: 'consumer' },
    ]);
    const response = await app.client.request<ApiDocument>('GET', '/docs-json');
    expect(response.status).toBe(200);
    document = response.body;
  });

  afterAll(() => app.close());

  it('documents every route the server serves, and no route it does not serve', () => {
    const served = fastifyRoutes(app.running.app).filter((route) => !DOCUMENTATION_ROUTES.test(route));
    const declared = [...nestRoutes(app.running.app).keys()];
    // The route tree is read right: it holds every route a controller declares, and then some.
    expect(declared.length).toBeGreaterThan(20);
    expect(served).toEqual(expect.arrayContaining(declared));
    const documented = operations(document).map((operation) => operation.key);
    expect([...served].sort()).toEqual([...documented].sort());
  });

  it('documents the path parameters, every query parameter a route validates, and a schema for each success answer', () => {
    const queries = nestRoutes(app.running.app);
    for (const { key, path, operation } of operations(document)) {
      const parameters = operation.parameters ?? [];
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      expect({ key, path: parameters.filter((p) => p.in === 'path').map((p) => p.name) }).toEqual({ key, path: inPath });
      const query = queries.get(key);
      const validated = Object.keys(query?.properties ?? {}).sort();
      const described = parameters.filter((p) => p.in === 'query').map((p) => p.name);
      expect({ key, query: [...described].sort() }).toEqual({ key, query: validated });
      for (const name of described) {
        const parameter = parameters.find((p) => p.in === 'query' && p.name === name);
        expect({ key, name, required: parameter?.required, schema: parameter?.schema !== undefined }).toEqual({
          key,
          name,
          required: (query?.required ?? []).includes(name),
          schema: true,
        });
      }
      const success = successStatuses(operation);
      expect({ key, success: success.length }).toEqual({ key, success: 1 });
      const content = operation.responses[success[0]!]?.content ?? {};
      expect({ key, schema: Object.values(content).some((media) => media.schema !== undefined) }).toEqual({ key, schema: true });
    }
    // The query parameters of issue 14, each documented somewhere.
    const named = new Set(operations(document).flatMap(({ operation }) => (operation.parameters ?? []).map((p) => p.name)));
    for (const name of ['waitFor', 'limit', 'cursor', 'from', 'to', 'type', 'party', 'at', 'evidence', 'since']) {
      expect({ name, documented: named.has(name) }).toEqual({ name, documented: true });
    }
  });

  it('describes the API key as an opaque bearer token, required exactly where the server asks for one', async () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.securitySchemes).toEqual({ bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
    expect(document.components.securitySchemes?.bearer).not.toHaveProperty('bearerFormat');
    for (const { key, path, method, operation } of operations(document)) {
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(PATH_VALUES[name] ?? name));
      const response = await app.client.request(method.toUpperCase(), url, method === 'post' ? { body: {} } : {});
      const needsKey = (operation.security ?? []).some((requirement) => 'bearer' in requirement);
      expect({ key, needsKey, status: response.status === 401 ? 401 : 'not 401' }).toEqual({
        key,
        needsKey,
        status: needsKey ? 401 : 'not 401',
      });
    }
  });

  it('answers as it documents: real answers of every route fit the schema documented for their status', async () => {
    const sampled = new Map<string, Set<string>>();
    const { client, keys } = app;
    /** Calls a documented route and checks the answer against the schema documented for its status and media type. */
    const call = async <T = Record<string, unknown>>(
      method: 'GET' | 'POST' | 'PUT',
      template: string,
      options: { key?: string; query?: Record<string, string>; body?: unknown; params?: Record<string, string> } = {},
    ) => {
      const operation = document.paths[template]?.[method.toLowerCase()];
      expect({ route: `${method} ${template}`, documented: operation !== undefined }).toEqual({
        route: `${method} ${template}`,
        documented: true,
      });
      const values = { ...PATH_VALUES, ...options.params };
      const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? name));
      const query = options.query ? `?${new URLSearchParams(options.query).toString()}` : '';
      const response = await client.request<T>(method, path + query, {
        ...(options.key !== undefined ? { key: options.key } : {}),
        ...(options.body !== undefined ? { body: options.body } : {}),
      });
      const route = `${method} ${template} -> ${response.status}`;
      const documented = operation!.responses[String(response.status)];
      const mediaType = response.contentType.split(';')[0]!;
      const schema = documented?.content?.[mediaType]?.schema as object | undefined;
      expect({ route, mediaType, schema: schema !== undefined }).toEqual({ route, mediaType, schema: true });
      expect({ route, errors: schemaErrors(schema!, response.body) }).toEqual({ route, errors: [] });
      const statuses = sampled.get(routeKey(method, template)) ?? new Set<string>();
      sampled.set(routeKey(method, template), statuses.add(String(response.status)));
      return response;
    };
    const example = (route: string, change: Record<string, unknown> = {}) => {
      const value = (document.paths[route]?.post as { requestBody?: { content: Record<string, { examples?: unknown }> } })
        .requestBody?.content['application/json']?.examples as { example: { value: Record<string, unknown> } };
      return { ...value.example.value, ...change };
    };
    const record = async (route: string, key: string, body: unknown) => {
      const response = await call<RecordedStep>('POST', route, { key, body });
      expect({ route, status: response.status === 201 ? 201 : response.body }).toEqual({ route, status: 201 });
      return response.body;
    };

    // The story of the document's examples: two items and a lot, packed, a transformation, shipped, received.
    await record('/products', keys.maker!, example('/products'));
    await record('/products', keys.maker!, example('/products', { serial: 'SN-0002' }));
    await record('/products', keys.maker!, example('/products', { serial: undefined, lot: 'LOT-7' }));
    await record('/shipments', keys.maker!, example('/shipments'));
    await record('/shipments/pack', keys.maker!, example('/shipments/pack'));
    await record('/custody/transform', keys.maker!, example('/custody/transform'));
    await record('/shipments/dispatch', keys.maker!, example('/shipments/dispatch'));
    const received = await record('/shipments/receive', keys.consignee!, example('/shipments/receive'));
    const waitFor = `${received.receipt.partition}:${received.receipt.sequence}`;
    const reader = keys.consumer!;

    await call('GET', '/health');
    await call('GET', '/health/ready');
    await call('GET', '/ledger/public-key');
    await call('GET', '/ledger/heads', { key: reader });
    await call('GET', '/verification/keys');
    const metrics = await call<string>('GET', '/metrics');
    expect(metrics.body).toContain('custodian_projection_lag_records');

    await call('GET', '/products/01/{gtin}/21/{serial}', { key: reader, query: { waitFor } });
    await call('GET', '/products/01/{gtin}/10/{lot}', { key: reader, query: { waitFor } });
    const page = await call<{ next: string | null }>('GET', '/products/01/{gtin}/21/{serial}/history', {
      key: reader,
      query: { limit: '2' },
    });
    expect(page.body.next).not.toBeNull();
    await call('GET', '/products/01/{gtin}/21/{serial}/history', {
      key: reader,
      query: { cursor: page.body.next!, party: CONSIGNEE, from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' },
    });
    await call('GET', '/products/01/{gtin}/10/{lot}/history', { key: reader, query: { type: 'product.commissioned' } });
    await call('GET', '/products/01/{gtin}/21/{serial}/trace/backward', { key: reader });
    const made = await call<{ inputs: unknown[] }>('GET', '/products/01/{gtin}/10/{lot}/trace/backward', {
      key: reader,
      params: { gtin: '09506000134369', lot: 'LOT-7A' },
    });
    expect(made.body.inputs).toHaveLength(1);
    const recall = await call<{ products: unknown[] }>('GET', '/products/01/{gtin}/10/{lot}/trace/forward', {
      key: reader,
      query: { limit: '10' },
    });
    expect(recall.body.products.length).toBeGreaterThanOrEqual(2);
    await call('GET', '/shipments/00/{sscc}', { key: reader, query: { waitFor } });
    const held = await call<{ contents: unknown[] }>('GET', '/shipments/00/{sscc}/contents', {
      key: reader,
      query: { at: '2026-11-26T09:30:00+01:00' },
    });
    expect(held.body.contents).toHaveLength(2);

    await call('GET', '/products/01/{gtin}/21/{serial}/attestation', { key: reader });
    await call('GET', '/products/01/{gtin}/21/{serial}/attestation', { key: reader, query: { evidence: 'true', since: '1' } });
    await call('GET', '/products/01/{gtin}/10/{lot}/attestation', { key: reader });
    // The EPCIS query: the steps above, projected by now (the reads above waited for the last).
    await call('GET', '/events', { key: reader, query: { EQ_bizStep: 'receiving', perPage: '1' } });
    await call('GET', '/events/{eventID}', { key: reader, params: { eventID: `urn:uuid:${received.eventId}` } });
    await call('GET', '/events/{eventID}', { key: reader });
    // EPCIS capture: the documented example document (another item, as the steps above hold its own), then its job.
    const captureExample = (
      document.paths['/capture']?.post as unknown as {
        requestBody: {
          content: Record<string, { examples: { commissioning: { value: { epcisBody: { eventList: object[] } } } } }>;
        };
      }
    ).requestBody.content['application/ld+json']!.examples.commissioning.value;
    const [commissioning] = captureExample.epcisBody.eventList;
    const captured = await call<{ captureID: string; success: boolean }>('POST', '/capture', {
      key: keys.maker!,
      body: {
        ...captureExample,
        epcisBody: { eventList: [{ ...commissioning, epcList: ['urn:epc:id:sgtin:9506000.013435.SN-EPCIS'] }] },
      },
    });
    expect(captured.body.success).toBe(true);
    await call('GET', '/capture/{id}', { key: keys.maker!, params: { id: captured.body.captureID } });

    // The consumer page: the Digital Link routes answer HTML, the evidence bundle and SVG; the page's files; the registry.
    const productPage = await call<string>('GET', '/01/{gtin}/21/{serial}');
    await call('GET', '/01/{gtin}/21/{serial}', { query: { linkType: 'custodian:evidence' } });
    await call('GET', '/01/{gtin}/10/{lot}', { query: { linkType: 'custodian:qr' } });
    for (const [, name] of productPage.body.matchAll(/"\/assets\/([^"]+)"/g))
      await call('GET', '/assets/{name}', { params: { name: name! } });
    await call('GET', '/01/{gtin}/21/{serial}', { params: { serial: 'NOT-THERE' } });
    await call('PUT', '/registry/parties/{gln}', {
      key: keys.maker!,
      body: { name: 'Acme', role: 'manufacturer', country: 'DE' },
    });
    await call('PUT', '/registry/locations/{gln}', {
      key: keys.maker!,
      params: { gln: '4012345000016' },
      body: { party: MAKER, name: 'Acme plant', country: 'DE', visibility: 'internal' },
    });

    const started = await call<{ id: string }>('POST', '/audits', { key: keys.auditor! });
    expect(started.headers.get('location')).toBe(`/audits/${started.body.id}`);
    const deadline = Date.now() + 60_000;
    let job = await call<{ status: string }>('GET', '/audits/{id}', { key: keys.auditor!, params: { id: started.body.id } });
    while (job.body.status === 'running' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      job = await call('GET', '/audits/{id}', { key: keys.auditor!, params: { id: started.body.id } });
    }
    expect(job.body.status).toBe('finished');

    // Errors are documented problems too.
    await call('GET', '/products/01/{gtin}/21/{serial}', { key: reader, params: { serial: 'NOT-THERE' } });
    await call('GET', '/products/01/{gtin}/21/{serial}/history', { key: reader, query: { limit: '0' } });
    await call('POST', '/custody/handover', { key: keys.maker!, body: example('/custody/handover') });

    const unsampled = operations(document)
      .filter(({ key, operation }) => !successStatuses(operation).every((status) => sampled.get(key)?.has(status)))
      .map(({ key }) => key);
    // The other step routes answer with the same schema as those recorded above.
    expect(unsampled.sort()).toEqual(
      [
        'POST /custody/batch',
        'POST /custody/handover',
        'POST /custody/inspect',
        'POST /products/decommission',
        'POST /shipments/unpack',
      ].sort(),
    );
  }, 120_000);
});

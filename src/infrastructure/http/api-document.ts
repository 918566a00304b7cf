import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Custodian API</title><link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body>
</html>
`;
const INIT = `window.ui = SwaggerUIBundle({ url: '/docs-json', dom_id: '#ui', deepLinking: true });\n`;
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

/**
 * GET /metrics is declared by the projection module, whose controller carries no OpenAPI
 * decorators; it answers the Prometheus text format.
 */
function describeMetrics(document: OpenAPIObject): void {
  const metrics = document.paths['/metrics']?.get;
  if (!metrics) return;
  metrics.summary ??= 'Prometheus metrics of the ledger and its projection';
  metrics.tags ??= ['health'];
  metrics.responses['200'] = {
    description: 'the Prometheus text format (version 0.0.4)',
    content: { 'text/plain': { schema: { type: 'string' } } },
  };
}

/**
 * The OpenAPI document, generated from the routes and their schemas (the same TypeBox schemas
 * that validate requests): JSON at /docs-json, and Swagger UI at /docs. The UI's files are
 * served from swagger-ui-dist directly rather than through @fastify/static, which pulls in an
 * ESM-only dependency through require() that jest cannot load.
 */
export function publishApiDocument(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Custodian')
    .setDescription(
      'Tamper-evident custody ledger. Every recorded step is a hash-chained record in Kafka; a 201 carries its ledger receipt. ' +
        'Parties and locations are GLNs; products and shipments are GS1 Digital Link paths. Errors are RFC 9457 problem+json.',
    )
    .setVersion('1')
    // 3.1: its schemas are JSON Schema, as TypeBox writes them (a null is `type: null`).
    .setOpenAPIVersion('3.1.0')
    // Not addBearerAuth(), which says the token is a JWT: an API key is an opaque string.
    .addSecurity('bearer', { type: 'http', scheme: 'bearer', description: 'an API key (npm run api-key)' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  describeMetrics(document);
  SwaggerModule.setup('docs', app, document, { ui: false, raw: ['json'], jsonDocumentUrl: 'docs-json' });

  const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
  const resolve = createRequire(import.meta.url).resolve;
  fastify.get('/docs', (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  fastify.get('/docs/init.js', (_request, reply) => reply.type('text/javascript; charset=utf-8').send(INIT));
  for (const [file, type] of Object.entries(ASSETS)) {
    fastify.get(`/docs/${file}`, async (_request, reply) =>
      reply.type(type).send(await readFile(resolve(`swagger-ui-dist/${file}`))),
    );
  }
}

import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
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
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'an API key (npm run api-key)' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
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

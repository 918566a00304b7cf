import type { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { AppModule } from './app.module.js';
import type { CustodianConfig } from './infrastructure/config/config.js';
import { publishApiDocument } from './infrastructure/http/api-document.js';
import { acceptJsonBodiesOnly } from './infrastructure/http/json-bodies.js';
import { ProblemDetailsFilter } from './infrastructure/http/problem-details.filter.js';
import { custodianProblems } from './problems.js';

/**
 * Builds the Custodian HTTP application on Fastify (chosen by measurement: see
 * docs/BENCHMARKS.md, "HTTP adapter"). Used by main.ts and by the end-to-end tests.
 */
export async function createApplication(config: CustodianConfig, logger: LoggerService): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: config.http.bodyLimitBytes, return503OnClosing: true });
  acceptJsonBodiesOnly(adapter.getInstance());
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger,
    abortOnError: false,
    // No parsers of Nest's (it would add a form parser): the API takes JSON alone, and any
    // other body is a 415 (acceptJsonBodiesOnly).
    bodyParser: false,
  });
  app.useGlobalFilters(new ProblemDetailsFilter(logger, custodianProblems));
  if (config.cluster.enabled) {
    // Writes forwarded by the other instances (docs/scaling.md); started with startAllMicroservices.
    app.connectMicroservice<MicroserviceOptions>({
      transport: Transport.TCP,
      options: { host: config.cluster.host, port: config.cluster.port },
    });
  }
  publishApiDocument(app);
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  return app;
}

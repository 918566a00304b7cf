import { ConsoleLogger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApplication } from '../../src/application.js';
import type { CustodianConfig } from '../../src/infrastructure/config/config.js';
import { prepareDatabase } from '../../src/infrastructure/database/database-provisioning.js';

export interface RunningApplication {
  readonly app: NestFastifyApplication;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts Custodian in-process the way main.ts does, listening on a free loopback port. */
export async function startApplication(config: CustodianConfig): Promise<RunningApplication> {
  await prepareDatabase(config.database.url);
  const app = await createApplication(config, new ConsoleLogger({ logLevels: ['error', 'warn'] }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url, close: () => app.close() };
}

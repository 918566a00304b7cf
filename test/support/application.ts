import { ConsoleLogger, type LoggerService } from '@nestjs/common';
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
export async function startApplication(
  config: CustodianConfig,
  logger: LoggerService = new ConsoleLogger({ logLevels: ['error', 'warn'] }),
): Promise<RunningApplication> {
  await prepareDatabase(config.database.url);
  const app = await createApplication(config, logger);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url, close: () => app.close() };
}

/** A logger that keeps what it is told, by level, for tests that look at what was logged. */
export class RecordingLogger extends ConsoleLogger {
  readonly lines: { level: string; message: string; stack?: string }[] = [];

  constructor() {
    super({ logLevels: ['error', 'warn', 'log'] });
  }

  override error(message: unknown, stack?: string, context?: string): void {
    this.lines.push({ level: 'error', message: JSON.stringify(message), ...(stack ? { stack } : {}) });
    super.error(message, stack, context);
  }

  override warn(message: unknown, context?: string): void {
    this.lines.push({ level: 'warn', message: JSON.stringify(message) });
    super.warn(message, context);
  }
}

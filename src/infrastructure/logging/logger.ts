import { ConsoleLogger, type LogLevel as NestLogLevel } from '@nestjs/common';
import type { LogFormat, LogLevel } from '../config/config.js';

const ORDER: readonly LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** One JSON object per line (LOG_FORMAT=json, the default) or coloured text for a terminal. */
export function createLogger(options: { level: LogLevel; format: LogFormat }): ConsoleLogger {
  const logLevels = ORDER.slice(0, ORDER.indexOf(options.level) + 1) as NestLogLevel[];
  return new ConsoleLogger({
    logLevels,
    json: options.format === 'json',
    colors: options.format === 'text',
    timestamp: options.format === 'text',
  });
}

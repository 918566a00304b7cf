/**
 * Builds a ledger of N custody steps quickly through the real writer, without HTTP
 * (bench/support/ledger-builder.ts): for the scale benchmark, and for anyone who wants a long
 * ledger to try Custodian against. The application must not run on that ledger meanwhile.
 *
 *   npm run ledger:build -- --steps 1000000 [--batch 500] [--in-flight 8] [--tag T]
 *
 * Configuration as the application's (DATABASE_URL, KAFKA_BROKERS, LEDGER_TOPIC, LEDGER_ID,
 * CUSTODIAN_DATA_DIR for the checkpoint key): it builds the ledger the application would serve.
 * The last line on stdout is the result as JSON: {"steps":…,"seconds":…,"stepsPerSecond":…}.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/infrastructure/config/config.js';
import { createLogger } from '../src/infrastructure/logging/logger.js';
import { buildLedger } from './support/ledger-builder.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string' },
    batch: { type: 'string', default: '500' },
    'in-flight': { type: 'string', default: '8' },
    tag: { type: 'string' },
  },
});
const [steps, batch, inFlight] = [values.steps, values.batch, values['in-flight']].map(Number) as [number, number, number];
if (![steps, batch, inFlight].every((n) => Number.isSafeInteger(n) && n >= 1)) {
  process.stderr.write('usage: npm run ledger:build -- --steps N [--batch 500] [--in-flight 8] [--tag T]\n');
  process.exit(2);
}
const config = loadConfig(process.env);
const logger = createLogger(config.log);
const result = await buildLedger(config, logger, {
  steps,
  batch,
  inFlight,
  ...(values.tag === undefined ? {} : { tag: values.tag }),
  onProgress: (recorded, seconds) => {
    logger.log(`${recorded} steps in ${seconds.toFixed(0)} s (${Math.round(recorded / seconds)}/s)`, 'LedgerBuild');
  },
});
process.stdout.write(`${JSON.stringify(result)}\n`);

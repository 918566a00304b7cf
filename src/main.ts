import 'reflect-metadata';
import { createApplication } from './application.js';
import { ConfigError, loadConfig, redactUrl } from './infrastructure/config/config.js';
import { prepareDatabase } from './infrastructure/database/database-provisioning.js';
import { LedgerTopicMisconfiguredError } from './infrastructure/kafka/ledger-topic.js';
import { createLogger } from './infrastructure/logging/logger.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`custodian: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.log);
  const { created, migrations } = await prepareDatabase(config.database.url);
  logger.log(
    `database ${redactUrl(config.database.url)}: ${created ? 'created' : 'exists'}, ${migrations.length} migration(s) applied`,
    'Bootstrap',
  );
  const app = await createApplication(config, logger);
  if (config.cluster.enabled) await app.startAllMicroservices();
  await app.listen({ host: config.http.host, port: config.http.port });
  const url = await app.getUrl();
  logger.log(`Custodian is serving on ${url} (readiness: ${url}/health/ready)`, 'Bootstrap');
}

main().catch((error: unknown) => {
  // A ledger topic the configuration does not fit: a configuration problem, said as one.
  if (error instanceof LedgerTopicMisconfiguredError) {
    process.stderr.write(`custodian: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `custodian: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

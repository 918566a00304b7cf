/**
 * The projector as a process of its own (the application also runs one in-process unless
 * PROJECTOR_ENABLED=false):
 *
 *   node dist/src/tools/projector.js            follow the ledger until SIGTERM
 *   node dist/src/tools/projector.js --rebuild  empty the read models, replay the ledger
 *                                                         to its end, and exit (npm run projection:rebuild)
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../infrastructure/config/config.js';
import { openDataSource } from '../infrastructure/database/data-source-options.js';
import { prepareDatabase } from '../infrastructure/database/database-provisioning.js';
import { createKafkaClient } from '../infrastructure/kafka/kafka-client.js';
import { createLogger } from '../infrastructure/logging/logger.js';
import { ledgerSigner } from '../ledger-module/ledger-parts.js';
import { partitionOffsets } from '../ledger/adapters/kafka-partition-reader.js';
import { PostgresReadModels } from '../projection/postgres-read-models.js';
import { createProjector } from '../projection/projection-parts.js';

/** Where each partition ends now: what a rebuild replays up to. */
async function topicEnd(
  kafka: ReturnType<typeof createKafkaClient>,
  topic: string,
  partitions: number,
): Promise<Map<number, bigint>> {
  const ends = new Map<number, bigint>();
  for (let partition = 0; partition < partitions; partition++) {
    ends.set(partition, BigInt((await partitionOffsets(kafka, topic, partition)).end));
  }
  return ends;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rebuild: { type: 'boolean' } } });
  const config = loadConfig(process.env);
  const logger = createLogger(config.log);
  await prepareDatabase(config.database.url);
  const dataSource = await openDataSource(config.database.url);
  const kafka = createKafkaClient(config.kafka, logger);
  const { signer } = await ledgerSigner(config);
  if (values.rebuild) {
    await new PostgresReadModels(dataSource, config.ledger.id).clear();
    logger.log('read models emptied; replaying the ledger', 'Projection');
  }
  const end = values.rebuild ? await topicEnd(kafka, config.ledger.topic, config.ledger.partitions) : null;
  const projectionLogger = createLogger(config.log);
  projectionLogger.setContext('Projection');
  const projector = createProjector(config, { dataSource, kafka, signer, logger: projectionLogger });
  const started = Date.now();
  await projector.start();
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    await projector.stop();
    await dataSource.destroy();
    logger.log(`projector stopped (${why})`, 'Projection');
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  if (end) {
    for (;;) {
      const status = projector.status();
      // Caught up: the feed has fetched to the end (markers and aborted records included) and
      // nothing read waits in the verifier for a checkpoint.
      const caughtUp = status.every(
        (p) => p.status === 'quarantined' || (BigInt(p.fetchedTo) >= (end.get(p.partition) ?? 0n) && !p.pending),
      );
      if (caughtUp) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const records = projector.status().reduce((sum, p) => sum + p.nextSequence, 0);
    logger.log(`rebuilt from ${records} ledger records in ${((Date.now() - started) / 1000).toFixed(1)} s`, 'Projection');
    await stop('rebuilt');
    return;
  }
  await projector.done;
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`custodian-projector: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`custodian-projector: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

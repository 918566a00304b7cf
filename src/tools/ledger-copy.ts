/**
 * `npm run ledger:copy -- --to <topic>`: copies the verified chain of the configured ledger topic
 * (LEDGER_TOPIC) into a new topic, byte for byte, up to the first break, for an operator whose
 * ledger no longer verifies (docs/RELIABILITY.md, "A ledger that no longer verifies"). The new
 * topic is created with the ledger's configuration and must not exist yet. Then point
 * LEDGER_TOPIC at it and rebuild the read models. Exit status 0: copied; 2: could not run.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../infrastructure/config/config.js';
import { openDataSource } from '../infrastructure/database/data-source-options.js';
import { createKafkaClient } from '../infrastructure/kafka/kafka-client.js';
import { ensureLedgerTopic } from '../infrastructure/kafka/ledger-topic.js';
import { createLogger } from '../infrastructure/logging/logger.js';
import { copyVerifiedLedger } from '../ledger/adapters/kafka-ledger-copy.js';
import { genesisPinOf, ledgerKeyOf, ledgerSigner } from '../ledger-module/ledger-parts.js';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { to: { type: 'string' } } });
  const config = loadConfig(process.env);
  const to = values.to;
  if (!to) throw new ConfigError(['--to: name the new topic the verified ledger is copied into']);
  const logger = createLogger({ ...config.log, level: 'warn' });
  const kafka = createKafkaClient(config.kafka, logger);
  const admin = kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(to)) throw new ConfigError([`--to: topic ${to} exists already; name a new one`]);
    await ensureLedgerTopic(admin, { ...config.ledger, topic: to });
  } finally {
    await admin.disconnect();
  }
  const dataSource = await openDataSource(config.database.url);
  try {
    const { signer } = await ledgerSigner(config);
    const copies = await copyVerifiedLedger(kafka, {
      from: config.ledger.topic,
      to,
      ledgerId: config.ledger.id,
      partitions: config.ledger.partitions,
      verifier: ledgerKeyOf(signer),
      genesisPin: genesisPinOf(config, dataSource),
    });
    for (const { partition, copied, problem } of copies) {
      const end = problem
        ? `stopped at the break: ${problem.kind} at offset ${problem.offset}, sequence ${problem.sequence ?? '?'}: ${problem.message}`
        : 'all of it verified';
      process.stderr.write(`partition ${partition}: ${copied} verified records copied to ${to}; ${end}\n`);
    }
    process.stderr.write(`Set LEDGER_TOPIC=${to}, start Custodian, then run npm run projection:rebuild.\n`);
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message =
      error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`custodian-ledger-copy: ${message}\n`);
    process.exitCode = 2;
  },
);

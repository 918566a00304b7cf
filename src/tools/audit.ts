/**
 * The full audit as a command (`npm run audit`; docs/attestation-format.md §6): reads every
 * partition of the ledger from genesis, verifies it, holds it against the witness and the read
 * models, prints progress and a summary on stderr, and writes the JSON report to --out (or
 * stdout). Exit status 0: verified; 1: tampered or incomplete; 2: could not run.
 */
import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../infrastructure/config/config.js';
import { openDataSource } from '../infrastructure/database/data-source-options.js';
import { createKafkaClient } from '../infrastructure/kafka/kafka-client.js';
import { createLogger } from '../infrastructure/logging/logger.js';
import { ledgerKeyOf, ledgerSigner } from '../ledger-module/ledger-parts.js';
import { systemClock } from '../ledger/ports.js';
import { LedgerAudit } from '../verification/ledger-audit.js';
import { ReadModelReplay } from '../verification/read-model-replay.js';
import { configuredWitness, ledgerSource } from '../verification/verification-parts.js';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'no-read-model': { type: 'boolean' } } });
  const config = loadConfig(process.env);
  const logger = createLogger({ ...config.log, level: 'warn' });
  const dataSource = await openDataSource(config.database.url);
  try {
    const kafka = createKafkaClient(config.kafka, logger);
    const { signer } = await ledgerSigner(config);
    const ledgerKey = ledgerKeyOf(signer);
    const source = ledgerSource(config, kafka, ledgerKey, dataSource);
    const audit = new LedgerAudit({
      source,
      witness: configuredWitness(config, ledgerKey),
      readModel: values['no-read-model']
        ? null
        : () => ReadModelReplay.begin(dataSource, config.ledger.id, config.ledger.partitions),
      clock: systemClock,
      threads: config.verification.auditThreads,
    });
    const report = await audit.run((progress) => {
      process.stderr.write(
        `\raudit: partition ${progress.partition + 1}/${progress.partitions}, ${progress.recordsRead} records read, ${progress.recordsVerified} verified`,
      );
    });
    process.stderr.write(`\n${report.summary}`);
    const json = `${JSON.stringify(report, null, 2)}\n`;
    if (values.out) await writeFile(values.out, json);
    else process.stdout.write(json);
    return report.verdict === 'verified' ? 0 : 1;
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
    process.stderr.write(`custodian-audit: ${message}\n`);
    process.exitCode = 2;
  },
);

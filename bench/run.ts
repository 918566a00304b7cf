/**
 * `npm run bench`: every benchmark in one run, each against baselines measured in the same run,
 * written to docs/BENCHMARKS.md and docs/benchmarks.json (scripts/bench.sh provisions Kafka and
 * PostgreSQL first, as the tests do).
 *
 *   npm run bench [-- --only http,attestation] [--quick]
 *
 * --only runs some benchmarks and keeps the others' last results from the JSON file; --quick
 * runs everything small and writes to .data/bench/ instead of docs/ (a check that it all runs).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import * as prettier from 'prettier';
import { maintenanceUrl } from '../src/infrastructure/database/database-provisioning.js';
import { attestation } from './attestation.js';
import { bundleSize } from './bundle-size.js';
import { cluster } from './cluster.js';
import { cpu } from './cpu.js';
import { epcisCapture } from './epcis.js';
import { httpLoad } from './http-load.js';
import { ledgerAppends } from './ledger-appends.js';
import { page } from './page.js';
import { projection } from './projection.js';
import { scale } from './scale.js';
import { benchKafka, deleteBenchTopics } from './support/kafka.js';
import type { Benchmark, Section, Table } from './support/suite.js';
import { TARGETS, type TargetResult } from './targets.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const BENCHMARKS: readonly Benchmark[] = [
  cpu,
  ledgerAppends,
  httpLoad,
  attestation,
  bundleSize,
  projection,
  page,
  scale,
  cluster,
  epcisCapture,
];

interface Environment {
  readonly date: string;
  readonly command: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly memoryGiB: number; readonly os: string };
  readonly versions: Readonly<Record<string, string>>;
  readonly commit: string;
}

interface Results {
  readonly environment: Environment;
  readonly sections: Section[];
  readonly targets: TargetResult[];
}

const { values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean', default: false } } });
const only = values.only?.split(',').map((id) => id.trim());
const unknown = only?.filter((id) => !BENCHMARKS.some((b) => b.id === id)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s) ${unknown.join(', ')}; there are ${BENCHMARKS.map((b) => b.id).join(', ')}\n`);
  process.exit(2);
}
const quick = values.quick;
const outDir = quick ? join(ROOT, '.data/bench') : join(ROOT, 'docs');
const jsonFile = join(outDir, 'benchmarks.json');
const markdownFile = join(outDir, 'BENCHMARKS.md');
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL is not set (npm run bench provides one)');

const started = Date.now();
const clock = () => {
  const s = Math.round((Date.now() - started) / 1000);
  return `${new Date().toISOString().slice(11, 19)} +${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};
const say = (message: string) => process.stderr.write(`[bench ${clock()}] ${message}\n`);

async function environment(): Promise<Environment> {
  const packageVersion = (name: string) =>
    (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  const pom = readFileSync(join(ROOT, 'scripts/kafka/pom.xml'), 'utf8');
  const client = new pg.Client({ connectionString: maintenanceUrl(databaseUrl!) });
  await client.connect();
  const postgres = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? 'unknown';
  await client.end();
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  let commit = 'unknown';
  try {
    commit = git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain') === '' ? '' : ' with uncommitted changes');
  } catch {
    // not a git checkout
  }
  return {
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${process.platform} ${process.arch}`,
    },
    versions: {
      node: process.version,
      kafka: /<kafka.version>(.*)<\/kafka.version>/.exec(pom)?.[1] ?? 'unknown',
      postgresql: postgres,
      kafkajs: packageVersion('kafkajs'),
      '@nestjs/core': packageVersion('@nestjs/core'),
      typeorm: packageVersion('typeorm'),
      '@noble/hashes': packageVersion('@noble/hashes'),
      autocannon: packageVersion('autocannon'),
    },
    commit,
  };
}

function renderTable(table: Table): string[] {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(table.head), line(table.align.map((a) => (a === 'r' ? '---:' : '---'))), ...table.rows.map((row) => line(row))];
}

function render(results: Results): string {
  const { environment: env } = results;
  const out: string[] = [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench` (bench/run.ts) from docs/benchmarks.json: edit the benchmarks, not this file. -->',
    '',
    'Each figure is the median of several runs, with their spread, and a ratio to a baseline measured in the same run on ' +
      'the same machine: the raw rate of the part beneath it (kafkajs produce, PostgreSQL insert, SHA-256, a Kafka read). ' +
      'Absolute numbers on a shared 2-core machine that also runs the broker and the database are noisy; the ratios are ' +
      'what to compare. What limits each figure, with profiles and the changes measured before and after: ' +
      '[PERFORMANCE.md](PERFORMANCE.md).',
    '',
    `Command: \`${env.command}\` (all sections; a section run alone with \`--only\` names its own date)`,
    `Machine: ${env.machine.cpu}, ${env.machine.cores} cores, ${env.machine.memoryGiB} GiB, ${env.machine.os}; Kafka and PostgreSQL on the same machine`,
    `Versions: ${Object.entries(env.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}`,
    `Date: ${env.date}; commit ${env.commit}`,
    '',
    '## Targets',
    '',
    ...renderTable({
      head: ['target', 'needed', 'measured', 'met', 'section, measured at'],
      align: ['l', 'r', 'r', 'l', 'l'],
      rows: results.targets.map((t) => [
        t.what,
        t.needed,
        t.measured,
        t.met === null ? 'not measured' : t.met ? 'yes' : `**no**: [why](PERFORMANCE.md#${t.id})`,
        `[${t.section}](#${t.section}), ${
          results.sections
            .find((s) => s.id === t.section)
            ?.date.slice(0, 16)
            .replace('T', ' ') ?? '–'
        }`,
      ]),
    }),
  ];
  for (const section of results.sections) {
    out.push('', `<a id="${section.id}"></a>`, '', `## ${section.title}`, '', section.about, '');
    out.push(`Measured ${section.date}: ${section.setting}; the section took ${Math.round(section.seconds)} s.`);
    out.push(`Run alone: \`npm run bench -- --only ${section.id}\``);
    for (const table of section.tables) out.push('', ...renderTable(table));
  }
  return `${out.join('\n')}\n`;
}

async function write(results: Results): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  for (const [file, text] of [
    [jsonFile, JSON.stringify(results, null, 2)],
    [markdownFile, render(results)],
  ] as const) {
    const options = (await prettier.resolveConfig(file)) ?? {};
    writeFileSync(file, await prettier.format(text, { ...options, filepath: file }));
  }
}

const previous: Section[] = only && existsSync(jsonFile) ? (JSON.parse(readFileSync(jsonFile, 'utf8')) as Results).sections : [];
const selected = BENCHMARKS.filter((b) => !only || only.includes(b.id));
const kafka = benchKafka('custodian-bench');
const env = await environment();
say(`${selected.length} benchmark(s)${quick ? ', quick' : ''}: ${selected.map((b) => b.id).join(', ')}; writing ${markdownFile}`);
const sections = new Map<string, Section>(previous.map((s) => [s.id, s]));
let failed = false;
for (const [index, benchmark] of selected.entries()) {
  const tag = `[${index + 1}/${selected.length} ${benchmark.id}]`;
  say(`${tag} ${benchmark.title}`);
  const t0 = Date.now();
  try {
    const result = await benchmark.run({
      quick,
      kafka,
      databaseUrl,
      progress: (message) => say(`${tag} ${message}`),
    });
    sections.set(benchmark.id, {
      id: benchmark.id,
      title: benchmark.title,
      ...result,
      seconds: (Date.now() - t0) / 1000,
      date: new Date(t0).toISOString(),
    });
    say(`${tag} done in ${Math.round((Date.now() - t0) / 1000)} s`);
  } catch (error) {
    failed = true;
    say(`${tag} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    await deleteBenchTopics(kafka).catch(() => undefined);
  }
  const ordered = BENCHMARKS.flatMap((b) => sections.get(b.id) ?? []);
  await write({ environment: env, sections: ordered, targets: TARGETS.map((t) => t.evaluate(ordered)) });
}
say(`${failed ? 'finished with failures' : 'finished'}; ${markdownFile} and ${jsonFile} written`);
process.exit(failed ? 1 : 0);

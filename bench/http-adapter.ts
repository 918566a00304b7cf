/**
 * Which HTTP adapter should Custodian run on? The same NestJS module (a GET that answers a
 * small JSON object, a POST that parses and answers a custody-step-sized JSON body) served by
 * Express and by Fastify, measured with autocannon over loopback. Runs alternate between the
 * adapters so that drift of the machine hits both; the median of the runs is reported.
 *
 *   npm run bench:http-adapter [-- --runs 5 --seconds 5 --connections 64]
 */
import 'reflect-metadata';
import { Body, Controller, Get, type INestApplication, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import autocannon from 'autocannon';
import { parseArgs } from 'node:util';
import { machine, median, spread } from './support/report.js';

const STEP = JSON.stringify({
  type: 'handover',
  product: { gtin: '09506000134352', serial: 'SN-000123' },
  from: { party: 'urn:epc:id:pgln:9506000134352.0' },
  to: { party: 'urn:epc:id:pgln:9506000134369.0' },
  location: '9506000134376',
  occurredAt: '2026-11-26T08:30:00+01:00',
  actor: 'operator-17',
  evidence: { documentHash: 'a'.repeat(64), url: 'https://example.com/delivery-note/4711.pdf' },
});

@Controller()
class BenchController {
  @Get('ping')
  ping(): { status: string } {
    return { status: 'ok' };
  }

  @Post('steps')
  record(@Body() body: Record<string, unknown>): { accepted: boolean; type: unknown } {
    return { accepted: true, type: body.type };
  }
}

@Module({ controllers: [BenchController] })
class BenchModule {}

type AdapterName = 'express' | 'fastify';

async function start(adapter: AdapterName): Promise<{ app: INestApplication; url: string }> {
  const httpAdapter = adapter === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(BenchModule, httpAdapter, { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

async function load(url: string, seconds: number, connections: number, post: boolean): Promise<autocannon.Result> {
  return autocannon({
    url: post ? `${url}/steps` : `${url}/ping`,
    method: post ? 'POST' : 'GET',
    headers: post ? { 'content-type': 'application/json' } : {},
    body: post ? STEP : undefined,
    connections,
    pipelining: 1,
    duration: seconds,
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '5' },
      connections: { type: 'string', default: '64' },
    },
  });
  const runs = Number(values.runs);
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const results: Record<string, { rps: number[]; p99: number[]; errors: number }> = {};
  for (let run = 1; run <= runs; run++) {
    for (const adapter of ['express', 'fastify'] as const) {
      const { app, url } = await start(adapter);
      for (const post of [false, true]) {
        const key = `${adapter} ${post ? 'POST /steps' : 'GET /ping'}`;
        const result = await load(url, seconds, connections, post);
        const entry = (results[key] ??= { rps: [], p99: [], errors: 0 });
        entry.rps.push(result.requests.average);
        entry.p99.push(result.latency.p99);
        entry.errors += result.errors + result.non2xx;
        process.stderr.write(
          `run ${run}/${runs} ${key}: ${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms\n`,
        );
      }
      await app.close();
    }
  }
  const rows = Object.entries(results).map(([key, entry]) => ({
    case: key,
    rps: Math.round(median(entry.rps)),
    spread: spread(entry.rps),
    p99: median(entry.p99),
    errors: entry.errors,
  }));
  const rateOf = (key: string) => median(results[key]?.rps ?? []);
  const ratio = (method: string) => (rateOf(`fastify ${method}`) / rateOf(`express ${method}`)).toFixed(2);
  const report = [
    `Command: \`npm run bench:http-adapter -- --runs ${runs} --seconds ${seconds} --connections ${connections}\``,
    `Machine: ${machine()}`,
    `Date: ${new Date().toISOString()}`,
    '',
    '| case | req/s (median) | spread (min–max) | p99 ms (median) | errors |',
    '| --- | ---: | --- | ---: | ---: |',
    ...rows.map((r) => `| ${r.case} | ${r.rps} | ${r.spread} | ${r.p99} | ${r.errors} |`),
    '',
    `Fastify / Express: GET ${ratio('GET /ping')}×, POST ${ratio('POST /steps')}×`,
  ].join('\n');
  process.stdout.write(`${report}\n`);
}

await main();

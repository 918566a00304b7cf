/**
 * Which @nestjs/microservices transport should forward steps between instances
 * (docs/scaling.md §3)? The same message handler (it opens a sealed forwarded step and answers
 * sealed) behind TCP, behind Kafka request-reply (against the broker Custodian already runs) and,
 * when a NATS server answers at NATS_URL (default nats://127.0.0.1:4222), behind NATS: one
 * request at a time (latency) and 16 in flight (rate). Runs alternate between the transports so
 * that drift of the machine hits all; medians are reported.
 *
 *   npm run bench:forwarding-transport [-- --runs 3 --requests 300 --seconds 5]
 */
import 'reflect-metadata';
import { Controller, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientKafka,
  ClientProxyFactory,
  type ClientProxy,
  MessagePattern,
  type MicroserviceOptions,
  Payload,
  Transport,
} from '@nestjs/microservices';
import { Kafka, logLevel } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { parseArgs } from 'node:util';
import { firstValueFrom } from 'rxjs';
import { forwardingKey, seal, unseal } from '../src/cluster/forwarding.js';
import { freePort } from './support/app-process.js';
import { machine, median, spread } from './support/report.js';

const KEY = forwardingKey(new Uint8Array(32).fill(9), 'bench');
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const PATTERN = `custodian.bench.forward.${randomBytes(3).toString('hex')}`;
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** Whether something listens where NATS_URL points. */
function natsAnswers(): Promise<boolean> {
  const url = new URL(NATS_URL);
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: url.hostname, port: Number(url.port || 4222) });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A forwarded step as StepRouter sends it: partition, the step as checked, the caller and its key. */
const REQUEST = {
  partition: 0,
  actor: 'operator-17',
  idempotency: { scope: 'operator-17', key: 'order-4711-handover', requestDigest: 'b'.repeat(64) },
  steps: [
    {
      pointer: '',
      occurredAt: '2026-11-26T08:30:00+01:00',
      command: {
        type: 'handover',
        subject: '/01/09506000134352/21/SN-000123',
        from: '9506000134352',
        to: '9506000134369',
        location: '9506000134376',
      },
      evidence: { documentHash: 'a'.repeat(64), url: 'https://example.com/delivery-note/4711.pdf' },
    },
  ],
};

@Controller()
class ForwardedController {
  @MessagePattern(PATTERN)
  record(@Payload() message: unknown): unknown {
    const request = unseal(KEY, message) as typeof REQUEST;
    return seal(KEY, { recorded: [{ eventId: 'e', subject: request.steps[0]?.command.subject }] });
  }
}

@Module({ controllers: [ForwardedController] })
class ForwardedModule {}

type TransportName = 'tcp' | 'kafka' | 'nats';

/** What the benchmark uses of a client: TCP's ClientProxy and ClientKafka differ in their status types. */
type Client = Pick<ClientProxy, 'send' | 'close'>;

async function start(transport: TransportName): Promise<{ server: INestMicroservice; client: Client }> {
  if (transport === 'tcp') {
    const port = await freePort();
    const server = await NestFactory.createMicroservice<MicroserviceOptions>(ForwardedModule, {
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger: false,
    });
    await server.listen();
    const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await client.connect();
    return { server, client };
  }
  if (transport === 'nats') {
    const server = await NestFactory.createMicroservice<MicroserviceOptions>(ForwardedModule, {
      transport: Transport.NATS,
      options: { servers: [NATS_URL] },
      logger: false,
    });
    await server.listen();
    const client = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: [NATS_URL] } });
    await client.connect();
    return { server, client };
  }
  // Kafka request-reply: a request topic and a reply topic (the broker creates none by itself).
  const admin = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const existing = await admin.listTopics();
  const wanted = [PATTERN, `${PATTERN}.reply`].filter((topic) => !existing.includes(topic));
  if (wanted.length > 0) await admin.createTopics({ waitForLeaders: true, topics: wanted.map((topic) => ({ topic })) });
  await admin.disconnect();
  const suffix = randomBytes(3).toString('hex');
  const server = await NestFactory.createMicroservice<MicroserviceOptions>(ForwardedModule, {
    transport: Transport.KAFKA,
    options: {
      client: { brokers: BROKERS, clientId: `bench-forward-server-${suffix}` },
      consumer: { groupId: `bench-forward-server-${suffix}`, maxWaitTimeInMs: 10 },
      subscribe: { fromBeginning: false },
    },
    logger: false,
  });
  await server.listen();
  const client = new ClientKafka({
    client: { brokers: BROKERS, clientId: `bench-forward-client-${suffix}` },
    consumer: { groupId: `bench-forward-client-${suffix}`, maxWaitTimeInMs: 10 },
  });
  client.subscribeToResponseOf(PATTERN);
  await client.connect();
  return { server, client: client as unknown as Client };
}

async function forward(client: Client): Promise<void> {
  const answer = await firstValueFrom(client.send<unknown>(PATTERN, seal(KEY, REQUEST)));
  unseal(KEY, answer);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      requests: { type: 'string', default: '300' },
      seconds: { type: 'string', default: '5' },
    },
  });
  const runs = Number(values.runs);
  const requests = Number(values.requests);
  const seconds = Number(values.seconds);
  const transports: TransportName[] = ['tcp', 'kafka', ...((await natsAnswers()) ? (['nats'] as const) : [])];
  const results: Record<TransportName, { p50: number[]; p99: number[]; rate: number[] }> = {
    tcp: { p50: [], p99: [], rate: [] },
    kafka: { p50: [], p99: [], rate: [] },
    nats: { p50: [], p99: [], rate: [] },
  };
  for (let run = 1; run <= runs; run++) {
    for (const transport of transports) {
      const { server, client } = await start(transport);
      for (let i = 0; i < 20; i++) await forward(client); // warm up
      const latencies: number[] = [];
      for (let i = 0; i < requests; i++) {
        const t0 = performance.now();
        await forward(client);
        latencies.push(performance.now() - t0);
      }
      latencies.sort((a, b) => a - b);
      const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? NaN;
      let done = 0;
      const until = performance.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (performance.now() < until) {
            await forward(client);
            done += 1;
          }
        }),
      );
      const entry = results[transport];
      entry.p50.push(at(50));
      entry.p99.push(at(99));
      entry.rate.push(done / seconds);
      process.stderr.write(
        `run ${run}/${runs} ${transport}: p50 ${at(50).toFixed(2)} ms, p99 ${at(99).toFixed(2)} ms, ${Math.round(done / seconds)} forwards/s at 16 in flight\n`,
      );
      await client.close();
      await server.close();
    }
  }
  const row = (name: TransportName, label: string) => {
    const r = results[name];
    return `| ${label} | ${median(r.p50).toFixed(2)} | ${median(r.p99).toFixed(2)} | ${Math.round(median(r.rate))} | ${spread(r.rate)} |`;
  };
  const report = [
    `Command: \`npm run bench:forwarding-transport -- --runs ${runs} --requests ${requests} --seconds ${seconds}\``,
    `Machine: ${machine()}; Kafka at ${BROKERS.join(',')}`,
    `Date: ${new Date().toISOString()}`,
    '',
    '| transport | one at a time: p50 ms | p99 ms | 16 in flight: forwards/s (median) | spread (min–max) |',
    '| --- | ---: | ---: | ---: | --- |',
    row('tcp', '@nestjs/microservices TCP'),
    row('kafka', '@nestjs/microservices Kafka (request-reply)'),
    ...(transports.includes('nats') ? [row('nats', `@nestjs/microservices NATS (${NATS_URL})`)] : []),
  ].join('\n');
  process.stdout.write(`${report}\n`);
}

await main();
process.exit(0);

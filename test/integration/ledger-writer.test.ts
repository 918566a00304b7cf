import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AppendReceipt } from '../../src/ledger/ledger-record.js';
import { LedgerIntegrityError, WriterFencedError } from '../../src/ledger/ledger-errors.js';
import { testKafkaBrokers, uniqueName } from '../support/environment.js';
import {
  createTopic,
  produceRaw,
  rawValues,
  settled,
  startKafkaLedger,
  testKafka,
  testSigner,
  verifyTopic,
} from '../support/ledger-harness.js';
import { commission, handover as handoverOf, holderModel } from '../support/holder-model.js';
import { ROOT } from '../support/test-stack.mjs';

function handover(entity: string, n: number) {
  return {
    eventId: crypto.randomUUID(),
    eventType: 'custody.handover',
    entityIds: [entity],
    occurredAt: '2026-11-26T08:00:00+01:00',
    actor: 'operator-1',
    payload: { n, note: 'Übergabe an Spedition — 📦' },
  };
}

describe('the ledger writer on a real Kafka broker', () => {
  it('takes 10,000 appends from 50 concurrent callers as one unbroken, verifiable chain', async () => {
    const ledger = await startKafkaLedger();
    const receipts: (AppendReceipt & { eventId: string })[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 50 }, async (_, caller) => {
        for (let i = 0; i < 200; i++) {
          const request = handover(`product-${caller % 10}`, i);
          receipts.push({ eventId: request.eventId, ...(await ledger.writer.append(request)) });
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const stats = ledger.writer.stats();
    await settled(ledger);
    await ledger.writer.close();
    process.stderr.write(
      `[ledger] 10,000 appends, 50 callers: ${Math.round(10_000 / seconds)} appends/s, ${stats.batches} batches, mean batch ${(stats.appends / stats.batches).toFixed(1)}\n`,
    );

    const { problem, records } = await verifyTopic(ledger.kafka, ledger.topic, ledger.ledgerId, ledger.signer);
    expect(problem).toBeNull();
    // Dense sequence from genesis, every record verified.
    expect(records.map((r) => r.record.sequence)).toEqual(records.map((_, i) => i));
    const events = records.filter((r) => r.record.eventType === 'custody.handover');
    expect(events).toHaveLength(10_000);
    expect(new Set(events.map((r) => r.record.eventId)).size).toBe(10_000);
    // Every receipt names its record exactly.
    const byOffset = new Map(records.map((r) => [r.offset, r]));
    for (const receipt of receipts) {
      const stored = byOffset.get(receipt.offset);
      expect(stored?.record.eventId).toBe(receipt.eventId);
      expect(stored?.hash).toBe(receipt.hash);
      expect(stored?.record.sequence).toBe(receipt.sequence);
    }
    expect(new Set(receipts.map((r) => r.sequence)).size).toBe(10_000);
  }, 180_000);

  it('continues the same chain after the writer process is killed with SIGKILL mid-stream', async () => {
    const kafka = testKafka();
    const topic = uniqueName('ledger-crash');
    const ledgerId = uniqueName('crash');
    const signer = testSigner(7);
    await createTopic(kafka, topic);
    const acknowledged: (AppendReceipt & { eventId: string })[] = [];

    const child = spawn(process.execPath, [join(ROOT, 'dist/test/fixtures/append-until-killed.js')], {
      env: {
        PATH: process.env.PATH,
        KAFKA_BROKERS: testKafkaBrokers(),
        LEDGER_TOPIC: topic,
        LEDGER_ID: ledgerId,
        LEDGER_SIGNING_KEY: Buffer.from(new Uint8Array(32).fill(7)).toString('base64'),
        CONCURRENCY: '16',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const killAfter = 300 + Math.floor(Math.random() * 700);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => {
      child.once('exit', (_, signal) => {
        resolve(signal);
      });
    });
    for await (const line of createInterface({ input: child.stdout })) {
      const message = JSON.parse(line) as { started?: boolean } & AppendReceipt & { eventId: string };
      if (message.started) continue;
      acknowledged.push(message);
      if (acknowledged.length === killAfter) child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');

    const restarted = await startKafkaLedger({ kafka, topic, ledgerId, signer });
    const head = restarted.writer.heads()[0]!;
    const next = await restarted.writer.append(handover('product-after-crash', 1));
    await settled(restarted);
    await restarted.writer.close();
    // The new writer continued from the head it read back: the next sequence after it.
    expect(next.sequence).toBe(head.nextSequence);

    const { problem, records } = await verifyTopic(kafka, topic, ledgerId, signer);
    expect(problem).toBeNull();
    const byEventId = new Map<string, number>();
    for (const r of records) byEventId.set(r.record.eventId, (byEventId.get(r.record.eventId) ?? 0) + 1);
    for (const receipt of acknowledged) {
      expect(byEventId.get(receipt.eventId)).toBe(1);
      expect(records[receipt.sequence]?.hash).toBe(receipt.hash);
    }
    expect(records.at(-2)?.record.eventId).toBe(records.find((r) => r.hash === next.hash)?.record.eventId);
    process.stderr.write(
      `[ledger] killed after ${acknowledged.length} acknowledged appends; ${records.length} records verify after restart\n`,
    );
  }, 180_000);

  it('fences the first writer when a second one starts on the same partition, leaving no fork', async () => {
    const first = await startKafkaLedger();
    await Promise.all(Array.from({ length: 20 }, (_, i) => first.writer.append(handover('product-a', i))));

    const second = await startKafkaLedger({
      topic: first.topic,
      ledgerId: first.ledgerId,
      signer: first.signer,
      kafka: testKafka('custodian-test-2'),
    });
    const attempt = first.writer.append(handover('product-a', 99));
    await expect(attempt).rejects.toBeInstanceOf(WriterFencedError);
    await expect(attempt).rejects.toThrow(/another writer took over/);
    expect(first.writer.statuses()).toEqual(['fenced']);
    await expect(first.writer.append(handover('product-a', 100))).rejects.toThrow(/another writer took over/);
    expect(first.writer.describe()[0]?.reason).toMatch(/another writer took over/);

    const continued = await second.writer.append(handover('product-a', 21));
    await settled(second);
    await Promise.all([first.writer.close(), second.writer.close()]);
    const { problem, records } = await verifyTopic(first.kafka, first.topic, first.ledgerId, first.signer);
    expect(problem).toBeNull();
    expect(records.at(-2)?.hash).toBe(continued.hash);
    expect(records.filter((r) => r.record.payload.n === 99)).toEqual([]);
  }, 120_000);

  it('takes the partition back once the writer that fenced it has stopped, and continues its chain', async () => {
    const reclaimDelayMs = { initial: 200, max: 400 };
    const first = await startKafkaLedger({ reclaimDelayMs });
    await first.writer.append(handover('product-a', 1));
    const second = await startKafkaLedger({
      topic: first.topic,
      ledgerId: first.ledgerId,
      signer: first.signer,
      kafka: testKafka('custodian-test-2'),
    });
    await expect(first.writer.append(handover('product-a', 2))).rejects.toBeInstanceOf(WriterFencedError);
    const last = await second.writer.append(handover('product-a', 3));
    await second.writer.close();

    const deadline = Date.now() + 30_000;
    while (first.writer.statuses()[0] !== 'open' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(first.writer.statuses()).toEqual(['open']);
    const resumed = await first.writer.append(handover('product-a', 4));
    expect(resumed.sequence).toBe(last.sequence + 2);
    await settled(first);
    await first.writer.close();
    const { problem, records } = await verifyTopic(first.kafka, first.topic, first.ledgerId, first.signer);
    expect(problem).toBeNull();
    expect(records.filter((r) => r.record.eventType === 'custody.handover').map((r) => r.record.payload.n)).toEqual([1, 3, 4]);
  }, 120_000);
});

describe('a writer whose partition changed behind its back', () => {
  it('refuses to extend the chain after a record was appended from outside, and commits nothing', async () => {
    const ledger = await startKafkaLedger();
    await ledger.writer.append(handover('product-a', 1));
    await settled(ledger);
    // A well-formed record of this ledger, by someone who may produce to the topic but has not
    // the writer's key: the writer's next batch would have covered it with its checkpoint.
    const values = await rawValues(ledger.kafka, ledger.topic);
    await produceRaw(ledger.kafka, ledger.topic, [values[2]!]);
    const before = (await rawValues(ledger.kafka, ledger.topic)).length;

    const attempt = ledger.writer.append(handover('product-a', 2));
    await expect(attempt).rejects.toBeInstanceOf(LedgerIntegrityError);
    await expect(attempt).rejects.toThrow(
      /holds records this writer did not write: its next records were to go at offset \d+, Kafka placed them at \d+/,
    );
    expect(ledger.writer.describe()).toEqual([
      { partition: 0, state: 'failed', reason: expect.stringMatching(/holds records this writer did not write/) as unknown },
    ]);
    await expect(ledger.writer.append(handover('product-a', 3))).rejects.toBeInstanceOf(LedgerIntegrityError);
    await ledger.writer.close();
    // Nothing of the refused batch is readable (it was aborted), and the chain breaks exactly
    // at the outsider's record, not later.
    expect(await rawValues(ledger.kafka, ledger.topic)).toHaveLength(before);
    const { problem } = await verifyTopic(ledger.kafka, ledger.topic, ledger.ledgerId, ledger.signer);
    expect(problem).toMatchObject({ kind: 'duplicate' });
  }, 60_000);

  it('refuses to extend the chain after records were deleted from the start of the partition', async () => {
    const ledger = await startKafkaLedger();
    await ledger.writer.append(handover('product-a', 1));
    await settled(ledger);
    const admin = ledger.kafka.admin();
    await admin.connect();
    try {
      await admin.fetchTopicMetadata({ topics: [ledger.topic] });
      await admin.deleteTopicRecords({ topic: ledger.topic, partitions: [{ partition: 0, offset: '1' }] });
    } finally {
      await admin.disconnect();
    }
    const attempt = ledger.writer.append(handover('product-a', 2));
    await expect(attempt).rejects.toBeInstanceOf(LedgerIntegrityError);
    await expect(attempt).rejects.toThrow(/records were deleted from the start of .*its log now starts at offset 1/);
    expect(ledger.writer.statuses()).toEqual(['failed']);
    await ledger.writer.close();
  }, 60_000);
});

describe('preconditions on a real Kafka broker', () => {
  it('lets exactly one of 20 concurrent handovers of the same product from the same holder through', async () => {
    const ledger = await startKafkaLedger({ stateModel: holderModel });
    await ledger.writer.append(commission('urn:product:1', 'maker'));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => ledger.writer.append(handoverOf('urn:product:1', 'maker', `carrier-${i}`))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await settled(ledger);
    await ledger.writer.close();
    const { problem, records } = await verifyTopic(ledger.kafka, ledger.topic, ledger.ledgerId, ledger.signer);
    expect(problem).toBeNull();
    expect(records.filter((r) => r.record.eventType === 'custody.handover')).toHaveLength(1);
  });
});

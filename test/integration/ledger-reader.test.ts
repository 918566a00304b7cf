import { describe, expect, it } from '@jest/globals';
import { ChainBrokenError, readVerifiedPartition } from '../../src/ledger/adapters/kafka-ledger-reader.js';
import { createKafkaLedgerWriter } from '../../src/ledger/adapters/kafka-ledger-writer.js';
import type { ChainHead } from '../../src/ledger/chain-verifier.js';
import { CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import type { StoredRecord } from '../../src/ledger/ledger-record.js';
import { uniqueName } from '../support/environment.js';
import { createTopic, produceRaw, settled, startKafkaLedger, testKafka, testSigner } from '../support/ledger-harness.js';
import { MemoryGenesisPins } from '../support/memory-ledger.js';

const step = (entity: string, n: number) => ({
  eventId: crypto.randomUUID(),
  eventType: 'custody.inspect',
  entityIds: [entity],
  occurredAt: '2026-11-26T12:00:00Z',
  actor: 'inspector-9',
  payload: { n, result: 'passed' },
});

async function collect(
  generator: AsyncGenerator<StoredRecord, ChainHead>,
): Promise<{ records: StoredRecord[]; head: ChainHead }> {
  const records: StoredRecord[] = [];
  for (;;) {
    const next = await generator.next();
    if (next.done) return { records, head: next.value };
    records.push(next.value);
  }
}

describe('the verified ledger reader on a real broker', () => {
  it('reads verified records up to the end, then continues from the head it returned', async () => {
    const ledger = await startKafkaLedger();
    await Promise.all(Array.from({ length: 30 }, (_, i) => ledger.writer.append(step(`p${i % 4}`, i))));
    await settled(ledger);
    const options = {
      ledgerId: ledger.ledgerId,
      partition: 0,
      verifier: new CheckpointVerifier(ledger.signer.keyName, ledger.signer.publicKey),
    };
    const first = await collect(readVerifiedPartition(ledger.kafka, ledger.topic, options));
    expect(first.records.map((r) => r.record.sequence)).toEqual(first.records.map((_, i) => i));

    const later = await Promise.all(Array.from({ length: 12 }, (_, i) => ledger.writer.append(step(`p${i % 4}`, 100 + i))));
    await settled(ledger);
    const second = await collect(readVerifiedPartition(ledger.kafka, ledger.topic, { ...options, from: first.head }));
    expect(second.records[0]?.record.sequence).toBe(first.head.nextSequence);
    const events = second.records.filter((r) => r.record.eventType === 'custody.inspect');
    expect(events.map((r) => r.hash).sort()).toEqual(later.map((r) => r.hash).sort());
    expect(second.head.nextSequence).toBe(first.head.nextSequence + second.records.length);

    // A record an outsider appends after the head breaks the continued read, at its offset.
    const admin = ledger.kafka.admin();
    await admin.connect();
    const at = (await admin.fetchTopicOffsets(ledger.topic))[0]!.offset;
    await admin.disconnect();
    await produceRaw(ledger.kafka, ledger.topic, [new TextEncoder().encode('{"not":"a record"}')]);
    await ledger.writer.close();
    const broken = collect(readVerifiedPartition(ledger.kafka, ledger.topic, { ...options, from: second.head }));
    await expect(broken).rejects.toBeInstanceOf(ChainBrokenError);
    await expect(
      collect(readVerifiedPartition(ledger.kafka, ledger.topic, { ...options, from: second.head })),
    ).rejects.toMatchObject({
      problem: { kind: 'malformed', partition: 0, offset: at },
    });
  });

  it('keeps three partitions as three chains on one topic', async () => {
    const kafka = testKafka();
    const topic = uniqueName('ledger-3p');
    const ledgerId = uniqueName('three');
    const signer = testSigner(9);
    await createTopic(kafka, topic, 3);
    const writer = createKafkaLedgerWriter({ kafka, topic, ledgerId, partitions: 3, signer, pins: new MemoryGenesisPins() });
    await writer.start();
    const receipts = await Promise.all(Array.from({ length: 60 }, (_, i) => writer.append(step(`product-${i % 12}`, i))));
    const ends = writer.partitionStats().map((s) => BigInt(s.committedEnd ?? '0'));
    const admin = kafka.admin();
    await admin.connect();
    for (let stable = false; !stable;) {
      const offsets = await admin.fetchTopicOffsets(topic);
      stable = offsets.every((o) => BigInt(o.offset) >= (ends[o.partition] ?? 0n));
    }
    await admin.disconnect();
    await writer.close();

    const verifier = new CheckpointVerifier(signer.keyName, signer.publicKey);
    for (const partition of [0, 1, 2]) {
      const { records } = await collect(readVerifiedPartition(kafka, topic, { ledgerId, partition, verifier }));
      expect(records[0]?.record).toMatchObject({ eventType: 'ledger.genesis', partition, sequence: 0 });
      const mine = receipts.filter((r) => r.partition === partition);
      expect(mine.length).toBeGreaterThan(0);
      expect(
        records
          .filter((r) => r.record.eventType === 'custody.inspect')
          .map((r) => r.hash)
          .sort(),
      ).toEqual(mine.map((r) => r.hash).sort());
    }
  });
});

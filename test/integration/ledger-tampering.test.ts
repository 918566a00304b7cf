import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Kafka } from 'kafkajs';
import { canonicalBytes } from '../../src/ledger/canonical-json.js';
import { LedgerIntegrityError } from '../../src/ledger/ledger-errors.js';
import type { LedgerRecord } from '../../src/ledger/ledger-record.js';
import { decodeRecord, encodeRecord } from '../../src/ledger/record-codec.js';
import { uniqueName } from '../support/environment.js';
import { writerIdle } from '../support/memory-ledger.js';
import {
  createTopic,
  type KafkaLedger,
  produceRaw,
  rawValues,
  settled,
  startKafkaLedger,
  verifyTopic,
} from '../support/ledger-harness.js';

/*
 * Kafka cannot change a record in place, so each tampering is a copy of a real ledger into a
 * second topic with one change, written by a plain producer as an outsider would; the reader
 * must name the exact place.
 */
describe('the ledger reader on tampered copies of a real ledger', () => {
  let ledger: KafkaLedger;
  let kafka: Kafka;
  let original: Uint8Array[];
  const record = (i: number): LedgerRecord => decodeRecord(original[i]!).record;

  beforeAll(async () => {
    ledger = await startKafkaLedger();
    kafka = ledger.kafka;
    // Batches: genesis+cp (0,1) | 1 + cp (2,3) | 3 + cp (4-7) | 1 + cp (8,9) | 3 + cp (10-13)
    for (const group of [
      ['p1', 'p2', 'p1', 'p3'],
      ['p2', 'p3', 'p1', 'p2'],
    ]) {
      await Promise.all(
        group.map((entity, n) =>
          ledger.writer.append({
            eventId: crypto.randomUUID(),
            eventType: 'custody.receive',
            entityIds: [entity],
            occurredAt: '2026-11-26T08:00:00Z',
            actor: 'dock-3',
            payload: { n, quantity: -12.5, big: 1e21, text: 'Lieferschein Nr. 4711 ✓' },
          }),
        ),
      );
      // The next group starts a batch of its own, its first append alone.
      await writerIdle();
    }
    await settled(ledger);
    await ledger.writer.close();
    original = await rawValues(kafka, ledger.topic);
  }, 120_000);

  async function copyWith(values: Uint8Array[]): Promise<ReturnType<typeof verifyTopic>> {
    const topic = uniqueName('ledger-tampered');
    await createTopic(kafka, topic);
    await produceRaw(kafka, topic, values);
    return verifyTopic(kafka, topic, ledger.ledgerId, ledger.signer);
  }

  it('verifies an untouched copy, so every finding below is the tampering', async () => {
    expect(original).toHaveLength(14);
    const { problem, records } = await copyWith([...original]);
    expect(problem).toBeNull();
    expect(records).toHaveLength(14);
  });

  it('names a modified payload at its offset, with the hash the chain expects and the one found', async () => {
    const values = [...original];
    const changed = encodeRecord({ ...record(5), payload: { ...record(5).payload, quantity: 1200 } });
    values[5] = changed.bytes;
    const { problem } = await copyWith(values);
    expect(problem).toMatchObject({
      kind: 'modified',
      partition: 0,
      offset: '5',
      sequence: 5,
      expected: decodeRecord(original[5]!).hash,
      found: changed.hash,
    });
  });

  it('names a record missing from the middle', async () => {
    const values = [...original];
    values.splice(5, 1);
    expect((await copyWith(values)).problem).toMatchObject({
      kind: 'missing',
      offset: '5',
      sequence: 6,
      expected: decodeRecord(original[5]!).hash,
    });
  });

  it('names a duplicated record at the copy', async () => {
    const values = [...original];
    values.splice(6, 0, original[5]!);
    expect((await copyWith(values)).problem).toMatchObject({ kind: 'duplicate', offset: '6', sequence: 5 });
  });

  it('names records out of order', async () => {
    const values = [...original];
    [values[4], values[5]] = [values[5]!, values[4]!];
    expect((await copyWith(values)).problem).toMatchObject({ kind: 'out-of-order', offset: '4', sequence: 5 });
  });

  it('names a checkpoint whose signature does not verify', async () => {
    const values = [...original];
    const checkpoint = record(7);
    values[7] = canonicalBytes({ ...checkpoint, payload: { ...checkpoint.payload, rootHash: '0'.repeat(64) } });
    expect((await copyWith(values)).problem).toMatchObject({ kind: 'checkpoint', offset: '7', sequence: 7 });
  });

  it('names a record a plain producer put straight into the live topic with a correct-looking previous hash, which the writer refuses to cover', async () => {
    const live = await startKafkaLedger();
    await live.writer.append({
      eventId: crypto.randomUUID(),
      eventType: 'custody.receive',
      entityIds: ['p1'],
      occurredAt: '2026-11-26T08:00:00Z',
      actor: 'dock-3',
      payload: {},
    });
    await settled(live);
    const [, , recordBefore, checkpointBefore] = await rawValues(live.kafka, live.topic);
    const head = decodeRecord(checkpointBefore!);
    const forged = encodeRecord({
      ...decodeRecord(recordBefore!).record,
      eventId: crypto.randomUUID(),
      sequence: head.record.sequence + 1,
      previousHash: head.hash,
      entities: [{ id: 'p1', previousHash: decodeRecord(recordBefore!).hash }],
      payload: { forged: true },
    });
    await produceRaw(live.kafka, live.topic, [forged.bytes]);
    // The writer's next batch would cover the forged record with its checkpoint: it refuses.
    const next = live.writer.append({
      eventId: crypto.randomUUID(),
      eventType: 'custody.receive',
      entityIds: ['p1'],
      occurredAt: '2026-11-26T08:01:00Z',
      actor: 'dock-3',
      payload: {},
    });
    await expect(next).rejects.toBeInstanceOf(LedgerIntegrityError);
    await live.writer.close();
    const { problem } = await verifyTopic(live.kafka, live.topic, live.ledgerId, live.signer);
    // Offsets 0-5: genesis, cp and the first batch, each transaction followed by its commit
    // marker; the forged record lands at 6, right after the second transaction's marker, and no
    // signed checkpoint covers it.
    expect(problem).toMatchObject({ kind: 'uncovered', partition: 0, offset: '6', sequence: 4 });
    const raw = await rawValues(live.kafka, live.topic);
    expect(raw.findIndex((value) => Buffer.from(value).equals(Buffer.from(forged.bytes)))).toBe(4);
  }, 60_000);
});

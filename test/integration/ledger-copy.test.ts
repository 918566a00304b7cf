import { describe, expect, it } from '@jest/globals';
import { copyVerifiedLedger } from '../../src/ledger/adapters/kafka-ledger-copy.js';
import { CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import { LedgerIntegrityError } from '../../src/ledger/ledger-errors.js';
import { uniqueName } from '../support/environment.js';
import { createTopic, produceRaw, rawValues, settled, startKafkaLedger, verifyTopic } from '../support/ledger-harness.js';
import { MemoryGenesisPins } from '../support/memory-ledger.js';

const step = (n: number) => ({
  eventId: crypto.randomUUID(),
  eventType: 'custody.handover',
  entityIds: [`product-${n % 3}`],
  occurredAt: '2026-11-26T08:00:00Z',
  actor: 'dock-3',
  payload: { n },
});

describe('copying the verified chain of a ledger that no longer verifies', () => {
  it('copies every verified record byte for byte up to the break, and a writer goes on on the copy with the same genesis pin', async () => {
    const pins = new MemoryGenesisPins();
    const broken = await startKafkaLedger({ pins });
    for (let n = 0; n < 12; n++) await broken.writer.append(step(n));
    await settled(broken);
    const honest = await verifyTopic(broken.kafka, broken.topic, broken.ledgerId, broken.signer);
    expect(honest.problem).toBeNull();
    // Someone who can produce to the topic appends a copy of a record: the writer stops.
    await produceRaw(broken.kafka, broken.topic, [(await rawValues(broken.kafka, broken.topic))[2]!]);
    await expect(broken.writer.append(step(99))).rejects.toBeInstanceOf(LedgerIntegrityError);
    await broken.writer.close();

    const to = uniqueName('ledger-copy');
    await createTopic(broken.kafka, to);
    const copies = await copyVerifiedLedger(broken.kafka, {
      from: broken.topic,
      to,
      ledgerId: broken.ledgerId,
      partitions: 1,
      verifier: new CheckpointVerifier(broken.signer.keyName, broken.signer.publicKey),
      genesisPin: (partition) => pins.get(broken.ledgerId, partition),
      chunk: 5,
    });
    expect(copies).toEqual([
      { partition: 0, copied: honest.records.length, problem: expect.objectContaining({ kind: 'duplicate' }) as unknown },
    ]);

    const copy = await verifyTopic(broken.kafka, to, broken.ledgerId, broken.signer);
    expect(copy.problem).toBeNull();
    expect(copy.records.map((r) => r.hash)).toEqual(honest.records.map((r) => r.hash));

    // The same ledger: the pinned genesis holds, and its writer continues the chain.
    const resumed = await startKafkaLedger({ topic: to, ledgerId: broken.ledgerId, signer: broken.signer, pins });
    expect(resumed.writer.statuses()).toEqual(['open']);
    const next = await resumed.writer.append(step(100));
    expect(next.sequence).toBe(honest.records.length);
    await settled(resumed);
    await resumed.writer.close();
    expect((await verifyTopic(broken.kafka, to, broken.ledgerId, broken.signer)).problem).toBeNull();
  }, 60_000);
});

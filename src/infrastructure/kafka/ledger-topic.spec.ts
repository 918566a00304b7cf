import { describe, expect, it } from '@jest/globals';
import { LEDGER_TOPIC_MESSAGE_BYTES, ledgerTopicConfig, ledgerTopicProblems } from './ledger-topic.js';

const spec = { topic: 'custodian.ledger', partitions: 1, replicationFactor: 1, maxBatchBytes: 2_000_000 };
const good = { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1', 'max.message.bytes': '4194304' };

describe('ledgerTopicProblems', () => {
  it('accepts infinite retention without compaction', () => {
    expect(ledgerTopicProblems(spec, { partitions: 1, config: good })).toEqual([]);
  });

  it('refuses compaction, also combined with delete', () => {
    const problems = ledgerTopicProblems(spec, { partitions: 1, config: { ...good, 'cleanup.policy': 'compact,delete' } });
    expect(problems).toEqual([expect.stringMatching(/^cleanup.policy=compact,delete: compaction deletes/)]);
  });

  it('refuses finite time and size retention, naming the value found', () => {
    const problems = ledgerTopicProblems(spec, {
      partitions: 1,
      config: { ...good, 'retention.ms': '604800000', 'retention.bytes': '1073741824' },
    });
    expect(problems).toEqual([
      expect.stringMatching(/^retention.ms=604800000: /),
      expect.stringMatching(/^retention.bytes=1073741824: /),
    ]);
  });

  it('refuses a topic whose max.message.bytes is below the largest transaction, saying how to raise it', () => {
    // Kafka's own default: a topic created without Custodian, or by an earlier version of it.
    const problems = ledgerTopicProblems(spec, { partitions: 1, config: { ...good, 'max.message.bytes': '1048588' } });
    expect(problems).toEqual([
      expect.stringMatching(
        /^max.message.bytes=1048588: Kafka would refuse a transaction of LEDGER_MAX_BATCH_BYTES=2000000, .*--add-config max.message.bytes=4194304\) or lower LEDGER_MAX_BATCH_BYTES$/,
      ),
    ]);
    expect(
      ledgerTopicProblems(
        { ...spec, maxBatchBytes: 1_000_000 },
        { partitions: 1, config: { ...good, 'max.message.bytes': '1048588' } },
      ),
    ).toEqual([]);
  });

  it('refuses a partition count other than the configured one', () => {
    expect(ledgerTopicProblems(spec, { partitions: 3, config: good })).toEqual([
      expect.stringMatching(/has 3 partition\(s\) but LEDGER_PARTITIONS=1/),
    ]);
  });
});

describe('ledgerTopicConfig', () => {
  it('keeps records forever and asks for two in-sync replicas where there can be two', () => {
    expect(ledgerTopicConfig(1, 2_000_000)).toMatchObject({ 'retention.ms': '-1', 'min.insync.replicas': '1' });
    expect(ledgerTopicConfig(3, 2_000_000)).toMatchObject({ 'cleanup.policy': 'delete', 'min.insync.replicas': '2' });
  });

  it('takes a transaction of LEDGER_MAX_BATCH_BYTES, with room to raise it', () => {
    expect(ledgerTopicConfig(1, 2_000_000)['max.message.bytes']).toBe(String(LEDGER_TOPIC_MESSAGE_BYTES));
    expect(ledgerTopicConfig(1, 10_000_000)['max.message.bytes']).toBe('10000000');
    const created = { partitions: 1, config: ledgerTopicConfig(1, 10_000_000) };
    expect(ledgerTopicProblems({ ...spec, maxBatchBytes: 10_000_000 }, created)).toEqual([]);
  });
});

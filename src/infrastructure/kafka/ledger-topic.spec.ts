import { describe, expect, it } from '@jest/globals';
import { ledgerTopicConfig, ledgerTopicProblems } from './ledger-topic.js';

const spec = { topic: 'custodian.ledger', partitions: 1, replicationFactor: 1 };
const good = { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' };

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

  it('refuses a partition count other than the configured one', () => {
    expect(ledgerTopicProblems(spec, { partitions: 3, config: good })).toEqual([
      expect.stringMatching(/has 3 partition\(s\) but LEDGER_PARTITIONS=1/),
    ]);
  });
});

describe('ledgerTopicConfig', () => {
  it('keeps records forever and asks for two in-sync replicas where there can be two', () => {
    expect(ledgerTopicConfig(1)).toMatchObject({ 'retention.ms': '-1', 'min.insync.replicas': '1' });
    expect(ledgerTopicConfig(3)).toMatchObject({ 'cleanup.policy': 'delete', 'min.insync.replicas': '2' });
  });
});

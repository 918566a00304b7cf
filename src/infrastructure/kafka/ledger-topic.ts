import kafkajs, { type Admin } from 'kafkajs';

const { ConfigResourceTypes } = kafkajs;

export interface LedgerTopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** The largest transaction the writers send (LEDGER_MAX_BATCH_BYTES): one Kafka record batch. */
  readonly maxBatchBytes: number;
}

/**
 * max.message.bytes of a ledger topic Custodian creates: the largest record batch Kafka takes,
 * and a writer's transaction is one batch. Above Kafka's default (1 MiB), so that a batch capture
 * of CUSTODY_MAX_BATCH_STEPS steps fits, with room to raise LEDGER_MAX_BATCH_BYTES later without
 * altering the topic; LEDGER_MAX_BATCH_BYTES itself when that is larger.
 */
export const LEDGER_TOPIC_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * The ledger topic exists with a configuration that could lose or rewrite history, or that
 * Custodian's own limits do not fit. Starting on it would silently break the promise that
 * nothing acknowledged is ever lost, or refuse steps the API documents as accepted.
 */
export class LedgerTopicMisconfiguredError extends Error {
  override name = 'LedgerTopicMisconfiguredError';

  constructor(
    readonly topic: string,
    readonly problems: readonly string[],
  ) {
    super(`Refusing to use ledger topic "${topic}":\n  - ${problems.join('\n  - ')}`);
  }
}

/** Topic configuration a ledger needs: keep every record forever, never compact, take a whole transaction. */
export function ledgerTopicConfig(replicationFactor: number, maxBatchBytes: number): Record<string, string> {
  return {
    'cleanup.policy': 'delete',
    'retention.ms': '-1',
    'retention.bytes': '-1',
    'min.insync.replicas': String(Math.min(2, replicationFactor)),
    'unclean.leader.election.enable': 'false',
    'max.message.bytes': String(Math.max(LEDGER_TOPIC_MESSAGE_BYTES, maxBatchBytes)),
  };
}

const CHECKED = ['cleanup.policy', 'retention.ms', 'retention.bytes', 'max.message.bytes'] as const;

/** What is wrong with an existing topic's configuration, in words an operator can act on. */
export function ledgerTopicProblems(
  spec: LedgerTopicSpec,
  actual: { partitions: number; config: Readonly<Record<string, string | undefined>> },
): string[] {
  const problems: string[] = [];
  const policy = actual.config['cleanup.policy'] ?? '';
  if (policy.split(',').includes('compact')) {
    problems.push(`cleanup.policy=${policy}: compaction deletes superseded records; the ledger needs cleanup.policy=delete`);
  }
  const retentionMs = actual.config['retention.ms'];
  if (retentionMs !== '-1') {
    problems.push(`retention.ms=${retentionMs}: records older than that would be deleted; the ledger needs retention.ms=-1`);
  }
  const retentionBytes = actual.config['retention.bytes'];
  if (retentionBytes !== '-1') {
    problems.push(
      `retention.bytes=${retentionBytes}: old segments would be deleted past that size; the ledger needs retention.bytes=-1`,
    );
  }
  const maxMessageBytes = Number(actual.config['max.message.bytes']);
  if (maxMessageBytes < spec.maxBatchBytes) {
    problems.push(
      `max.message.bytes=${maxMessageBytes}: Kafka would refuse a transaction of LEDGER_MAX_BATCH_BYTES=${spec.maxBatchBytes}, ` +
        `which the writers may send; raise it (kafka-configs.sh --alter --entity-type topics --entity-name ${spec.topic} ` +
        `--add-config max.message.bytes=${Math.max(LEDGER_TOPIC_MESSAGE_BYTES, spec.maxBatchBytes)}) or lower LEDGER_MAX_BATCH_BYTES`,
    );
  }
  if (actual.partitions !== spec.partitions) {
    problems.push(
      `the topic has ${actual.partitions} partition(s) but LEDGER_PARTITIONS=${spec.partitions}: each partition is its own chain, so the count must match`,
    );
  }
  return problems;
}

/**
 * Creates the ledger topic with the configuration it needs, or checks an existing one and
 * throws LedgerTopicMisconfiguredError when it could lose history or refuse the writers'
 * transactions. Returns whether it created.
 */
export async function ensureLedgerTopic(admin: Admin, spec: LedgerTopicSpec): Promise<boolean> {
  const existing = await admin.listTopics();
  if (!existing.includes(spec.topic)) {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: spec.topic,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor,
          configEntries: Object.entries(ledgerTopicConfig(spec.replicationFactor, spec.maxBatchBytes)).map(([name, value]) => ({
            name,
            value,
          })),
        },
      ],
    });
    // false: another instance created it between listTopics and createTopics; check it below.
    if (created) return true;
  }
  const [metadata, described] = await Promise.all([
    admin.fetchTopicMetadata({ topics: [spec.topic] }),
    admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: spec.topic, configNames: [...CHECKED] }],
    }),
  ]);
  const config = Object.fromEntries(
    (described.resources[0]?.configEntries ?? []).map((entry) => [entry.configName, entry.configValue]),
  );
  const partitions = metadata.topics[0]?.partitions.length ?? 0;
  const problems = ledgerTopicProblems(spec, { partitions, config });
  if (problems.length > 0) throw new LedgerTopicMisconfiguredError(spec.topic, problems);
  return false;
}

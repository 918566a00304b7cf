import kafkajs, { type Kafka } from 'kafkajs';
import type { ChainBreak } from '../chain-verifier.js';
import type { CheckpointVerifier } from '../checkpoint-note.js';
import type { Hash } from '../hashing.js';
import { encodeRecord } from '../record-codec.js';
import { ChainBrokenError, readVerifiedPartition } from './kafka-ledger-reader.js';

const { Partitioners } = kafkajs;

export interface LedgerCopyOptions {
  readonly from: string;
  readonly to: string;
  readonly ledgerId: string;
  readonly partitions: number;
  readonly verifier: CheckpointVerifier;
  readonly genesisPin: (partition: number) => Promise<Hash | null>;
  /** Records per produce request. */
  readonly chunk?: number;
}

export interface PartitionCopy {
  readonly partition: number;
  /** Verified records copied, byte for byte, in order: the signed chain up to its last checkpoint before any break. */
  readonly copied: number;
  /** Where the source stops verifying, or null when all of it verified. */
  readonly problem: ChainBreak | null;
}

/**
 * Copies the verified chain of every partition of a ledger topic into another topic (created by
 * the caller with the ledger's configuration): each record's bytes as they are, in order, up to
 * the last checkpoint before the first break (docs/RELIABILITY.md, "A ledger that no longer
 * verifies"). The copy is the same ledger: same records, hashes, genesis, checkpoints and
 * Merkle roots, so the genesis pin and the witness still hold; only the Kafka offsets differ.
 */
export async function copyVerifiedLedger(kafka: Kafka, options: LedgerCopyOptions): Promise<PartitionCopy[]> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const copies: PartitionCopy[] = [];
  try {
    for (let partition = 0; partition < options.partitions; partition++) {
      const pin = await options.genesisPin(partition);
      let pending: Buffer[] = [];
      let copied = 0;
      let problem: ChainBreak | null = null;
      const flush = async () => {
        if (pending.length === 0) return;
        await producer.send({
          topic: options.to,
          acks: -1,
          messages: pending.map((value) => ({ partition, value })),
        });
        copied += pending.length;
        pending = [];
      };
      try {
        for await (const stored of readVerifiedPartition(kafka, options.from, {
          ledgerId: options.ledgerId,
          partition,
          verifier: options.verifier,
          ...(pin ? { genesisHash: pin } : {}),
        })) {
          pending.push(Buffer.from(encodeRecord(stored.record).bytes));
          if (pending.length >= (options.chunk ?? 500)) await flush();
        }
      } catch (error) {
        if (!(error instanceof ChainBrokenError)) throw error;
        problem = error.problem;
      }
      await flush();
      copies.push({ partition, copied, problem });
    }
  } finally {
    await producer.disconnect();
  }
  return copies;
}

import type { Kafka } from 'kafkajs';
import { type ChainBreak, type ChainHead, ChainVerifier } from '../chain-verifier.js';
import type { CheckpointVerifier } from '../checkpoint-note.js';
import type { Hash } from '../hashing.js';
import { LedgerIntegrityError } from '../ledger-errors.js';
import type { StoredRecord } from '../ledger-record.js';
import { readPartition } from './kafka-partition-reader.js';

/** The partition stops verifying at `problem`: nothing from there on is part of the ledger. */
export class ChainBrokenError extends LedgerIntegrityError {
  override name = 'ChainBrokenError';

  constructor(readonly problem: ChainBreak) {
    const entity = problem.entityId ? `, entity ${problem.entityId}` : '';
    const diff = problem.expected !== undefined ? ` (expected ${problem.expected}, found ${problem.found ?? '?'})` : '';
    super(
      `${problem.kind} at partition ${problem.partition}, offset ${problem.offset}, sequence ${problem.sequence ?? '?'}${entity}: ${problem.message}${diff}`,
    );
  }
}

export interface VerifiedReadOptions {
  readonly ledgerId: string;
  readonly partition: number;
  readonly verifier: CheckpointVerifier;
  readonly genesisHash?: Hash;
  /** A head verified before: reading continues after it instead of from genesis. */
  readonly from?: ChainHead;
}

/**
 * The ledger reader: yields a partition's records in order, each one verified (docs/
 * ledger-format.md, "Verification") and released only with the signed checkpoint that covers
 * it, up to the partition's current end. Throws ChainBrokenError at the first break. Returns
 * the verified head, from which a later read can continue.
 */
export async function* readVerifiedPartition(
  kafka: Kafka,
  topic: string,
  options: VerifiedReadOptions,
): AsyncGenerator<StoredRecord, ChainHead> {
  const verifier = new ChainVerifier({
    ledgerId: options.ledgerId,
    partition: options.partition,
    verifier: options.verifier,
    genesisHash: options.genesisHash,
    resumeFrom: options.from,
  });
  for await (const entry of readPartition(kafka, topic, options.partition, { fromOffset: options.from?.nextOffset ?? '0' })) {
    const result = verifier.push(entry.offset, entry.value);
    if ('break' in result) throw new ChainBrokenError(result.break);
    yield* result.verified;
  }
  const end = verifier.end();
  if (end) throw new ChainBrokenError(end);
  return verifier.head();
}

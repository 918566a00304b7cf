import { type ChainBreak, type ChainHead, ChainVerifier } from './chain-verifier.js';
import { type CheckpointSigner, CheckpointVerifier } from './checkpoint-note.js';
import type { Hash } from './hashing.js';
import { IdempotencyIndex } from './idempotency-index.js';
import { LedgerIntegrityError } from './ledger-errors.js';
import type { EntityStateModel, StoredRecord } from './ledger-record.js';
import type { PartitionLog } from './ports.js';

export interface PartitionRecoveryOptions {
  readonly ledgerId: string;
  readonly partition: number;
  /** Signs the writer's checkpoints; recovery checks the partition's with its public key. */
  readonly signer: CheckpointSigner;
  readonly log: PartitionLog;
  /** How entity state follows from records, for preconditions; none keeps no state. */
  readonly stateModel?: EntityStateModel;
}

/** What a writer continues from: all of it rebuilt from the verified partition, never from PostgreSQL. */
export interface RecoveredPartition {
  readonly head: ChainHead;
  /** Each entity's state after its last record, by the state model. */
  readonly states: Map<string, unknown>;
  readonly index: IdempotencyIndex;
  /** The offsets of the watched records found in the partition, by hash. */
  readonly found: ReadonlyMap<Hash, string>;
}

export function describeBreak(problem: ChainBreak): string {
  const where = `partition ${problem.partition}, offset ${problem.offset}, sequence ${problem.sequence ?? '?'}`;
  const entity = problem.entityId ? `, entity ${problem.entityId}` : '';
  const diff = problem.expected !== undefined ? ` (expected ${problem.expected}, found ${problem.found ?? '?'})` : '';
  return `${problem.kind} at ${where}${entity}: ${problem.message}${diff}`;
}

/**
 * Reads the partition back and verifies it (docs/ledger-format.md §7), folding entity states
 * and rebuilding the idempotency index on the way; `watch` names records (by hash) whose
 * offsets to report, those of a commit that was sent but not confirmed. Throws
 * LedgerIntegrityError when the partition does not verify: a writer never extends it then.
 */
export async function recoverPartition(
  options: PartitionRecoveryOptions,
  genesisHash: Hash | undefined,
  watch: ReadonlySet<Hash> = new Set(),
): Promise<RecoveredPartition> {
  const { ledgerId, partition, signer, log } = options;
  const verifier = new ChainVerifier({
    ledgerId,
    partition,
    verifier: new CheckpointVerifier(signer.keyName, signer.publicKey),
    genesisHash,
  });
  const recovered = { states: new Map<string, unknown>(), index: new IdempotencyIndex(), found: new Map<Hash, string>() };
  for await (const entry of log.readAll()) {
    const result = verifier.push(entry.offset, entry.value);
    if ('break' in result) throw brokenChain(result.break);
    for (const stored of result.verified) readBack(stored, recovered, watch, options.stateModel);
  }
  const end = verifier.end();
  if (end) throw brokenChain(end);
  return { head: verifier.head(), ...recovered };
}

function readBack(
  stored: StoredRecord,
  into: Omit<RecoveredPartition, 'head' | 'found'> & { readonly found: Map<Hash, string> },
  watch: ReadonlySet<Hash>,
  model: EntityStateModel | undefined,
): void {
  const { record } = stored;
  if (watch.has(stored.hash)) into.found.set(stored.hash, stored.offset);
  if (model) for (const { id } of record.entities) into.states.set(id, model.evolve(into.states.get(id), record, id));
  into.index.readBack(stored);
}

function brokenChain(problem: ChainBreak): LedgerIntegrityError {
  return new LedgerIntegrityError(`refusing to extend a broken chain: ${describeBreak(problem)}`);
}

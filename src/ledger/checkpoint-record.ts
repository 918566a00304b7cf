import { checkpointEventId, type CheckpointVerifier, type SignedCheckpoint } from './checkpoint-note.js';
import type { Finding } from './chain-break.js';
import type { WaitingRecord } from './arrival-checks.js';
import { HASH_PATTERN } from './hashing.js';
import { type LedgerRecord, WRITER_ACTOR } from './ledger-record.js';

/** Whether a value has exactly the members of a signed checkpoint, well-typed (not whether it verifies). */
export function isSignedCheckpoint(payload: unknown): payload is SignedCheckpoint {
  const p = payload as Record<string, unknown>;
  return (
    typeof p.origin === 'string' &&
    Number.isSafeInteger(p.treeSize) &&
    typeof p.rootHash === 'string' &&
    HASH_PATTERN.test(p.rootHash) &&
    typeof p.headHash === 'string' &&
    HASH_PATTERN.test(p.headHash) &&
    typeof p.time === 'string' &&
    typeof p.keyName === 'string' &&
    typeof p.keyId === 'string' &&
    typeof p.signature === 'string' &&
    typeof p.note === 'string' &&
    Object.keys(p).length === 9
  );
}

/**
 * Step 7.1 of docs/ledger-format.md §7: the checkpoint record itself, before anything about the
 * records it covers. Its signed checkpoint, or the **checkpoint** finding at it.
 */
export function checkCheckpointRecord(
  checkpoint: WaitingRecord,
  verifier: CheckpointVerifier,
): { readonly signed: SignedCheckpoint } | { readonly finding: Finding } {
  const { offset, record } = checkpoint;
  const payload = record.payload;
  if (!isSignedCheckpoint(payload)) {
    return {
      finding: {
        kind: 'checkpoint',
        offset,
        sequence: record.sequence,
        message: 'the checkpoint payload is not a signed checkpoint',
      },
    };
  }
  const problem = verifier.problemWith(payload) ?? writerRecordProblem(record, payload);
  if (problem) return { finding: { kind: 'checkpoint', offset, sequence: record.sequence, message: problem } };
  return { signed: payload };
}

/**
 * Members of a checkpoint record that the signature does not cover are fixed by the format
 * (docs/ledger-format.md, "Checkpoints"), so the last checkpoint, which no later one covers,
 * cannot be altered either.
 */
function writerRecordProblem(record: LedgerRecord, checkpoint: SignedCheckpoint): string | undefined {
  if (record.entities.length > 0) return 'a checkpoint record touches no entity';
  if (record.actor !== WRITER_ACTOR) return `a checkpoint record's actor is ${WRITER_ACTOR}`;
  if (record.occurredAt !== checkpoint.time || record.recordedAt !== checkpoint.time) {
    return "a checkpoint record's occurredAt and recordedAt are the checkpoint's time";
  }
  if (record.eventId !== checkpointEventId(checkpoint)) return "a checkpoint record's eventId is derived from its note";
  return undefined;
}

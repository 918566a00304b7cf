import type { Finding } from './chain-break.js';
import type { Hash } from './hashing.js';
import { CHECKPOINT_EVENT, type LedgerRecord } from './ledger-record.js';
import { decodeRecord, parseDecodedRecord, RecordFormatError } from './record-codec.js';

/** A record read since the verified tip, waiting for a checkpoint to cover it. */
export interface WaitingRecord {
  readonly offset: string;
  readonly record: LedgerRecord;
  readonly hash: Hash;
}

/** The verified tip: N (the next sequence) and H (the hash of the last verified record). */
export interface Tip {
  readonly nextSequence: number;
  readonly headHash: Hash | null;
}

/** A verdict held until the next checkpoint or the end: `checkpoint` wants the record of hash `wanted`. */
export interface HeldVerdict {
  readonly missing: Finding;
  readonly wanted: Hash;
  readonly checkpoint: WaitingRecord;
}

/**
 * Step 1: the record decoded (§2.1) and hashed (§3), or the **malformed** finding (told apart
 * by `kind`; no wrapper object, as this runs for every record read).
 */
export function readRecord(offset: string, bytes: Uint8Array): WaitingRecord | Finding {
  try {
    const { record, hash } = decodeRecord(bytes);
    return { offset, record, hash };
  } catch (error) {
    return malformedFinding(offset, decodeProblem(error));
  }
}

/**
 * The entities the records name, of those that decoded (the verifier tells what is wrong with
 * the others): what a reader loads the heads of before it pushes the records, from the same
 * reading it pushes, so that no record is decoded twice.
 */
export function entityIdsOf(read: readonly (WaitingRecord | Finding)[]): Set<string> {
  const ids = new Set<string>();
  for (const entry of read) if (!('kind' in entry)) for (const { id } of entry.record.entities) ids.add(id);
  return ids;
}

/**
 * Step 1 for a run of entries (StoredEntry of ports.ts), in their order: on this thread
 * (`readHere`), or in worker threads (adapters/record-decode-pool.ts).
 */
export interface RecordReader {
  read(entries: readonly { readonly offset: string; readonly value: Uint8Array }[]): Promise<(WaitingRecord | Finding)[]>;
  /** Ends the threads it started, if any (a later read starts them again). */
  close?(): Promise<void>;
}

/** Step 1 on this thread. */
export const readHere: RecordReader = {
  read: (entries) => Promise.resolve(entries.map((entry) => readRecord(entry.offset, entry.value))),
};

/** What step 1 decided elsewhere, for one value: decodeRecord's hash, or why it refused it (decodeProblem). */
export type DecodeOutcome = { readonly hash: Hash } | { readonly problem: string };

/** decodeRecord's outcome for `bytes`, kept small enough to send between threads. */
export function decodeOutcome(bytes: Uint8Array): DecodeOutcome {
  try {
    return { hash: decodeRecord(bytes).hash };
  } catch (error) {
    return { problem: decodeProblem(error) };
  }
}

/** readRecord's result for the record at `offset`, from the outcome of its decoding done elsewhere. */
export function readDecoded(offset: string, bytes: Uint8Array, outcome: DecodeOutcome): WaitingRecord | Finding {
  if ('problem' in outcome) return malformedFinding(offset, outcome.problem);
  return { offset, record: parseDecodedRecord(bytes), hash: outcome.hash };
}

/** Why decodeRecord refused a value, as the malformed finding says it. */
export function decodeProblem(error: unknown): string {
  return error instanceof RecordFormatError ? error.message : String(error);
}

/** Step 1's finding for a value that is not a ledger record, for `reason` (decodeProblem). */
export function malformedFinding(offset: string, reason: string): Finding {
  return { kind: 'malformed', offset, sequence: null, message: `not a ledger record: ${reason}` };
}

/** Step 2: a record of another ledger or partition. */
export function foreignFinding({ offset, record }: WaitingRecord, ledgerId: string, partition: number): Finding | null {
  if (record.ledgerId === ledgerId && record.partition === partition) return null;
  return {
    kind: 'foreign',
    offset,
    sequence: record.sequence,
    expected: `${ledgerId}/${partition}`,
    found: `${record.ledgerId}/${record.partition}`,
    message: 'the record belongs to another ledger or partition',
  };
}

/**
 * Step 3: a record for a sequence the verified chain holds already (below the tip): a copy of
 * the verified record, whose hash is `verifiedHash`, or another one.
 */
export function behindTipFinding(
  { offset, record, hash }: Pick<WaitingRecord, 'offset' | 'hash'> & { readonly record: Pick<LedgerRecord, 'sequence'> },
  verifiedHash: Hash | undefined,
): Finding {
  return {
    kind: verifiedHash === hash ? 'duplicate' : 'injected',
    offset,
    sequence: record.sequence,
    expected: verifiedHash,
    found: hash,
    message:
      verifiedHash === hash
        ? `a copy of the verified record at sequence ${record.sequence}`
        : `a record for sequence ${record.sequence}, which the signed chain already holds with another hash`,
  };
}

/** Step 4: with a verdict held, the wanted record arriving late, or the next checkpoint. */
export function heldVerdictFinding(entry: WaitingRecord, held: HeldVerdict | null): Finding | null {
  if (!held) return null;
  const { offset, record, hash } = entry;
  const { missing, wanted, checkpoint } = held;
  if (hash === wanted) {
    return {
      kind: 'out-of-order',
      offset: checkpoint.offset,
      sequence: checkpoint.record.sequence,
      expected: `after offset ${offset}`,
      found: checkpoint.offset,
      message: `the checkpoint stands before a record it covers (sequence ${record.sequence}, offset ${offset})`,
    };
  }
  return record.eventType === CHECKPOINT_EVENT ? missing : null;
}

/** Step 5: a copy of a waiting record. */
export function twinFinding(
  { offset, record, hash }: WaitingRecord,
  waitingByHash: ReadonlyMap<Hash, WaitingRecord>,
): Finding | null {
  const twin = waitingByHash.get(hash);
  if (!twin) return null;
  return {
    kind: 'duplicate',
    offset,
    sequence: record.sequence,
    expected: twin.offset,
    found: offset,
    message: `a copy of the record at offset ${twin.offset} (sequence ${record.sequence})`,
  };
}

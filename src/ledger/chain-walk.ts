import type { Finding } from './chain-break.js';
import type { HeldVerdict, Tip, WaitingRecord } from './arrival-checks.js';
import type { Hash } from './hashing.js';
import { CHECKPOINT_EVENT } from './ledger-record.js';

export type Walk =
  /** The path: the records walked, oldest first, ending with the checkpoint. */
  | { readonly path: readonly WaitingRecord[]; readonly walked: ReadonlySet<WaitingRecord> }
  /** The walk found no waiting record where `link` points. */
  | { readonly brokenAt: WaitingRecord; readonly walked: ReadonlySet<WaitingRecord> };

/** Step 7.2: from the checkpoint back along previousHash to the tip. */
export function walkBack(checkpoint: WaitingRecord, tip: Tip, waitingByHash: ReadonlyMap<Hash, WaitingRecord>): Walk {
  const path: WaitingRecord[] = [];
  const walked = new Set<WaitingRecord>([checkpoint]);
  let link = checkpoint;
  while (link.record.previousHash !== tip.headHash) {
    const wanted = link.record.previousHash;
    const found = wanted === null ? undefined : waitingByHash.get(wanted);
    if (!found || walked.has(found)) return { brokenAt: link, walked };
    path.push(found); // walked backwards: reversed below (unshift would be quadratic in the batch)
    walked.add(found);
    link = found;
  }
  return { path: [...path.reverse(), checkpoint], walked };
}

/**
 * Step 7.3: the walk back from `checkpoint` found no record with the hash that `link` points
 * to. A waiting record standing at that place but hashing differently was **modified**; a link
 * past the tip is a **sequence** finding; else the record is **missing**, unless it still
 * turns up after the checkpoint: that verdict is held.
 */
export function brokenLinkVerdict(
  link: WaitingRecord,
  checkpoint: WaitingRecord,
  walked: ReadonlySet<WaitingRecord>,
  waiting: readonly WaitingRecord[],
  tip: Tip,
  waitingByHash: ReadonlyMap<Hash, WaitingRecord>,
): { readonly finding: Finding } | { readonly held: HeldVerdict } {
  const wanted = link.record.previousHash;
  const sequence = link.record.sequence - 1;
  const impostor = standingAt(sequence, walked, waiting, tip, waitingByHash);
  if (impostor && wanted !== null) {
    return {
      finding: {
        kind: 'modified',
        offset: impostor.offset,
        sequence,
        expected: wanted,
        found: impostor.hash,
        message: `the record does not hash to what sequence ${link.record.sequence} (offset ${link.offset}) links to: its content was changed`,
      },
    };
  }
  if (sequence < tip.nextSequence || wanted === null) {
    return {
      finding: {
        kind: 'sequence',
        offset: link.offset,
        sequence: link.record.sequence,
        expected: String(tip.headHash),
        found: String(wanted),
        message: 'the record links back past the last verified record',
      },
    };
  }
  const missing: Finding = {
    kind: 'missing',
    offset: link.offset,
    sequence: link.record.sequence,
    expected: wanted,
    found: 'no such record',
    message: `the record linked from sequence ${link.record.sequence} (sequence ${sequence}, hash ${wanted}) is missing`,
  };
  return { held: { wanted, checkpoint, missing } };
}

/**
 * The waiting record standing at `sequence`, off the walk and not a checkpoint: by its
 * sequence member, or, if that member was changed too, by where its own previous hash puts it.
 */
function standingAt(
  sequence: number,
  walked: ReadonlySet<WaitingRecord>,
  waiting: readonly WaitingRecord[],
  tip: Tip,
  waitingByHash: ReadonlyMap<Hash, WaitingRecord>,
): WaitingRecord | undefined {
  const sequenceOf = (hash: Hash | null): number | undefined =>
    hash === null ? undefined : hash === tip.headHash ? tip.nextSequence - 1 : waitingByHash.get(hash)?.record.sequence;
  const candidates = waiting.filter((entry) => !walked.has(entry) && entry.record.eventType !== CHECKPOINT_EVENT);
  return (
    candidates.find((entry) => entry.record.sequence === sequence) ??
    candidates.find((entry) => sequenceOf(entry.record.previousHash) === sequence - 1)
  );
}

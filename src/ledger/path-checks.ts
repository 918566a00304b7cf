import { checkpointOrigin, type SignedCheckpoint } from './checkpoint-note.js';
import type { Finding } from './chain-break.js';
import type { Tip, WaitingRecord } from './arrival-checks.js';
import type { Hash } from './hashing.js';
import { GENESIS_EVENT, WRITER_ACTOR } from './ledger-record.js';
import type { MerkleTree } from './merkle-tree.js';

/** What a complete path is checked against: the verified tip it continues, and the partition. */
export interface PathContext extends Tip {
  readonly ledgerId: string;
  readonly partition: number;
  /** The genesis hash pinned outside Kafka, when known. */
  readonly pinnedGenesis?: Hash;
  readonly tree: MerkleTree;
  readonly entityHeads: { get(entityId: string): Hash | undefined };
}

/** Step 7.4 (first bullet): each waiting record off the path is out of order or injected. */
export function strayFindings(
  waiting: readonly WaitingRecord[],
  walked: ReadonlySet<WaitingRecord>,
  checkpoint: WaitingRecord,
): Finding[] {
  const findings: Finding[] = [];
  for (const stray of waiting) {
    if (walked.has(stray)) continue;
    const { offset, record } = stray;
    if (record.previousHash === checkpoint.hash || record.sequence > checkpoint.record.sequence) {
      findings.push({
        kind: 'out-of-order',
        offset,
        sequence: record.sequence,
        expected: `after offset ${checkpoint.offset}`,
        found: offset,
        message: `the record stands before the checkpoint it follows (sequence ${checkpoint.record.sequence}, offset ${checkpoint.offset})`,
      });
    } else {
      findings.push({
        kind: 'injected',
        offset,
        sequence: record.sequence,
        found: stray.hash,
        message: 'a record off the signed chain: the checkpoint after it does not cover it',
      });
    }
  }
  return findings;
}

/**
 * Step 7.4 (along the path): for each record, in this order, its offset order, its sequence,
 * genesis, its entity links and, for the checkpoint, its size, root, head and origin. The
 * findings in the order noted, and each entity's last record on the path.
 */
export function checkPath(
  path: readonly WaitingRecord[],
  signed: SignedCheckpoint,
  context: PathContext,
): { readonly findings: Finding[]; readonly entityHeads: Map<string, Hash> } {
  const findings: Finding[] = [];
  const note = (finding: Finding | null) => {
    if (finding) findings.push(finding);
  };
  const entityHeads = new Map<string, Hash>();
  const tree = context.tree.clone();
  const checkpoint = path.at(-1);
  let previous: WaitingRecord | null = null;
  let place = context.nextSequence;
  for (const entry of path) {
    note(offsetOrderFinding(entry, previous));
    note(sequenceFinding(entry, place));
    note(place === 0 ? genesisFinding(entry, context) : secondGenesisFinding(entry));
    noteEntityLinks(entry, entityHeads, context.entityHeads, findings);
    if (entry === checkpoint) note(checkpointFinding(entry, signed, tree, previous?.hash ?? context.headHash, context));
    tree.append(entry.hash);
    previous = entry;
    place += 1;
  }
  return { findings, entityHeads };
}

/** The finding reported of several: the one at the lowest offset; at one offset, the first noted. */
export function firstByOffset(findings: readonly Finding[]): Finding | undefined {
  let first: Finding | undefined;
  for (const finding of findings) {
    if (first === undefined || BigInt(finding.offset) < BigInt(first.offset)) first = finding;
  }
  return first;
}

function offsetOrderFinding(entry: WaitingRecord, previous: WaitingRecord | null): Finding | null {
  if (!previous || BigInt(entry.offset) >= BigInt(previous.offset)) return null;
  const { record } = entry;
  return {
    kind: 'out-of-order',
    offset: entry.offset,
    sequence: record.sequence,
    expected: `after offset ${previous.offset}`,
    found: entry.offset,
    message: `sequence ${record.sequence} stands before sequence ${previous.record.sequence} (offset ${previous.offset}) that it follows in the chain`,
  };
}

function sequenceFinding(entry: WaitingRecord, place: number): Finding | null {
  const { sequence } = entry.record;
  if (sequence === place) return null;
  return {
    kind: 'sequence',
    offset: entry.offset,
    sequence,
    expected: String(place),
    found: String(sequence),
    message: `sequence ${sequence} where the chain is at ${place}`,
  };
}

/** The record at place 0 is this partition's genesis (§4), and the pinned one. */
function genesisFinding(entry: WaitingRecord, context: PathContext): Finding | null {
  const { record } = entry;
  const payload = record.payload;
  if (
    record.eventType !== GENESIS_EVENT ||
    record.previousHash !== null ||
    record.entities.length > 0 ||
    record.actor !== WRITER_ACTOR ||
    payload.ledgerId !== context.ledgerId ||
    payload.partition !== context.partition
  ) {
    return {
      kind: 'genesis',
      offset: entry.offset,
      sequence: record.sequence,
      message: `the first record is not the genesis of ${context.ledgerId}/${context.partition}`,
    };
  }
  if (context.pinnedGenesis && context.pinnedGenesis !== entry.hash) {
    return {
      kind: 'genesis',
      offset: entry.offset,
      sequence: record.sequence,
      expected: context.pinnedGenesis,
      found: entry.hash,
      message: 'the genesis record is not the pinned one: the partition was rewritten from genesis',
    };
  }
  return null;
}

function secondGenesisFinding(entry: WaitingRecord): Finding | null {
  if (entry.record.eventType !== GENESIS_EVENT) return null;
  return { kind: 'genesis', offset: entry.offset, sequence: entry.record.sequence, message: 'a second genesis record' };
}

/**
 * Each entity's link is to its last record: the last before it on the path, else its last
 * verified one, else null. The record becomes that entity's last record whatever its link
 * said. Adds a finding for each wrong link to `findings` (no array per record: this runs for
 * every record verified).
 */
function noteEntityLinks(
  entry: WaitingRecord,
  pathHeads: Map<string, Hash>,
  verifiedHeads: { get(entityId: string): Hash | undefined },
  findings: Finding[],
): void {
  for (const entity of entry.record.entities) {
    const expected = pathHeads.get(entity.id) ?? verifiedHeads.get(entity.id) ?? null;
    if (entity.previousHash !== expected) {
      findings.push({
        kind: 'entity-link',
        offset: entry.offset,
        sequence: entry.record.sequence,
        entityId: entity.id,
        expected: expected ?? 'null (first record of the entity)',
        found: entity.previousHash ?? 'null',
        message: `entity ${entity.id} links to a record that is not its previous one`,
      });
    }
    pathHeads.set(entity.id, entry.hash);
  }
}

/** The checkpoint states the size, root and head of the records before it, and its partition's origin. */
function checkpointFinding(
  entry: WaitingRecord,
  signed: SignedCheckpoint,
  tree: MerkleTree,
  headHash: Hash | null,
  context: PathContext,
): Finding | null {
  const size = tree.size;
  const root = tree.root();
  const origin = checkpointOrigin(context.ledgerId, context.partition);
  const mismatch =
    signed.treeSize !== size
      ? ['tree size', String(size), String(signed.treeSize)]
      : signed.rootHash !== root
        ? ['root hash', root, signed.rootHash]
        : signed.headHash !== headHash
          ? ['head hash', String(headHash), signed.headHash]
          : signed.origin !== origin
            ? ['origin', origin, signed.origin]
            : null;
  if (!mismatch) return null;
  return {
    kind: 'checkpoint',
    offset: entry.offset,
    sequence: entry.record.sequence,
    expected: mismatch[1],
    found: mismatch[2],
    message: `the checkpoint's ${mismatch[0]} is not that of the records before it`,
  };
}

/**
 * docs/ledger-format.md §7 and docs/attestation-format.md §5 written again from the documents
 * alone, step by step, on top of ledger-format.ts: no code from src/.
 */
import {
  isSignedBy,
  isSignedCheckpoint,
  isValidCheckpointRecord,
  type LedgerRecord,
  mth,
  recordHash,
  type SignedCheckpoint,
  type VerifierKey,
  wellFormedRecord,
} from './ledger-format.js';

export interface Finding {
  readonly kind: string;
  readonly offset: string;
  readonly sequence: number | null;
  readonly entityId?: string;
}

export interface Partition {
  readonly ledgerId: string;
  readonly partition: number;
  readonly key: VerifierKey;
  readonly genesisPin: string | null;
}

/** What a reading of a partition ends with: the first finding, and the hashes verified before it. */
export interface Verification {
  readonly finding: Finding | null;
  readonly verified: readonly string[];
}

interface Read {
  readonly offset: string;
  readonly record: LedgerRecord;
  readonly hash: string;
}

const CHECKPOINT = 'ledger.checkpoint';
const GENESIS = 'ledger.genesis';
const WAITING_AT_MOST = 100_000;

const at = (read: Read, kind: string, sequence: number | null = read.record.sequence): Finding => ({
  kind,
  offset: read.offset,
  sequence,
});

/** §7: reads the entries in offset order and stops at the first finding. */
export function verifyPartition(entries: readonly { offset: string; value: Buffer }[], partition: Partition): Verification {
  const verified: string[] = [];
  const lastRecordOf = new Map<string, string>();
  let waiting: Read[] = [];
  let held: { finding: Finding; wants: string; checkpoint: Read } | null = null;
  const tipHash = () => verified.at(-1) ?? null;
  const done = (finding: Finding | null): Verification => ({ finding, verified });

  for (const { offset, value } of entries) {
    const record = wellFormedRecord(value);
    if (!record) return done({ kind: 'malformed', offset, sequence: null }); // step 1
    const read: Read = { offset, record, hash: recordHash(value) };
    if (record.ledgerId !== partition.ledgerId || record.partition !== partition.partition) return done(at(read, 'foreign')); // 2
    if (record.sequence < verified.length) {
      return done(at(read, verified[record.sequence] === read.hash ? 'duplicate' : 'injected')); // 3
    }
    if (held) {
      if (read.hash === held.wants) return done(at(held.checkpoint, 'out-of-order')); // 4
      if (record.eventType === CHECKPOINT) return done(held.finding);
    }
    if (waiting.some((other) => other.hash === read.hash)) return done(at(read, 'duplicate')); // 5
    waiting.push(read); // 6
    if (record.eventType !== CHECKPOINT) {
      if (waiting.length > WAITING_AT_MOST) return done(at(waiting[0] as Read, 'uncovered'));
      continue;
    }

    const checkpoint = read; // 7
    if (!isValidCheckpointRecord(record, partition.key)) return done(at(checkpoint, 'checkpoint')); // 7.1
    const path: Read[] = [checkpoint]; // 7.2, oldest first
    let broken: Read | null = null;
    while ((path[0] as Read).record.previousHash !== tipHash()) {
      const link = path[0] as Read;
      const next = waiting.find((other) => other.hash === link.record.previousHash);
      if (!next) {
        broken = link;
        break;
      }
      path.unshift(next);
    }

    if (broken) {
      // 7.3
      const wants = broken.record.previousHash;
      const s = broken.record.sequence - 1;
      const candidates = waiting.filter((other) => !path.includes(other) && other.record.eventType !== CHECKPOINT);
      const isHashAt = (hash: string | null, sequence: number) =>
        (hash !== null && hash === tipHash() && sequence === verified.length - 1) ||
        waiting.some((other) => other.hash === hash && other.record.sequence === sequence);
      const standing =
        candidates.find((other) => other.record.sequence === s) ??
        candidates.find((other) => isHashAt(other.record.previousHash, s - 1));
      if (wants !== null && standing) return done(at(standing, 'modified', s));
      if (s < verified.length || wants === null) return done(at(broken, 'sequence'));
      held = { finding: at(broken, 'missing'), wants, checkpoint };
      continue;
    }

    // 7.4
    const noted: Finding[] = [];
    for (const other of waiting) {
      if (path.includes(other)) continue;
      const follows = other.record.previousHash === checkpoint.hash || other.record.sequence > record.sequence;
      noted.push(at(other, follows ? 'out-of-order' : 'injected'));
    }
    const lastInPath = new Map<string, string>();
    for (const [i, current] of path.entries()) {
      const place = verified.length + i;
      const before = path[i - 1];
      if (before && BigInt(current.offset) < BigInt(before.offset)) noted.push(at(current, 'out-of-order'));
      if (current.record.sequence !== place) noted.push(at(current, 'sequence'));
      if (place === 0 ? !isGenesis(current, partition) : current.record.eventType === GENESIS) noted.push(at(current, 'genesis'));
      for (const entity of current.record.entities) {
        const last = lastInPath.get(entity.id) ?? lastRecordOf.get(entity.id) ?? null;
        if (entity.previousHash !== last) noted.push({ ...at(current, 'entity-link'), entityId: entity.id });
        lastInPath.set(entity.id, current.hash);
      }
      if (current === checkpoint) {
        const payload = record.payload as unknown as SignedCheckpoint;
        const before = [...verified, ...path.slice(0, i).map((item) => item.hash)];
        if (
          payload.treeSize !== place ||
          payload.rootHash !== mth(before) ||
          payload.headHash !== before.at(-1) ||
          payload.origin !== `custodian/${partition.ledgerId}/${partition.partition}`
        ) {
          noted.push(at(current, 'checkpoint'));
        }
      }
    }
    // Lowest offset; Array.prototype.sort is stable, so at one offset the first noted stays first.
    const first = noted.sort((a, b) =>
      BigInt(a.offset) < BigInt(b.offset) ? -1 : BigInt(a.offset) > BigInt(b.offset) ? 1 : 0,
    )[0];
    if (first) return done(first);
    verified.push(...path.map((item) => item.hash));
    for (const [id, hash] of lastInPath) lastRecordOf.set(id, hash);
    waiting = [];
  }

  // 8
  if (held) return done(held.finding);
  if (waiting[0]) return done(at(waiting[0], 'uncovered'));
  if (partition.genesisPin !== null && verified.length === 0) return done({ kind: 'genesis', offset: '0', sequence: null });
  return done(null);
}

/** §4: the record verified at sequence 0. */
function isGenesis({ record, hash }: Read, partition: Partition): boolean {
  return (
    record.eventType === GENESIS &&
    record.previousHash === null &&
    record.entities.length === 0 &&
    record.actor === 'custodian-writer' &&
    record.payload.ledgerId === partition.ledgerId &&
    record.payload.partition === partition.partition &&
    (partition.genesisPin === null || partition.genesisPin === hash)
  );
}

export type WitnessFinding = { readonly kind: string; readonly sequence: number | null } | null;

/** docs/attestation-format.md §5, "Holding a partition against the witness". */
export function againstWitness(witnessed: unknown, verified: readonly string[], partition: Partition): WitnessFinding {
  if (witnessed === null) return null;
  if (!isSignedCheckpoint(witnessed)) return { kind: 'checkpoint', sequence: null };
  if (witnessed.origin !== `custodian/${partition.ledgerId}/${partition.partition}` || !isSignedBy(witnessed, partition.key)) {
    return { kind: 'checkpoint', sequence: witnessed.treeSize };
  }
  if (witnessed.treeSize > verified.length) return { kind: 'truncated', sequence: verified.length };
  if (mth(verified.slice(0, witnessed.treeSize)) !== witnessed.rootHash)
    return { kind: 'fork', sequence: witnessed.treeSize - 1 };
  return null;
}

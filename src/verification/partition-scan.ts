import {
  type ChainBreak,
  ChainVerifier,
  type Finding as ChainFinding,
  isSignedCheckpoint,
  readRecord,
  type WaitingRecord,
} from '../ledger/chain-verifier.js';
import { type CheckpointVerifier, checkpointOrigin, type SignedCheckpoint } from '../ledger/checkpoint-note.js';
import type { Hash } from '../ledger/hashing.js';
import type { StoredRecord } from '../ledger/ledger-record.js';
import { MerkleProofs } from '../ledger/merkle-tree.js';
import type { StoredEntry } from '../ledger/ports.js';
import type { Finding } from './attestation.js';
import type { RecordDecodePool } from '../ledger/adapters/record-decode-pool.js';
import type { Witness } from './witness.js';

/** Where the verifier reads the truth from: one ledger (its topic), with its key and genesis pins. */
export interface LedgerSource {
  readonly ledgerId: string;
  readonly partitions: number;
  /** The key that signs the ledger's checkpoints. */
  readonly ledgerKey: CheckpointVerifier;
  /** The genesis hash pinned outside Kafka for a partition, or null. */
  genesisPin(partition: number): Promise<Hash | null>;
  /** The partition's raw records from offset 0 to its current end, read_committed. */
  read(partition: number): AsyncIterable<StoredEntry> | Iterable<StoredEntry>;
}

/** What a verifier holds of a partition at one moment: enough to hold it against a witness. */
export interface VerifiedPartition {
  readonly partition: number;
  /** The first break, or null when every record read verified. */
  readonly problem: ChainBreak | null;
  /** Records verified: the tree size the reading proves up to. */
  readonly size: number;
  /** Proofs over at least the first `size` record hashes (ask them with an explicit size). */
  readonly proofs: MerkleProofs;
  readonly checkpoint: SignedCheckpoint | null;
}

/** A partition as read for one entity: the verified partition and the entity's records in it. */
export interface LedgerReading extends VerifiedPartition {
  readonly genesis: StoredRecord | null;
  /** The verified records that name the entity, in order. */
  readonly history: readonly StoredRecord[];
}

export interface PartitionScan extends VerifiedPartition {
  readonly verifier: ChainVerifier;
  /** Records read from Kafka, verified or not (offsets, as a Kafka client counts them). */
  readonly recordsRead: number;
}

export interface ScanOptions {
  /** Called with the records read so far, every 10,000 and at the end. */
  readonly onProgress?: (recordsRead: number) => void;
  /** Threads that decode and hash the records while this one reads and walks the chain (none: all here). */
  readonly pool?: RecordDecodePool | null;
}

/** Records sent to a decoding thread at once. */
const CHUNK = 256;

/**
 * Reads a partition of the topic from offset 0 to its end and verifies it as
 * docs/ledger-format.md §7 says, handing each record to `onVerified` once a signed checkpoint
 * covers it (awaited: a slow consumer slows the read). Stops at the first break. With a pool,
 * step 1 (decoding and hashing) runs in its threads; the verdict is the same.
 */
export async function scanPartition(
  source: LedgerSource,
  partition: number,
  onVerified: (record: StoredRecord) => void | Promise<void>,
  { onProgress, pool }: ScanOptions = {},
): Promise<PartitionScan> {
  const pin = await source.genesisPin(partition);
  const verifier = new ChainVerifier({
    ledgerId: source.ledgerId,
    partition,
    verifier: source.ledgerKey,
    genesisHash: pin ?? undefined,
  });
  let problem: ChainBreak | null = null;
  let recordsRead = 0;
  const entries = pool ? decodedInPool(source.read(partition), pool) : decodedHere(source.read(partition));
  for await (const entry of entries) {
    recordsRead += 1;
    if (onProgress && recordsRead % 10_000 === 0) onProgress(recordsRead);
    const result = verifier.pushRead(entry);
    if ('break' in result) {
      problem = result.break;
      break;
    }
    for (const stored of result.verified) {
      const pending = onVerified(stored);
      if (pending) await pending;
    }
  }
  onProgress?.(recordsRead);
  problem ??= verifier.end();
  const hashes = verifier.recordHashes;
  return {
    partition,
    problem,
    verifier,
    size: hashes.length,
    proofs: new MerkleProofs((i) => hashes.at(i), hashes.length),
    checkpoint: verifier.head().lastCheckpoint,
    recordsRead,
  };
}

type Read = WaitingRecord | ChainFinding;

async function* decodedHere(entries: AsyncIterable<StoredEntry> | Iterable<StoredEntry>): AsyncGenerator<Read> {
  for await (const { offset, value } of entries) yield readRecord(offset, value);
}

/**
 * The entries with step 1 done by the pool, in their order: chunks go out as they are read, up
 * to two per thread ahead of the chunk whose outcomes are handed on.
 */
async function* decodedInPool(
  entries: AsyncIterable<StoredEntry> | Iterable<StoredEntry>,
  pool: RecordDecodePool,
): AsyncGenerator<Read> {
  const sent: Promise<Read[]>[] = [];
  let chunk: StoredEntry[] = [];
  const send = () => {
    const read = pool.read(chunk);
    // Chunks still out when the scan stops early (at a break) are not awaited.
    read.catch(() => undefined);
    sent.push(read);
    chunk = [];
  };
  for await (const entry of entries) {
    chunk.push(entry);
    if (chunk.length === CHUNK) send();
    while (sent.length > pool.size * 2) yield* await (sent.shift() as Promise<Read[]>);
  }
  if (chunk.length > 0) send();
  while (sent.length > 0) yield* await (sent.shift() as Promise<Read[]>);
}

export function ledgerFinding(problem: ChainBreak): Finding {
  return {
    source: 'ledger',
    kind: problem.kind,
    partition: problem.partition,
    offset: problem.offset,
    sequence: problem.sequence,
    ...(problem.entityId === undefined ? {} : { entityId: problem.entityId }),
    ...(problem.expected === undefined ? {} : { expected: problem.expected }),
    ...(problem.found === undefined ? {} : { found: problem.found }),
    message: problem.message,
  };
}

/** What the verifier found holding a scanned partition against its witness. */
export interface WitnessCheck {
  readonly findings: Finding[];
  /** The witnessed tree the ledger was found to extend, when it was. */
  readonly witnessed: { readonly treeSize: number; readonly rootHash: Hash } | null;
}

/** What the witness held when asked: its latest checkpoint (verified), or why there is none to use. */
export type WitnessReading = { readonly held: SignedCheckpoint | null } | { readonly findings: Finding[] };

/**
 * The latest checkpoint the witness holds for the partition, checked. Ask before the ledger is
 * read: a checkpoint the writer commits while the verifier reads would otherwise be witnessed
 * beyond the end the verifier read to, and look like a truncation.
 */
export async function readWitness(witness: Witness | null, source: LedgerSource, partition: number): Promise<WitnessReading> {
  if (!witness) return { held: null };
  const finding = (kind: string, rest: Omit<Finding, 'source' | 'kind' | 'partition'>): WitnessReading => ({
    findings: [{ source: 'witness', kind, partition, ...rest }],
  });
  let held: unknown;
  try {
    held = await witness.latest(partition);
  } catch (error) {
    return finding('witness-unreachable', {
      offset: null,
      sequence: null,
      message: `the witness (${witness.description}) could not be read: ${(error as Error).message}`,
    });
  }
  if (held === null) return { held: null };
  if (!isSignedCheckpoint(held)) {
    return finding('checkpoint', {
      offset: null,
      sequence: null,
      message: 'the witness holds something that is not a signed checkpoint',
    });
  }
  const origin = checkpointOrigin(source.ledgerId, partition);
  const problem = held.origin !== origin ? `it is of ${held.origin}, not ${origin}` : source.ledgerKey.problemWith(held);
  if (problem) {
    return finding('checkpoint', {
      offset: null,
      sequence: held.treeSize,
      message: `the witnessed checkpoint of tree size ${held.treeSize} does not verify: ${problem}`,
    });
  }
  return { held };
}

/**
 * Holds the verified ledger against the checkpoint the witness held: the ledger must reach the
 * witnessed tree (else it was truncated) and have its root at that size (else it was rewritten
 * or forked since).
 */
export function checkAgainstWitness(reading: WitnessReading, scan: VerifiedPartition): WitnessCheck {
  if ('findings' in reading) return { findings: reading.findings, witnessed: null };
  const held = reading.held;
  if (held === null) return { findings: [], witnessed: null };
  const partition = scan.partition;
  const size = scan.checkpoint?.treeSize ?? 0;
  const verified = scan.size;
  if (held.treeSize > verified) {
    return {
      witnessed: null,
      findings: [
        {
          source: 'witness',
          kind: 'truncated',
          partition,
          offset: null,
          sequence: verified,
          expected: `a tree of size ${held.treeSize} or more (witnessed at ${held.time})`,
          found: `a ledger that verifies up to tree size ${size}`,
          message: `the witness saw a tree of size ${held.treeSize}; the ledger no longer reaches it: records from sequence ${verified} on were removed`,
        },
      ],
    };
  }
  const root = scan.proofs.root(held.treeSize);
  if (root !== held.rootHash) {
    return {
      witnessed: null,
      findings: [
        {
          source: 'witness',
          kind: 'fork',
          partition,
          offset: null,
          sequence: held.treeSize - 1,
          expected: held.rootHash,
          found: root,
          message: `the ledger's first ${held.treeSize} records have another Merkle root than the witnessed checkpoint of ${held.time}: the ledger was rewritten or forked before sequence ${held.treeSize}`,
        },
      ],
    };
  }
  return { findings: [], witnessed: { treeSize: held.treeSize, rootHash: held.rootHash } };
}

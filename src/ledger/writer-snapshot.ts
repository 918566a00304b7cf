import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalize } from './canonical-json.js';
import {
  type Checkpoint,
  type CheckpointSigner,
  type CheckpointVerifier,
  noteText,
  type SignedCheckpoint,
} from './checkpoint-note.js';
import { checkCheckpointRecord } from './checkpoint-record.js';
import { HASH_PATTERN, type Hash } from './hashing.js';
import { CHECKPOINT_EVENT } from './ledger-record.js';
import { MerkleTree } from './merkle-tree.js';
import { sha256 } from './platform/sha256.js';
import { decodeRecord } from './record-codec.js';

/**
 * A writer snapshot (docs/ledger-format.md §11): what a partition's writer needs to go on from
 * one of its checkpoint records without reading the partition before it. The body names the
 * checkpoint record (offset and hash), the Merkle tree it closes (the compact range of the tree
 * the checkpoint signs) and the root of the state tree (state-tree.ts: entity heads and states,
 * the idempotency index). Its hash is signed with the writer key together with the checkpoint,
 * in a signed note whose text is the checkpoint's note text and one more line:
 *
 *   <origin>\n<tree size>\n<base64 root>\nhead <hex>\ntime <time>\nsnapshot <hex snapshot hash>\n
 *
 * A snapshot proves nothing by itself about the topic: it is taken only after the record it
 * names is read back from the topic and found to be that checkpoint (checkSnapshot).
 */
export const SNAPSHOT_FORMAT_VERSION = 1;

export interface SnapshotBody {
  readonly formatVersion: typeof SNAPSHOT_FORMAT_VERSION;
  readonly ledgerId: string;
  readonly partition: number;
  /** The checkpoint record's sequence, which is the tree size its checkpoint signs. */
  readonly treeSize: number;
  /** Where the checkpoint record is in the topic (a decimal Kafka offset). */
  readonly checkpointOffset: string;
  /** The checkpoint record's hash: the chain's head at the snapshot. */
  readonly checkpointHash: Hash;
  readonly genesisHash: Hash;
  /** The compact range of the tree of `treeSize` records (MerkleTree.toCompactRange), largest subtree first. */
  readonly frontier: readonly Hash[];
  /** The state tree's root (hex). */
  readonly stateRoot: Hash;
}

export interface SignedSnapshot {
  readonly body: SnapshotBody;
  /** The signed note: the checkpoint's note text, the `snapshot` line, a blank line, the writer's signature line. */
  readonly note: string;
}

/** What a writer resumes from once a snapshot checked out against the topic. */
export interface SnapshotStart {
  readonly body: SnapshotBody;
  /** The tree after the checkpoint record (treeSize + 1 records). */
  readonly tree: MerkleTree;
  readonly checkpoint: SignedCheckpoint;
  /** The offset to read the partition from: just after the checkpoint record. */
  readonly nextOffset: string;
}

const DOMAIN = utf8ToBytes('custodian.ledger.snapshot.v1\0');

export function snapshotHash(body: SnapshotBody): Hash {
  return bytesToHex(sha256(DOMAIN, utf8ToBytes(canonicalize(body))));
}

/** The text the writer signs: the checkpoint's note text and the snapshot's hash. */
export function snapshotNoteText(checkpoint: Checkpoint, body: SnapshotBody): string {
  return `${noteText(checkpoint)}snapshot ${snapshotHash(body)}\n`;
}

export function signSnapshot(signer: CheckpointSigner, checkpoint: Checkpoint, body: SnapshotBody): SignedSnapshot {
  return { body, note: signer.signNote(snapshotNoteText(checkpoint, body)).note };
}

export function bodyProblem(body: SnapshotBody, ledgerId: string, partition: number): string | undefined {
  const keys = Object.keys(body).sort().join(',');
  if (keys !== 'checkpointHash,checkpointOffset,formatVersion,frontier,genesisHash,ledgerId,partition,stateRoot,treeSize') {
    return `the snapshot body has the members ${keys}`;
  }
  const version: unknown = body.formatVersion;
  if (version !== SNAPSHOT_FORMAT_VERSION) return `snapshot format ${String(version)} is not known`;
  if (body.ledgerId !== ledgerId || body.partition !== partition) {
    return `the snapshot is of ${body.ledgerId}/${body.partition}, not ${ledgerId}/${partition}`;
  }
  if (!Number.isSafeInteger(body.treeSize) || body.treeSize < 1) return 'the snapshot tree size is not a positive integer';
  if (!/^(0|[1-9][0-9]{0,18})$/.test(body.checkpointOffset)) return 'the checkpoint offset is not a decimal offset';
  for (const hash of [body.checkpointHash, body.genesisHash, body.stateRoot, ...body.frontier]) {
    if (typeof hash !== 'string' || !HASH_PATTERN.test(hash)) return 'a snapshot hash is not 64 lowercase hex digits';
  }
  return undefined;
}

/**
 * Checks a stored snapshot against the writer key and the record the topic holds at its
 * checkpoint offset (`recordAt`: that record's bytes, or undefined when there is none): the
 * note is signed by the key over this body, the record is a checkpoint record that verifies
 * and signs the same checkpoint, its hash is the body's, and the frontier gives the signed
 * root. `genesis` is the genesis the writer holds pinned, when it holds one. Returns where to
 * go on from, or why the snapshot cannot be used.
 */
export function checkSnapshot(
  snapshot: SignedSnapshot,
  context: {
    readonly ledgerId: string;
    readonly partition: number;
    readonly verifier: CheckpointVerifier;
    readonly genesis: Hash | undefined;
    readonly recordAt: Uint8Array | undefined;
  },
): SnapshotStart | { readonly problem: string } {
  const { body, note } = snapshot;
  const problem = bodyProblem(body, context.ledgerId, context.partition);
  if (problem) return { problem };
  if (context.genesis !== undefined && body.genesisHash !== context.genesis) {
    return { problem: `the snapshot's genesis ${body.genesisHash} is not the pinned ${context.genesis}` };
  }
  if (!context.recordAt) return { problem: `the topic holds no record at offset ${body.checkpointOffset}` };
  let decoded: ReturnType<typeof decodeRecord>;
  try {
    decoded = decodeRecord(context.recordAt);
  } catch (error) {
    return { problem: `the record at offset ${body.checkpointOffset} is malformed: ${(error as Error).message}` };
  }
  const { record, hash } = decoded;
  if (hash !== body.checkpointHash)
    return { problem: `the record at offset ${body.checkpointOffset} is not the snapshot's checkpoint` };
  if (record.eventType !== CHECKPOINT_EVENT || record.sequence !== body.treeSize) {
    return { problem: `the record at offset ${body.checkpointOffset} is not the checkpoint of tree size ${body.treeSize}` };
  }
  if (record.ledgerId !== context.ledgerId || record.partition !== context.partition) {
    return { problem: `the record at offset ${body.checkpointOffset} is of another ledger partition` };
  }
  const checked = checkCheckpointRecord({ offset: body.checkpointOffset, record, hash }, context.verifier);
  if ('finding' in checked) return { problem: `the checkpoint at offset ${body.checkpointOffset}: ${checked.finding.message}` };
  const checkpoint = checked.signed;
  if (checkpoint.treeSize !== body.treeSize) return { problem: 'the checkpoint signs another tree size than the snapshot' };
  const noteProblem = context.verifier.problemWithNote(note, snapshotNoteText(checkpoint, body));
  if (noteProblem) return { problem: `the snapshot note: ${noteProblem}` };
  const tree = frontierTree(body, checkpoint.rootHash);
  if ('problem' in tree) return tree;
  tree.append(hash);
  return { body, tree, checkpoint, nextOffset: (BigInt(body.checkpointOffset) + 1n).toString() };
}

/** The tree the snapshot's frontier gives, when its root is the checkpoint's. */
function frontierTree(body: SnapshotBody, rootHash: Hash): MerkleTree | { readonly problem: string } {
  let tree: MerkleTree;
  try {
    tree = MerkleTree.fromCompactRange(body.treeSize, body.frontier);
  } catch (error) {
    return { problem: `the snapshot frontier: ${(error as Error).message}` };
  }
  if (tree.root() !== rootHash) return { problem: "the snapshot frontier does not give the checkpoint's root" };
  return tree;
}

function fromBase64Root(text: string): Hash | null {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(text)) return null;
  return bytesToHex(Uint8Array.from(atob(text), (char) => char.charCodeAt(0)));
}

/**
 * Checks a stored snapshot by itself, without the topic: its body, and its note signed by the
 * key over that body and a checkpoint whose root the frontier gives. What it does not show is
 * that the topic holds that checkpoint at the offset named: the caller holds the checkpoint's
 * hash against a record it verified itself (the verifier's follower), or reads it (checkSnapshot).
 */
export function checkSnapshotNote(
  snapshot: SignedSnapshot,
  context: { readonly ledgerId: string; readonly partition: number; readonly verifier: CheckpointVerifier },
): { readonly checkpoint: Checkpoint; readonly tree: MerkleTree } | { readonly problem: string } {
  const { body, note } = snapshot;
  const problem = bodyProblem(body, context.ledgerId, context.partition);
  if (problem) return { problem };
  const text = `${note.split('\n\n')[0] ?? ''}\n`;
  const lines = text.split('\n');
  const [origin, size, root, head, time, line] = lines;
  const rootHash = fromBase64Root(root ?? '');
  if (
    lines.length !== 7 ||
    size !== String(body.treeSize) ||
    !rootHash ||
    !head?.startsWith('head ') ||
    !time?.startsWith('time ')
  ) {
    return { problem: 'the snapshot note does not state a checkpoint of its tree size' };
  }
  if (line !== `snapshot ${snapshotHash(body)}`) return { problem: 'the snapshot note does not sign this body' };
  const checkpoint: Checkpoint = {
    origin: origin ?? '',
    treeSize: body.treeSize,
    rootHash,
    headHash: head.slice(5),
    time: time.slice(5),
  };
  if (snapshotNoteText(checkpoint, body) !== text) return { problem: 'the snapshot note is not in canonical form' };
  const noteProblem = context.verifier.problemWithNote(note, text);
  if (noteProblem) return { problem: `the snapshot note: ${noteProblem}` };
  const tree = frontierTree(body, rootHash);
  return 'problem' in tree ? tree : { checkpoint, tree };
}

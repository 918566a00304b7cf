import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSignedCheckpoint } from '../ledger/chain-verifier.js';
import { type CheckpointVerifier, checkpointOrigin, type SignedCheckpoint } from '../ledger/checkpoint-note.js';

/**
 * A witness keeps the latest checkpoint of each partition outside Kafka and outside the
 * database (docs/attestation-format.md §5). It only ever moves forward: a checkpoint of a
 * smaller tree than the one it holds is refused, and so is another root for the same size. A
 * verifier then holds the ledger against what the witness saw: a topic truncated back to an
 * older state, or rewritten from genesis, no longer reaches the witnessed tree, even when the
 * writer's key leaked.
 */
export interface Witness {
  /** Where the checkpoints go, for logs and reports. */
  readonly description: string;
  /** Hands the witness a checkpoint; it keeps it if it moves the partition forward. */
  publish(partition: number, checkpoint: SignedCheckpoint): Promise<void>;
  /** The latest checkpoint the witness holds for the partition, or null. */
  latest(partition: number): Promise<SignedCheckpoint | null>;
}

/** A checkpoint the witness refuses: it would move the partition backwards or sideways. */
export class WitnessRefusedError extends Error {
  override name = 'WitnessRefusedError';
}

/** Why a witness must refuse `next` when it holds `held`, or undefined when it may keep it. */
export function witnessRefusal(
  held: SignedCheckpoint | null,
  next: unknown,
  key: CheckpointVerifier,
  origin: string,
): string | undefined {
  if (!isSignedCheckpoint(next)) return 'not a signed checkpoint';
  // Checkpoints are public: anyone may hand one in, so it must be this partition's own.
  if (next.origin !== origin) return `the checkpoint is of ${next.origin}, not ${origin}`;
  const problem = key.problemWith(next);
  if (problem) return `the checkpoint does not verify: ${problem}`;
  if (held === null) return undefined;
  if (next.treeSize < held.treeSize) {
    return `the checkpoint's tree of size ${next.treeSize} is smaller than the witnessed ${held.treeSize}`;
  }
  if (next.treeSize === held.treeSize && next.rootHash !== held.rootHash) {
    return `the checkpoint's tree of size ${next.treeSize} has another root than the witnessed one`;
  }
  return undefined;
}

/**
 * A witness in a directory (a mounted volume another party controls, a synced bucket): the
 * latest checkpoint of each partition in `<dir>/<ledgerId>/<partition>/latest.json`, and every
 * checkpoint it kept appended to `history.jsonl` beside it.
 */
export class DirectoryWitness implements Witness {
  readonly description: string;

  constructor(
    private readonly directory: string,
    private readonly ledgerId: string,
    private readonly key: CheckpointVerifier,
  ) {
    this.description = `directory ${directory}`;
  }

  private folder(partition: number): string {
    return join(this.directory, this.ledgerId, String(partition));
  }

  async latest(partition: number): Promise<SignedCheckpoint | null> {
    try {
      return JSON.parse(await readFile(join(this.folder(partition), 'latest.json'), 'utf8')) as SignedCheckpoint;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async publish(partition: number, checkpoint: SignedCheckpoint): Promise<void> {
    const held = await this.latest(partition);
    const refusal = witnessRefusal(held, checkpoint, this.key, checkpointOrigin(this.ledgerId, partition));
    if (refusal) throw new WitnessRefusedError(refusal);
    if (held?.treeSize === checkpoint.treeSize) return;
    const folder = this.folder(partition);
    await mkdir(folder, { recursive: true });
    const text = JSON.stringify(checkpoint);
    await appendFile(join(folder, 'history.jsonl'), `${text}\n`);
    // Replaced atomically: a reader sees the old checkpoint or the new one, never half of one.
    const temporary = join(folder, `latest.json.${process.pid}.tmp`);
    await writeFile(temporary, `${text}\n`);
    await rename(temporary, join(folder, 'latest.json'));
  }
}

/**
 * A witness behind HTTP (a witness server: `npm run witness`, src/tools/witness-server.ts):
 * `POST <url>/<ledgerId>/<partition>` with the signed checkpoint, `GET` the same path for the
 * latest one (404: none yet). The server checks every checkpoint itself before it keeps it.
 */
export class HttpWitness implements Witness {
  readonly description: string;

  constructor(
    private readonly url: string,
    private readonly ledgerId: string,
    private readonly timeoutMs = 2_000,
  ) {
    this.description = `HTTP ${url}`;
  }

  private endpoint(partition: number): string {
    return `${this.url.replace(/\/$/, '')}/${encodeURIComponent(this.ledgerId)}/${partition}`;
  }

  async latest(partition: number): Promise<SignedCheckpoint | null> {
    const response = await fetch(this.endpoint(partition), { signal: AbortSignal.timeout(this.timeoutMs) });
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(`the witness answered ${response.status}`);
    return (await response.json()) as SignedCheckpoint;
  }

  async publish(partition: number, checkpoint: SignedCheckpoint): Promise<void> {
    const response = await fetch(this.endpoint(partition), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(checkpoint),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (response.status === 409) throw new WitnessRefusedError(await response.text());
    if (!response.ok) throw new Error(`the witness answered ${response.status}`);
  }
}

/**
 * In-memory fakes of the ledger core's own ports (PartitionLog, GenesisPins, Clock), for unit
 * tests of the writer and the verifier. Integration tests use the Kafka and PostgreSQL adapters.
 */
import type { CheckpointSigner, CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import type { Hash } from '../../src/ledger/hashing.js';
import { LedgerIntegrityError } from '../../src/ledger/ledger-errors.js';
import { PartitionWriter } from '../../src/ledger/partition-writer.js';
import type { LedgerFeed } from '../../src/ledger/ports.js';
import type { LedgerFollower } from '../../src/verification/ledger-follower.js';
import type { LedgerSource } from '../../src/verification/partition-scan.js';
import { ProductVerifier } from '../../src/verification/product-verifier.js';
import type { Clock, GenesisPins, LogEntry, PartitionLog, StoredEntry } from '../../src/ledger/ports.js';

export class MemoryPartitionLog implements PartitionLog {
  readonly entries: { offset: string; entry: LogEntry }[] = [];
  transactions = 0;
  /** When set, the next readAll fails with it. */
  failNextRead: Error | null = null;
  /** When set, the next appendTransaction fails with it and appends nothing. */
  failNext: Error | null = null;
  /** When set, the next appendTransaction appends (or not) and then throws, as a lost answer. */
  loseAnswerNext: { committed: boolean; error: Error } | null = null;
  /** Times open() was called (a fenced writer opens again to take the partition back). */
  opens = 0;
  /** Where the writer's next transaction must land (the Kafka log's check, without markers). */
  private expectedNext: number | null = null;

  constructor(readonly partition = 0) {}

  open(): Promise<void> {
    this.opens += 1;
    this.expectedNext = null;
    return Promise.resolve();
  }

  async *readAll(from = '0'): AsyncIterable<StoredEntry> {
    this.expectedNext = null;
    if (this.failNextRead) {
      const failure = this.failNextRead;
      this.failNextRead = null;
      throw failure;
    }
    const entries = [...this.entries];
    for (const { offset, entry } of entries) {
      if (BigInt(offset) < BigInt(from)) continue;
      await Promise.resolve();
      yield { offset, value: entry.value };
    }
    this.expectedNext = entries.length;
  }

  appendTransaction(entries: readonly LogEntry[]): Promise<string[]> {
    if (this.failNext) {
      const failure = this.failNext;
      this.failNext = null;
      this.expectedNext = null;
      return Promise.reject(failure);
    }
    if (this.expectedNext !== null && this.expectedNext !== this.entries.length) {
      return Promise.reject(
        new LedgerIntegrityError(`the log holds records this writer did not write (from ${this.expectedNext})`),
      );
    }
    const lost = this.loseAnswerNext;
    this.loseAnswerNext = null;
    if (lost && !lost.committed) {
      this.expectedNext = null;
      return Promise.reject(lost.error);
    }
    this.transactions += 1;
    const offsets = entries.map((entry) => this.push(entry));
    this.expectedNext = lost ? null : this.entries.length;
    return lost ? Promise.reject(lost.error) : Promise.resolve(offsets);
  }

  /** A record appended by someone other than the writer (an attacker, a stray producer). */
  appendFromOutside(entry: LogEntry): string {
    return this.push(entry);
  }

  end(): Promise<string> {
    return Promise.resolve(String(this.entries.length));
  }

  private push(entry: LogEntry): string {
    const offset = String(this.entries.length);
    this.entries.push({ offset, entry });
    return offset;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The stored values as (offset, bytes), for feeding a verifier. */
  values(): StoredEntry[] {
    return this.entries.map(({ offset, entry }) => ({ offset, value: entry.value }));
  }
}

export class MemoryGenesisPins implements GenesisPins {
  readonly pins = new Map<string, Hash>();

  get(ledgerId: string, partition: number): Promise<Hash | null> {
    return Promise.resolve(this.pins.get(`${ledgerId}/${partition}`) ?? null);
  }

  pin(ledgerId: string, partition: number, hash: Hash): Promise<void> {
    if (!this.pins.has(`${ledgerId}/${partition}`)) this.pins.set(`${ledgerId}/${partition}`, hash);
    return Promise.resolve();
  }
}

/**
 * Waits until a writer's status is 'open' again (after an outage it reads its partition back
 * in the background) and returns the status; gives up after `timeoutMs`.
 */
export async function untilOpen(status: () => string | undefined, timeoutMs = 2000): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (status() !== 'open' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  return status();
}

/** A clock that advances one second per reading, from a fixed start. */
/**
 * Lets a writer over a MemoryPartitionLog finish what it is doing (its transactions resolve at
 * once, but its pipeline ends a few promise turns after its callers are answered): appends made
 * after it start a new batch, the first of them alone.
 */
export function writerIdle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function steppingClock(start = '2026-11-26T08:00:00.000Z'): Clock {
  let t = Date.parse(start);
  return {
    now: () => {
      const now = new Date(t);
      t += 1000;
      return now;
    },
  };
}

/** Deterministic UUIDs (version 4 layout) for reproducible records. */
export function sequentialIds(prefix = 0): () => string {
  let n = 0;
  return () => {
    n += 1;
    const hex = (prefix * 1_000_000 + n).toString(16).padStart(12, '0');
    return `00000000-0000-4000-8000-${hex}`;
  };
}

/** A partition writer on a memory log, started, with a stepping clock and reproducible ids. */
export async function startMemoryWriter(
  ledgerId: string,
  signer: CheckpointSigner,
  options: { maxBatch?: number; idPrefix?: number } = {},
): Promise<{ writer: PartitionWriter; log: MemoryPartitionLog }> {
  const log = new MemoryPartitionLog();
  const writer = new PartitionWriter({
    ledgerId,
    partition: 0,
    partitions: 1,
    signer,
    log,
    pins: new MemoryGenesisPins(),
    clock: steppingClock(),
    maxBatch: options.maxBatch ?? 100,
    newEventId: sequentialIds(options.idPrefix ?? 9),
  });
  await writer.start();
  return { writer, log };
}

/**
 * A product verifier over entries in memory, with no witness and no read model, at a fixed
 * time: what the unit tests and the attestation vectors check bundles of.
 */
export function memoryProductVerifier(
  ledgerId: string,
  ledgerKey: CheckpointVerifier,
  attestationSigner: CheckpointSigner,
  entries: readonly StoredEntry[],
  options: { readonly source?: LedgerSource; readonly follower?: LedgerFollower | null } = {},
): ProductVerifier {
  return new ProductVerifier({
    source: options.source ?? {
      ledgerId,
      partitions: 1,
      ledgerKey,
      genesisPin: () => Promise.resolve(null),
      read: () => entries,
    },
    follower: options.follower ?? null,
    signer: attestationSigner,
    witness: null,
    readModel: null,
    clock: { now: () => new Date('2026-11-26T12:00:00.000Z') },
    readModelWaitMs: 0,
  });
}

/**
 * A LedgerFeed over a memory log: delivers what the log holds beyond each partition's position,
 * polling every millisecond, until stopped. `paused` holds deliveries back; `redeliver` sends each
 * batch twice.
 */
export class MemoryLedgerFeed implements LedgerFeed {
  paused = false;
  /** Deliver every batch twice, as Kafka may after a rebalance or a failed batch. */
  redeliver = false;
  private running: { stop: () => void } | null = null;

  constructor(private readonly log: MemoryPartitionLog) {}

  async run(
    from: ReadonlyMap<number, string>,
    onBatch: (partition: number, entries: readonly StoredEntry[]) => Promise<void>,
    onProgress?: (partition: number, fetchedTo: string) => void,
  ): Promise<void> {
    let position = Number(from.get(this.log.partition) ?? '0');
    const run = { stopped: false };
    const stopped = () => run.stopped;
    this.running = {
      stop: () => {
        run.stopped = true;
      },
    };
    while (!stopped()) {
      const values = this.log.values();
      if (!this.paused && values.length > position) {
        await onBatch(this.log.partition, values.slice(position));
        if (this.redeliver) await onBatch(this.log.partition, values.slice(position));
        position = values.length;
        onProgress?.(this.log.partition, String(position));
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  seek(): void {
    throw new Error('MemoryLedgerFeed does not seek');
  }

  stop(): Promise<void> {
    this.running?.stop();
    return Promise.resolve();
  }
}

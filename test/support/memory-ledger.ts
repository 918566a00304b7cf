/**
 * In-memory fakes of the ledger core's own ports (PartitionLog, GenesisPins, Clock), for unit
 * tests of the writer and the verifier. Integration tests use the Kafka and PostgreSQL adapters.
 */
import type { CheckpointSigner, CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import type { Hash } from '../../src/ledger/hashing.js';
import { PartitionWriter } from '../../src/ledger/partition-writer.js';
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

  constructor(readonly partition = 0) {}

  open(): Promise<void> {
    return Promise.resolve();
  }

  async *readAll(): AsyncIterable<StoredEntry> {
    if (this.failNextRead) {
      const failure = this.failNextRead;
      this.failNextRead = null;
      throw failure;
    }
    for (const { offset, entry } of [...this.entries]) {
      await Promise.resolve();
      yield { offset, value: entry.value };
    }
  }

  appendTransaction(entries: readonly LogEntry[]): Promise<string[]> {
    if (this.failNext) {
      const failure = this.failNext;
      this.failNext = null;
      return Promise.reject(failure);
    }
    const lost = this.loseAnswerNext;
    this.loseAnswerNext = null;
    if (lost && !lost.committed) return Promise.reject(lost.error);
    this.transactions += 1;
    const offsets = entries.map((entry) => {
      const offset = String(this.entries.length);
      this.entries.push({ offset, entry });
      return offset;
    });
    return lost ? Promise.reject(lost.error) : Promise.resolve(offsets);
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
): ProductVerifier {
  return new ProductVerifier({
    source: { ledgerId, partitions: 1, ledgerKey, genesisPin: () => Promise.resolve(null), read: () => entries },
    signer: attestationSigner,
    witness: null,
    readModel: null,
    stateModel: { evolve: () => undefined },
    clock: { now: () => new Date('2026-11-26T12:00:00.000Z') },
    readModelWaitMs: 0,
  });
}

import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { type DecodeOutcome, type Finding, readDecoded, type RecordReader, type WaitingRecord } from '../chain-verifier.js';
import type { StoredEntry } from '../ports.js';

/** A chunk of values sent to a thread: their bytes one after another, and where each ends. */
export interface DecodeRequest {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly ends: Uint32Array;
}

/** A thread's answer: one outcome per value of the request, in its order. */
export interface DecodeReply {
  readonly id: number;
  readonly outcomes: DecodeOutcome[];
}

interface Waiting {
  readonly resolve: (outcomes: DecodeOutcome[]) => void;
  readonly reject: (error: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  readonly waiting: Map<number, Waiting>;
}

/**
 * A thread's heap, bounded: it holds one chunk of records at a time (a Kafka fetch at most, a few
 * MB), and without a bound V8 would let each thread's heap grow far beyond that between
 * collections, in every process that starts a pool.
 */
const THREAD_HEAP = { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 96 };

/** The worker script: built beside this module, or, for sources run by a transpiling test runner, in the build. */
export function decodeWorkerScript(): URL {
  const beside = new URL('./record-decode-worker.js', import.meta.url);
  if (existsSync(beside)) return beside;
  const built = new URL('../../../dist/src/ledger/adapters/record-decode-worker.js', import.meta.url);
  if (existsSync(built)) return built;
  throw new Error(`the record decoding thread is not built: neither ${beside.pathname} nor ${built.pathname} exists`);
}

/**
 * Worker threads that do step 1 of the verification (docs/ledger-format.md §7: the strict
 * parse, the canonical check and the record hash), which is independent per record, beside the
 * thread that reads and walks the chain: the full audit's, and the application's for its
 * projector and ledger follower. Chunks go to the threads in turn; each answer resolves its own
 * chunk, so a caller that awaits its chunks in the order it sent them reads the outcomes in
 * offset order. A thread that fails fails every chunk the pool holds, and the pool starts new
 * threads at the next chunk: for the audit that is an audit that could not run, for a projector
 * a batch to retry, never a verdict. The threads start at the first chunk and end at close(),
 * after which the next chunk starts them again.
 */
export class RecordDecodePool implements RecordReader {
  private threads: Thread[] = [];
  private turn = 0;
  private nextId = 0;

  private constructor(
    readonly size: number,
    private readonly script: URL,
  ) {}

  static start(threads: number, script: URL = decodeWorkerScript()): RecordDecodePool {
    if (!Number.isSafeInteger(threads) || threads < 1) throw new Error(`a decoding pool needs 1 or more threads, not ${threads}`);
    return new RecordDecodePool(threads, script);
  }

  /** readRecord of each entry, its decoding done in one of the threads. */
  async read(entries: readonly StoredEntry[]): Promise<(WaitingRecord | Finding)[]> {
    if (entries.length === 0) return [];
    const outcomes = await this.decode(entries.map((entry) => entry.value));
    return entries.map((entry, i) => readDecoded(entry.offset, entry.value, outcomes[i] as DecodeOutcome));
  }

  /** decodeOutcome of each value, computed in one of the threads. */
  private decode(values: readonly Uint8Array[]): Promise<DecodeOutcome[]> {
    let total = 0;
    for (const value of values) total += value.length;
    const bytes = new Uint8Array(total);
    const ends = new Uint32Array(values.length);
    let at = 0;
    values.forEach((value, i) => {
      bytes.set(value, at);
      at += value.length;
      ends[i] = at;
    });
    if (this.threads.length === 0) this.threads = Array.from({ length: this.size }, () => this.startThread());
    const thread = this.threads[this.turn++ % this.threads.length] as Thread;
    const id = this.nextId++;
    return new Promise<DecodeOutcome[]>((resolve, reject) => {
      if (thread.waiting.size === 0) thread.worker.ref();
      thread.waiting.set(id, { resolve, reject });
      thread.worker.postMessage({ id, bytes, ends } satisfies DecodeRequest, [bytes.buffer, ends.buffer]);
    });
  }

  /** Stops the threads; chunks still waiting fail. */
  async close(): Promise<void> {
    await this.stop(new Error('the record decoding pool was closed'));
  }

  private startThread(): Thread {
    const thread: Thread = { worker: new Worker(this.script, { resourceLimits: THREAD_HEAP }), waiting: new Map() };
    thread.worker.on('message', ({ id, outcomes }: DecodeReply) => {
      const waiting = thread.waiting.get(id);
      thread.waiting.delete(id);
      if (thread.waiting.size === 0) thread.worker.unref();
      waiting?.resolve(outcomes);
    });
    thread.worker.on('error', (error) => {
      void this.stop(error);
    });
    thread.worker.on('exit', (code) => {
      if (this.threads.includes(thread)) void this.stop(new Error(`a record decoding thread exited (code ${code})`));
    });
    // An idle pool does not keep the process alive; a thread with chunks to answer does.
    thread.worker.unref();
    return thread;
  }

  private async stop(error: Error): Promise<void> {
    const threads = this.threads;
    this.threads = [];
    for (const thread of threads) {
      for (const waiting of thread.waiting.values()) waiting.reject(error);
      thread.waiting.clear();
    }
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }
}

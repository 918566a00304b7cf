import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { DecodeOutcome } from '../ledger/chain-verifier.js';

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

/** The worker script: built beside this module, or, for sources run by a transpiling test runner, in the build. */
export function decodeWorkerScript(): URL {
  const beside = new URL('./record-decode-worker.js', import.meta.url);
  if (existsSync(beside)) return beside;
  const built = new URL('../../dist/src/verification/record-decode-worker.js', import.meta.url);
  if (existsSync(built)) return built;
  throw new Error(`the audit's decoding thread is not built: neither ${beside.pathname} nor ${built.pathname} exists`);
}

/**
 * Worker threads that decode and hash records for a full audit (docs/attestation-format.md §6):
 * step 1 of the verification is independent per record, so it runs beside the thread that reads
 * Kafka and walks the chain. Chunks go to the threads in turn; each answer resolves its own
 * chunk, so a caller that awaits its chunks in the order it sent them reads the outcomes in
 * offset order. A thread that fails fails every chunk it holds and the pool with it: the audit
 * then could not run, it does not decide a verdict.
 */
export class RecordDecodePool {
  private readonly threads: Thread[];
  private turn = 0;
  private nextId = 0;
  private failure: Error | null = null;

  private constructor(size: number, script: URL) {
    this.threads = Array.from({ length: size }, () => {
      const thread: Thread = { worker: new Worker(script), waiting: new Map() };
      thread.worker.on('message', ({ id, outcomes }: DecodeReply) => {
        const waiting = thread.waiting.get(id);
        thread.waiting.delete(id);
        if (thread.waiting.size === 0) thread.worker.unref();
        waiting?.resolve(outcomes);
      });
      thread.worker.on('error', (error) => {
        this.fail(error);
      });
      thread.worker.on('exit', (code) => {
        this.fail(new Error(`an audit decoding thread exited (code ${code})`));
      });
      // A pool left open does not keep the process alive; a thread with chunks to answer does.
      thread.worker.unref();
      return thread;
    });
  }

  static start(threads: number, script: URL = decodeWorkerScript()): RecordDecodePool {
    if (!Number.isSafeInteger(threads) || threads < 1) throw new Error(`a decoding pool needs 1 or more threads, not ${threads}`);
    return new RecordDecodePool(threads, script);
  }

  get size(): number {
    return this.threads.length;
  }

  /** decodeOutcome of each value, computed in one of the threads. */
  decode(values: readonly Uint8Array[]): Promise<DecodeOutcome[]> {
    if (this.failure) return Promise.reject(this.failure);
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
    this.fail(new Error('the audit decoding pool was closed'));
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const thread of this.threads) {
      for (const waiting of thread.waiting.values()) waiting.reject(this.failure);
      thread.waiting.clear();
    }
  }
}

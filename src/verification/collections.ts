/**
 * The garbage collections of this process, as V8 reports them (`PerformanceObserver` of `gc`
 * entries): an attestation's `Server-Timing` says how much of its time the process spent
 * collecting (PhaseTimings), so a slow one can be told from a slow ledger or database. A
 * collection holds the event loop: it overlaps whatever phase was running, and is not one of them.
 */
import { PerformanceObserver } from 'node:perf_hooks';

/** The newest collections kept (a busy process collects a few times a second; an attestation takes some ms). */
const KEEP = 256;

/** The last `KEEP` collections, as [start, end) in `performance.now()` time. */
export class CollectionLog {
  private readonly starts = new Float64Array(KEEP);
  private readonly ends = new Float64Array(KEEP);
  private next = 0;
  private held = 0;

  add(start: number, duration: number): void {
    this.starts[this.next] = start;
    this.ends[this.next] = start + duration;
    this.next = (this.next + 1) % KEEP;
    this.held = Math.min(this.held + 1, KEEP);
  }

  /** The time, in ms, collections took between `from` and `to` (their parts within). */
  within(from: number, to: number): number {
    let spent = 0;
    for (let i = 0; i < this.held; i++) {
      const start = Math.max(from, this.starts[i] as number);
      const end = Math.min(to, this.ends[i] as number);
      if (end > start) spent += end - start;
    }
    return spent;
  }
}

/** This process's collections, once watchCollections() has started the watch. */
export const collections = new CollectionLog();

let observer: PerformanceObserver | null = null;

/**
 * Starts logging this process's collections into `collections` (once; later calls do nothing).
 * V8 reports a collection shortly after it ends, in a callback of its own: one that ends in
 * the last instant of an attestation may be left out of it.
 */
export function watchCollections(): void {
  if (observer) return;
  observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) collections.add(entry.startTime, entry.duration);
  });
  observer.observe({ entryTypes: ['gc'] });
}

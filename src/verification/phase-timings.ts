import { type CollectionLog, collections, watchCollections } from './collections.js';

/**
 * Where the time of one attestation went, phase by phase, for the `Server-Timing` header of
 * its answer (W3C Server Timing): a client that sees a slow attestation can tell whether the
 * ledger read, the read model or the wait for a turn took it, and how much of the time it saw
 * was spent outside the verifier (the HTTP layer, an event loop busy with other work), and how
 * much of it the process spent collecting garbage (`gc`, across the phases: collections.ts).
 */
export class PhaseTimings {
  private readonly spent = new Map<string, number>();
  private readonly started = performance.now();

  constructor(private readonly collected: CollectionLog = collections) {
    if (collected === collections) watchCollections();
  }

  /** Times `work` under `phase` (added to what the phase took before: a phase may run in several rounds). */
  async time<T>(phase: string, work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      this.add(phase, performance.now() - t0);
    }
  }

  /** Times a synchronous step under `phase`. */
  timeSync<T>(phase: string, work: () => T): T {
    const t0 = performance.now();
    try {
      return work();
    } finally {
      this.add(phase, performance.now() - t0);
    }
  }

  add(phase: string, ms: number): void {
    this.spent.set(phase, (this.spent.get(phase) ?? 0) + ms);
  }

  /**
   * The phases in the order they first ran, then `total` (from this object's creation), then
   * `gc`: the part of the total the process spent collecting garbage, whichever phase it held.
   */
  entries(): [string, number][] {
    const now = performance.now();
    return [...this.spent.entries(), ['total', now - this.started], ['gc', this.collected.within(this.started, now)]];
  }

  /** The `Server-Timing` header's value: `offsets;dur=3.1, view;dur=9.8, …, total;dur=15.2`. */
  header(): string {
    return this.entries()
      .map(([phase, ms]) => `${phase};dur=${ms.toFixed(1)}`)
      .join(', ');
  }
}

/** Parses a `Server-Timing` value as `header()` writes it (benchmarks, tests): phase → ms. */
export function parseServerTiming(value: string | null): Map<string, number> {
  const phases = new Map<string, number>();
  for (const part of (value ?? '').split(',')) {
    const match = /^\s*([\w-]+);dur=([\d.]+)\s*$/.exec(part);
    if (match) phases.set(match[1] as string, Number(match[2]));
  }
  return phases;
}

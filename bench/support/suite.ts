/**
 * The shape every benchmark of `npm run bench` reports in, so that bench/run.ts can write one
 * document (docs/BENCHMARKS.md) and one JSON file (docs/benchmarks.json) from all of them.
 */
import type { Kafka } from 'kafkajs';

/** The median of several runs and how far they spread, so a reader sees how noisy a figure is. */
export interface Measure {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: readonly number[];
}

export interface Table {
  readonly head: readonly string[];
  /** 'r' for figures, 'l' for words. */
  readonly align: readonly ('l' | 'r')[];
  readonly rows: readonly (readonly string[])[];
}

export interface Section {
  readonly id: string;
  readonly title: string;
  /** What is measured and how, in Markdown; constant text, no figures. */
  readonly about: string;
  /** What this run measured on: sizes, counts, versions. */
  readonly setting: string;
  readonly tables: readonly Table[];
  /** Named figures for the targets and the JSON file (unit in the name: …PerSecond, …Ms, …Bytes). */
  readonly figures: Readonly<Record<string, number>>;
  readonly seconds: number;
  /** When this section was measured (a run with --only keeps other sections' earlier results). */
  readonly date: string;
}

/** What a benchmark measures; bench/run.ts adds the rest of its Section. */
export type Measured = Omit<Section, 'id' | 'title' | 'seconds' | 'date'>;

export interface BenchContext {
  /** Small sizes and few runs: a check that everything runs, not figures to publish. */
  readonly quick: boolean;
  readonly kafka: Kafka;
  /** A PostgreSQL server URL on which benchmarks create (and drop) databases of their own. */
  readonly databaseUrl: string;
  readonly progress: (message: string) => void;
}

export interface Benchmark {
  readonly id: string;
  readonly title: string;
  run(context: BenchContext): Promise<Measured>;
}

export function measure(runs: readonly number[]): Measure {
  if (runs.length === 0) throw new Error('a measure of no runs');
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs: [...runs] };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

/** The p-th percentile (nearest rank) of samples in any order. */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** A whole number with thousands separators: 12,345. */
export function whole(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Milliseconds with one decimal below 100, whole above. */
export function ms(n: number): string {
  return n < 100 ? n.toFixed(1) : whole(n);
}

export function ratio(n: number): string {
  return n.toFixed(2);
}

/** "12,345 (11,000–13,020)": a rate's median with the spread of its runs. */
export function rateWithSpread(m: Measure): string {
  return `${whole(m.median)} (${whole(m.min)}–${whole(m.max)})`;
}

/** Runs work `runs` times and returns each run's result. */
export async function repeat<T>(runs: number, work: (run: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let run = 1; run <= runs; run++) results.push(await work(run));
  return results;
}

export const sleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));

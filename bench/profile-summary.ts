/**
 * Where a V8 CPU profile (node --cpu-prof) spent its time: self time by function and by
 * package or source file, as shares of all samples. docs/PERFORMANCE.md quotes its output.
 *
 *   node dist/bench/profile-summary.js CPU.….cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
const file = positionals[0];
if (!file) {
  process.stderr.write('usage: profile-summary <file.cpuprofile> [--top N]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));

/** A package (node_modules/<name>), a source file of ours, node's own, or V8's (GC, idle, program). */
function place(url: string, name: string): string {
  if (!url) return `(${name || 'anonymous'})`;
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (module) return module[1] ?? url;
  if (url.startsWith('node:')) return url;
  const ours = /\/(src|dist)\/(.*)$/.exec(url);
  return ours ? (ours[2] ?? url) : url;
}

const functions = new Map<string, number>();
const places = new Map<string, number>();
for (const id of profile.samples) {
  const node = byId.get(id);
  if (!node) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = place(url, functionName);
  const fn = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
  functions.set(fn, (functions.get(fn) ?? 0) + 1);
  places.set(where, (places.get(where) ?? 0) + 1);
}
const total = profile.samples.length;
const top = Number(values.top);
const show = (title: string, counts: Map<string, number>) => {
  process.stdout.write(`\n${title} (${total} samples)\n`);
  for (const [name, count] of [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((100 * count) / total).toFixed(1).padStart(5)} %  ${name}\n`);
  }
};
show('self time by package or file', places);
show('self time by function', functions);

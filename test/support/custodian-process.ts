/**
 * The built application (dist/src/main.js) as a real process, the way the start command runs
 * it: for tests that send it real signals (SIGTERM, SIGKILL) and watch its memory and handles.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout: the nearest directory above this file with a package.json (from test/support, or from dist/ where the benchmarks run it). */
function checkoutRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(directory, 'package.json'))) {
    const parent = dirname(directory);
    if (parent === directory) throw new Error('no package.json above test/support');
    directory = parent;
  }
  return directory;
}

export const MAIN = join(checkoutRoot(), 'dist/src/main.js');

/** The process's stdout and stderr together; only the last `keep` characters, so a long run does not grow the test. */
export function collect(child: ChildProcess, keep = 1_000_000): { output: () => string } {
  let output = '';
  const add = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > keep) output = output.slice(-keep);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return { output: () => output };
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
}

export interface CustodianProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  output(): string;
  /** Sends the signal and resolves once the process is gone. */
  stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The flags the application runs with, as scripts/start.sh starts it: its heap bounded
 * (CUSTODIAN_HEAP_MB, 640 by default; docs/PERFORMANCE.md#rss-load), no allocation-site
 * pretenuring (docs/PERFORMANCE.md#attestation-10m).
 */
export const APP_NODE_ARGS: readonly string[] = [
  `--max-old-space-size=${process.env.CUSTODIAN_HEAP_MB ?? '640'}`,
  '--no-allocation-site-pretenuring',
];

/**
 * Starts dist/src/main.js with only PATH and `env` (which must set PORT), APP_NODE_ARGS and
 * `nodeArgs` before it (--cpu-prof, …; a flag given again there wins), and resolves once GET /health/ready answers 200; rejects when the process
 * exits first or `timeoutMs` passes.
 */
export async function startCustodianProcess(
  env: Record<string, string>,
  timeoutMs = 60_000,
  nodeArgs: readonly string[] = [],
): Promise<CustodianProcess> {
  const port = env.PORT;
  if (!port || port === '0') throw new Error('startCustodianProcess needs a fixed PORT');
  const child = spawn(process.execPath, [...APP_NODE_ARGS, ...nodeArgs, MAIN], { env: { PATH: process.env.PATH, ...env } });
  const log = collect(child);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`custodian exited during start (${child.exitCode ?? child.signalCode}):\n${log.output().slice(-4000)}`);
    }
    const ready = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (ready === 200) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`custodian was not ready within ${timeoutMs} ms:\n${log.output().slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    pid: child.pid as number,
    url,
    output: log.output,
    async stop(signal) {
      const exit = exited(child);
      child.kill(signal);
      return exit;
    },
  };
}

/** Resident memory, open file descriptors and TCP sockets of a process, from /proc (Linux). */
export interface ProcessUsage {
  readonly rssBytes: number;
  readonly fds: number;
  readonly sockets: number;
}

export function processUsage(pid: number): ProcessUsage {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN);
  let fds = 0;
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    fds += 1;
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets += 1;
    } catch {
      // closed between the listing and the look
    }
  }
  return { rssBytes: rssKb * 1024, fds, sockets };
}

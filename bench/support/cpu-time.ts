/**
 * CPU time of the processes a benchmark shares the machine with, read from /proc: where the two
 * cores went while a load ran. Linux only; a process this machine does not run (a remote broker
 * or database) reads as null.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';

/** Clock ticks a second of /proc's CPU times (USER_HZ: 100 on Linux's every architecture here). */
const TICKS = 100;

/** The processes watched: what runs the ledger, and the load generator (this process). */
export interface Watched {
  readonly app: number;
  readonly broker: number | null;
  readonly postgres: number | null;
}

/** CPU seconds used so far by each, and by the whole machine (busy and idle, all cores). */
export interface CpuReading {
  readonly app: number;
  readonly broker: number | null;
  readonly postgres: number | null;
  readonly bench: number;
  readonly machineBusy: number;
  readonly machineIdle: number;
}

/** user + system seconds of a process, with those of its children it reaped (`withChildren`). */
export function processSeconds(pid: number, withChildren = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command's closing parenthesis; utime is the 14th field of the line.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = (index: number) => Number(fields[index - 3]);
  return (ticks(14) + ticks(15) + (withChildren ? ticks(16) + ticks(17) : 0)) / TICKS;
}

/** Each process's parent, by pid. */
function parents(): Map<number, number> {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // ended between the listing and the read
    }
  }
  return parentOf;
}

/** Each process's pid and command line (its arguments), of those still there when read. */
function* commandLines(): Generator<[number, string[]]> {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      yield [Number(name), readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')];
    } catch {
      // ended between the listing and the read
    }
  }
}

/**
 * The Kafka broker on this machine that listens on `port` (the one scripts/kafka.sh starts, or
 * any `java … kafka.Kafka <server.properties>` whose listeners name the port), if any.
 */
export function findBroker(port: number): number | null {
  for (const [pid, args] of commandLines()) {
    // A broker's java process, not a `grep kafka.Kafka` or a shell that names it.
    const main = args.indexOf('kafka.Kafka');
    if (main < 1 || !/(^|\/)java$/.test(args[0] ?? '')) continue;
    try {
      const properties = readFileSync(args[main + 1] ?? '', 'utf8');
      if (new RegExp(`^listeners=.*:${port}(,|$)`, 'm').test(properties)) return pid;
    } catch {
      // its properties are not readable here: not the broker a benchmark can name
    }
  }
  return null;
}

/**
 * The postmaster of the PostgreSQL server whose data directory is `dataDirectory`, if it runs
 * here: from its postmaster.pid, or, where this user may not read that file (a server run by
 * another user), from its command line (`-D <directory>`), which every user may read.
 */
export function findPostmaster(dataDirectory: string): number | null {
  return postmasterFromPidFile(dataDirectory) ?? postmasterFromCommandLine(dataDirectory);
}

export function postmasterFromPidFile(dataDirectory: string): number | null {
  try {
    const pid = Number(readFileSync(`${dataDirectory}/postmaster.pid`, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null; // another machine's, or a data directory this process may not read
  }
}

export function postmasterFromCommandLine(dataDirectory: string): number | null {
  const wanted = resolve(dataDirectory);
  for (const [pid, args] of commandLines()) {
    const at = args.indexOf('-D');
    const directory = at >= 0 ? args[at + 1] : args.find((arg) => arg.startsWith('--pgdata='))?.slice('--pgdata='.length);
    if (directory !== undefined && resolve(directory) === wanted) return pid;
  }
  return null;
}

/**
 * A server's CPU seconds: the postmaster with the backends it reaped, and those still running.
 * A backend reaped between the two reads would be counted in neither: the reads are made again.
 */
function serverSeconds(postmaster: number): number {
  for (;;) {
    const reaped = processSeconds(postmaster, true);
    let seconds = reaped;
    for (const [pid, parent] of parents()) {
      if (parent !== postmaster) continue;
      try {
        seconds += processSeconds(pid);
      } catch {
        // ended since the listing: reaped now, caught by the check below
      }
    }
    if (processSeconds(postmaster, true) === reaped) return seconds;
  }
}

/** A process's seconds, or null once it is gone (a broker or server that stopped). */
function secondsIfRunning(pid: number | null, read: (pid: number) => number): number | null {
  if (pid === null) return null;
  try {
    return read(pid);
  } catch {
    return null;
  }
}

export function readCpu(watched: Watched): CpuReading {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal ...
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map((field) => Number(field));
  const own = process.cpuUsage();
  return {
    app: processSeconds(watched.app),
    broker: secondsIfRunning(watched.broker, (pid) => processSeconds(pid)),
    postgres: secondsIfRunning(watched.postgres, serverSeconds),
    bench: (own.user + own.system) / 1e6,
    machineBusy: ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS,
    machineIdle: ((idle ?? 0) + (iowait ?? 0)) / TICKS,
  };
}

/** CPU seconds each used between two readings. */
export function cpuBetween(before: CpuReading, after: CpuReading): CpuReading {
  const minus = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);
  return {
    app: after.app - before.app,
    broker: minus(after.broker, before.broker),
    postgres: minus(after.postgres, before.postgres),
    bench: after.bench - before.bench,
    machineBusy: after.machineBusy - before.machineBusy,
    machineIdle: after.machineIdle - before.machineIdle,
  };
}

/** Sums readings (of several runs of one case). */
export function cpuSum(readings: readonly CpuReading[]): CpuReading {
  const add = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);
  return readings.reduce((sum, r) => ({
    app: sum.app + r.app,
    broker: add(sum.broker, r.broker),
    postgres: add(sum.postgres, r.postgres),
    bench: sum.bench + r.bench,
    machineBusy: sum.machineBusy + r.machineBusy,
    machineIdle: sum.machineIdle + r.machineIdle,
  }));
}

export const cores = (): number => cpus().length;

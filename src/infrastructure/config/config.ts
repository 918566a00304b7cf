import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';

/**
 * Custodian's configuration: read from environment variables once, at start-up, validated and
 * typed. Nothing else in the code reads process.env. An invalid value stops the start with a
 * message naming the variable and what is allowed.
 */
export type LogFormat = 'json' | 'text';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose';

export interface CustodianConfig {
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
  };
  readonly log: {
    readonly level: LogLevel;
    readonly format: LogFormat;
  };
  readonly database: {
    readonly url: string;
  };
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
  };
  readonly ledger: {
    readonly id: string;
    readonly topic: string;
    readonly partitions: number;
    readonly replicationFactor: number;
    /** Base64 Ed25519 secret key; when absent, the key file in the data directory is used. */
    readonly signingKey: string | undefined;
    /** Genesis hashes pinned by the operator, by partition. */
    readonly genesis: ReadonlyMap<number, string>;
    readonly maxBatch: number;
    readonly maxBatchBytes: number;
    readonly maxPayloadBytes: number;
    /** A fenced writer looks for an idle partition to take back after this, then at doubling intervals up to the max (ms). */
    readonly reclaimDelayMs: { readonly initial: number; readonly max: number };
    /** Records committed between two writer snapshots, and the longest a record waits for one (docs/ledger-format.md §11). */
    readonly snapshotRecords: number;
    readonly snapshotIntervalMs: number;
    /** Entries of each writer's state kept in memory besides those changed since its last snapshot. */
    readonly stateCacheEntries: number;
  };
  readonly custody: {
    /** How far in the future a step's occurredAt may lie (clocks differ), in milliseconds. */
    readonly occurredAtSkewMs: number;
    /** Most steps one batch capture may hold. */
    readonly maxBatchSteps: number;
  };
  readonly epcis: {
    /** How long POST /capture waits for its job before it answers 202 with the job still running, in milliseconds. */
    readonly captureAnswerWithinMs: number;
  };
  readonly projection: {
    /** Whether this process runs the projector (off when it runs as a process of its own). */
    readonly enabled: boolean;
    /** How long a read that asks for its own write waits for the projection, in milliseconds. */
    readonly readWaitMs: number;
  };
  readonly verification: {
    /** The attestation key (base64 Ed25519 secret); else a key file in the data directory. */
    readonly signingKey: string | undefined;
    /** A directory witness: where checkpoints are published (docs/attestation-format.md §5). */
    readonly witnessDir: string | undefined;
    /** An HTTP witness (a witness server's base URL); WITNESS_DIR wins when both are set. */
    readonly witnessUrl: string | undefined;
    /** How often the latest checkpoints are published to the witness, in milliseconds. */
    readonly witnessIntervalMs: number;
    /** Attestations verified at once (more wait, up to 32). */
    readonly maxConcurrent: number;
    /** Keep a verified view of the ledger by following it, so attestations read only the new tail. */
    readonly follow: boolean;
    /** How long an attestation waits for that view to reach the topic's end before reading the partition itself. */
    readonly followWaitMs: number;
    /** Worker threads a full audit decodes and hashes records in (0: on its own thread). */
    readonly auditThreads: number;
    /** Whether the projector and the ledger follower each decode and hash records in a worker thread (1) or on the application's thread (0). */
    readonly readerThreads: number;
  };
  readonly consumer: {
    /** Requests a minute each client may make of the consumer page's routes (open without a key). */
    readonly rateLimitPerMinute: number;
    /** The origin (and path prefix) a product's Digital Link URI starts with in QR codes; else the request's own. */
    readonly resolverBaseUrl: string | undefined;
  };
  readonly auth: {
    /** The API key file: names, roles, parties and SHA-256 hashes of keys (docs/api.md). */
    readonly apiKeysFile: string;
    /** Whether read-only lookups are open to callers without a key. */
    readonly anonymousReads: boolean;
  };
  /** Several instances of one ledger (docs/scaling.md): Kafka's group places the writers, writes are forwarded to them. */
  readonly cluster: {
    readonly enabled: boolean;
    /** Where this instance listens for writes forwarded by the others (@nestjs/microservices, TCP). */
    readonly host: string;
    readonly port: number;
    /** The host the other instances reach this one at. */
    readonly advertisedHost: string;
    /** How long Kafka waits for a silent instance before its partitions go to the others (ms). */
    readonly sessionTimeoutMs: number;
    /** How long a forwarded write may take before its outcome is unknown (ms). */
    readonly forwardTimeoutMs: number;
  };
  /** Where Custodian keeps local state, such as a generated writer key. */
  readonly dataDir: string;
  readonly health: {
    readonly timeoutMs: number;
  };
}

export type Environment = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];
const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;
// Kafka's own rule for topic names: up to 249 of [a-zA-Z0-9._-].
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const CLIENT_ID = /^[A-Za-z0-9._-]{1,100}$/;
const LEDGER_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** Collects every problem so one failed start names all of them. */
class EnvironmentReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Environment) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      this.problems.push(`${name}=${JSON.stringify(value)}: must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return Number(value);
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push(`${name}=${JSON.stringify(value)}: must be one of ${allowed.join(', ')}`);
      return fallback;
    }
    return value as T;
  }

  matching(name: string, fallback: string, pattern: RegExp, allowed: string): string {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!pattern.test(value)) {
      this.problems.push(`${name}=${JSON.stringify(value)}: must be ${allowed}`);
      return fallback;
    }
    return value;
  }

  list(name: string, fallback: readonly string[], pattern: RegExp, allowed: string): readonly string[] {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const items = value.split(',').map((item) => item.trim());
    const bad = items.filter((item) => !pattern.test(item));
    if (bad.length > 0) {
      this.problems.push(`${name}=${JSON.stringify(value)}: must be a comma-separated list of ${allowed}`);
      return fallback;
    }
    return items;
  }

  optional(name: string, pattern: RegExp, allowed: string): string | undefined {
    const value = this.raw(name);
    if (value !== undefined && !pattern.test(value)) {
      this.problems.push(`${name}: must be ${allowed}`);
      return undefined;
    }
    return value;
  }

  genesis(name: string, partitions: number): ReadonlyMap<number, string> {
    const pins = new Map<number, string>();
    const value = this.raw(name);
    if (value === undefined) return pins;
    for (const item of value.split(',').map((part) => part.trim())) {
      const match = /^(\d+):([0-9a-f]{64})$/.exec(item);
      if (!match || Number(match[1]) >= partitions || pins.has(Number(match[1]))) {
        this.problems.push(
          `${name}: must list partition:hash pairs (64 lowercase hex digits), each partition below ${partitions} once`,
        );
        return new Map();
      }
      pins.set(Number(match[1]), match[2] as string);
    }
    return pins;
  }

  postgresUrl(name: string): string {
    const value = this.raw(name);
    if (value === undefined) {
      this.problems.push(
        `${name} is not set: give a postgres:// URL (the start and test commands provide an embedded server when it is unset)`,
      );
      return '';
    }
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      this.problems.push(`${name}: must be a URL such as postgres://user:password@host:5432/custodian`);
      return '';
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      this.problems.push(`${name}: must use the postgres:// or postgresql:// scheme, not ${url.protocol}//`);
    } else if (url.pathname.length <= 1) {
      this.problems.push(`${name}: must name a database, as in postgres://host:5432/custodian`);
    }
    return value;
  }
}

/** One core is left to the audit's own thread, which reads Kafka and walks the chain; at most four decode. */
export function defaultAuditThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

function readDataDir(read: EnvironmentReader): string {
  return read.matching('CUSTODIAN_DATA_DIR', '.data', /^[^\0]+$/, 'a directory path');
}

function readApiKeysFile(read: EnvironmentReader, dataDir: string): string {
  return read.matching('API_KEYS_FILE', join(dataDir, 'api-keys.json'), /^[^\0]+$/, 'a file path');
}

/** The API key file as the server finds it, for `npm run api-key`, which needs nothing else. */
export function loadApiKeysFile(env: Environment): string {
  const read = new EnvironmentReader(env);
  const file = readApiKeysFile(read, readDataDir(read));
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return file;
}

export function loadConfig(env: Environment): CustodianConfig {
  const read = new EnvironmentReader(env);
  const partitions = read.integer('LEDGER_PARTITIONS', 1, 1, 1024);
  const dataDir = readDataDir(read);
  const http = {
    host: read.matching('HOST', '127.0.0.1', /^[A-Za-z0-9.:-]+$/, 'a host name or IP address'),
    port: read.integer('PORT', 3000, 0, 65535),
    bodyLimitBytes: read.integer('HTTP_BODY_LIMIT_BYTES', 1_048_576, 1024, 104_857_600),
  };
  const cluster = readCluster(read, http);
  const config: CustodianConfig = {
    http,
    log: {
      level: read.oneOf('LOG_LEVEL', 'log', LOG_LEVELS),
      format: read.oneOf('LOG_FORMAT', 'json', LOG_FORMATS),
    },
    database: { url: read.postgresUrl('DATABASE_URL') },
    kafka: {
      brokers: read.list('KAFKA_BROKERS', ['127.0.0.1:19092'], HOST_PORT, 'host:port'),
      clientId: read.matching('KAFKA_CLIENT_ID', 'custodian', CLIENT_ID, 'up to 100 of A-Z a-z 0-9 . _ -'),
    },
    ledger: {
      id: read.matching('LEDGER_ID', 'custodian', LEDGER_ID, 'up to 100 of A-Z a-z 0-9 . _ -'),
      topic: read.matching('LEDGER_TOPIC', 'custodian.ledger', TOPIC, 'a Kafka topic name: up to 249 of A-Z a-z 0-9 . _ -'),
      partitions,
      replicationFactor: read.integer('LEDGER_REPLICATION_FACTOR', 1, 1, 16),
      signingKey: read.optional(
        'LEDGER_SIGNING_KEY',
        /^[A-Za-z0-9+/]{43}=$/,
        'a 32-byte Ed25519 secret key in base64 (44 characters)',
      ),
      genesis: read.genesis('LEDGER_GENESIS', partitions),
      maxBatch: read.integer('LEDGER_MAX_BATCH', 500, 1, 10_000),
      maxBatchBytes: read.integer('LEDGER_MAX_BATCH_BYTES', 2_000_000, 65_536, 100_000_000),
      maxPayloadBytes: read.integer('LEDGER_MAX_PAYLOAD_BYTES', 65_536, 256, 1_048_576),
      reclaimDelayMs: {
        initial: read.integer('LEDGER_RECLAIM_DELAY_MS', 1000, 10, 600_000),
        max: read.integer('LEDGER_RECLAIM_MAX_DELAY_MS', 30_000, 10, 3_600_000),
      },
      // Several instances: a writer that moves verifies the tail after its last snapshot on the
      // takeover's path, so snapshots are taken more often (docs/scaling.md §2).
      snapshotRecords: read.integer('LEDGER_SNAPSHOT_RECORDS', cluster.enabled ? 2000 : 10_000, 10, 1_000_000),
      snapshotIntervalMs: read.integer('LEDGER_SNAPSHOT_INTERVAL_MS', cluster.enabled ? 10_000 : 60_000, 100, 86_400_000),
      stateCacheEntries: read.integer('LEDGER_STATE_CACHE_ENTRIES', 100_000, 100, 10_000_000),
    },
    custody: {
      occurredAtSkewMs: read.integer('CUSTODY_OCCURRED_AT_SKEW_SECONDS', 300, 0, 86_400) * 1000,
      maxBatchSteps: read.integer('CUSTODY_MAX_BATCH_STEPS', 1000, 1, 10_000),
    },
    epcis: {
      captureAnswerWithinMs: read.integer('EPCIS_CAPTURE_ANSWER_WITHIN_MS', 10_000, 0, 600_000),
    },
    projection: {
      enabled: read.oneOf('PROJECTOR_ENABLED', 'true', ['true', 'false']) === 'true',
      readWaitMs: read.integer('READ_WAIT_TIMEOUT_MS', 2000, 0, 60_000),
    },
    verification: {
      signingKey: read.optional(
        'VERIFIER_SIGNING_KEY',
        /^[A-Za-z0-9+/]{43}=$/,
        'a 32-byte Ed25519 secret key in base64 (44 characters)',
      ),
      witnessDir: read.optional('WITNESS_DIR', /^[^\0]+$/, 'a directory path'),
      witnessUrl: read.optional('WITNESS_URL', /^https?:\/\/[^\s]+$/, 'an http(s) URL'),
      witnessIntervalMs: read.integer('WITNESS_INTERVAL_MS', 5000, 100, 3_600_000),
      maxConcurrent: read.integer('VERIFIER_MAX_CONCURRENT', 2, 1, 64),
      follow: read.oneOf('VERIFIER_FOLLOW', 'true', ['true', 'false']) === 'true',
      followWaitMs: read.integer('VERIFIER_FOLLOW_WAIT_MS', 5000, 0, 600_000),
      auditThreads: read.integer('AUDIT_THREADS', defaultAuditThreads(), 0, 64),
      // At most one: the projector and the follower each take one batch at a time (a second thread would idle).
      // Off by default: it costs memory (docs/PERFORMANCE.md) for no throughput measured on two cores.
      readerThreads: read.integer('READER_THREADS', 0, 0, 1),
    },
    consumer: {
      rateLimitPerMinute: read.integer('CONSUMER_RATE_LIMIT_PER_MINUTE', 60, 1, 100_000),
      resolverBaseUrl: read
        .optional('RESOLVER_BASE_URL', /^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?(?:\/[^\s?#]*)?$/, 'an http(s) URL without query')
        ?.replace(/\/+$/, ''),
    },
    auth: {
      apiKeysFile: readApiKeysFile(read, dataDir),
      anonymousReads: read.oneOf('AUTH_ANONYMOUS_READS', 'false', ['true', 'false']) === 'true',
    },
    cluster,
    dataDir,
    health: { timeoutMs: read.integer('HEALTH_TIMEOUT_MS', 2000, 100, 60_000) },
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}

/** CLUSTER_*: off by default; the forwarding port is PORT + 1000 unless set. */
function readCluster(read: EnvironmentReader, { host, port }: { host: string; port: number }): CustodianConfig['cluster'] {
  const enabled = read.oneOf('CLUSTER_ENABLED', 'false', ['true', 'false']) === 'true';
  const clusterPort = read.integer('CLUSTER_PORT', port === 0 ? 0 : port + 1000 <= 65535 ? port + 1000 : port - 1000, 0, 65535);
  if (enabled && clusterPort === 0) read.problems.push('CLUSTER_PORT: set a port for forwarded writes (PORT is 0)');
  const clusterHost = read.matching('CLUSTER_HOST', host, /^[A-Za-z0-9.:-]+$/, 'a host name or IP address');
  return {
    enabled,
    host: clusterHost,
    port: clusterPort,
    // Listening on every interface (a container): the others reach it by its host name.
    advertisedHost: read.matching(
      'CLUSTER_ADVERTISED_HOST',
      clusterHost === '0.0.0.0' || clusterHost === '::' ? hostname() : clusterHost,
      /^[A-Za-z0-9.:-]+$/,
      'a host name or IP address',
    ),
    sessionTimeoutMs: read.integer('CLUSTER_SESSION_TIMEOUT_MS', 3000, 1000, 300_000),
    forwardTimeoutMs: read.integer('CLUSTER_FORWARD_TIMEOUT_MS', 10_000, 1000, 600_000),
  };
}

/** The database URL with its password masked, for logs and start-up messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}

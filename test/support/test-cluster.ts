/**
 * Several processes of the built application on one ledger, database and data directory, with
 * CLUSTER_ENABLED (docs/scaling.md): the set-up the cluster reliability tests share. Each
 * instance listens on ports of its own; `instances[i]` is null while instance i is down.
 */
import { type CustodianProcess, startCustodianProcess } from './custodian-process.js';
import { CustodyClient, type TestKey, writeApiKeys } from './custody-api.js';
import { reserveTestDatabase, type TestDatabase, testDataDir, testKafkaBrokers, uniqueName } from './environment.js';
import { freePort } from './test-stack.mjs';

interface Readiness {
  info?: { cluster?: { writes?: number[] } };
}

export interface TestCluster {
  readonly database: TestDatabase;
  readonly keys: Record<string, string>;
  readonly topic: string;
  readonly ledgerId: string;
  /** The running process of each instance; null while it is down (a test sets it when it kills one). */
  readonly instances: (CustodianProcess | null)[];
  /** Starts instance i (again) with its own environment. */
  start(i: number): Promise<void>;
  alive(): number[];
  client(i: number): CustodyClient;
  /** The partitions each running instance says it writes (its readiness). */
  writes(): Promise<Map<number, number[]>>;
  /** Kills every process ever started (a frozen one too) and drops the database. */
  close(): Promise<void>;
}

export async function startTestCluster(options: {
  readonly instances: number;
  readonly keys: readonly TestKey[];
  /** What the ledger is named after (its topic and id). */
  readonly name: string;
  readonly env?: Record<string, string>;
}): Promise<TestCluster> {
  const database = reserveTestDatabase();
  // One data directory: the instances share the ledger's checkpoint key (it is one writer's key).
  const dataDir = testDataDir();
  const file = writeApiKeys(dataDir, options.keys);
  const topic = uniqueName(`custodian.ledger.${options.name}`);
  const ledgerId = uniqueName(options.name);
  const shared = {
    DATABASE_URL: database.url,
    KAFKA_BROKERS: testKafkaBrokers(),
    LEDGER_TOPIC: topic,
    LEDGER_ID: ledgerId,
    CUSTODIAN_DATA_DIR: dataDir,
    API_KEYS_FILE: file.file,
    CLUSTER_ENABLED: 'true',
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  const envs: Record<string, string>[] = [];
  const instances: (CustodianProcess | null)[] = [];
  const spawned: CustodianProcess[] = [];
  const cluster: TestCluster = {
    database,
    keys: file.keys,
    topic,
    ledgerId,
    instances,
    async start(i) {
      const instance = await startCustodianProcess(envs[i] as Record<string, string>);
      spawned.push(instance);
      instances[i] = instance;
    },
    alive: () => instances.flatMap((instance, i) => (instance ? [i] : [])),
    client: (i) => new CustodyClient((instances[i] as CustodianProcess).url),
    async writes() {
      const writes = new Map<number, number[]>();
      for (const i of cluster.alive()) {
        const { body } = await cluster.client(i).request<Readiness>('GET', '/health/ready');
        writes.set(i, body.info?.cluster?.writes ?? []);
      }
      return writes;
    },
    async close() {
      for (const instance of spawned) {
        if (instance.child.exitCode === null && instance.child.signalCode === null) await instance.stop('SIGKILL');
      }
      await database.drop();
    },
  };
  for (let i = 0; i < options.instances; i++) {
    envs.push({ ...shared, PORT: String(await freePort()), CLUSTER_PORT: String(await freePort()) });
    await cluster.start(i);
  }
  return cluster;
}

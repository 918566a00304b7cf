import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readVerifiedPartition } from '../../src/ledger/adapters/kafka-ledger-reader.js';
import { CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import { GENESIS_EVENT, type StoredRecord } from '../../src/ledger/ledger-record.js';
import { partitionOf } from '../../src/ledger/partitioning.js';
import { type CustodianProcess, startCustodianProcess } from '../support/custodian-process.js';
import { CustodyClient, gln, gtin, type RecordedStep, sgtin, shipmentId, sscc, writeApiKeys } from '../support/custody-api.js';
import { reserveTestDatabase, type TestDatabase, testDataDir, testKafkaBrokers, uniqueName } from '../support/environment.js';
import { testKafka } from '../support/ledger-harness.js';
import { freePort } from '../support/test-stack.mjs';

const MAKER = gln(91);
const SITE = gln(92);
const PARTITIONS = 3;
const G = gtin(9001);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Readiness {
  info?: { cluster?: { writes?: number[] } };
}

// Three instances, three ledger partitions: the group spreads the writers, one to each; a step
// goes to its partition's instance whichever instance it reached; a dead instance's partition
// moves to one of the others.
describe(`three instances of a ledger of ${PARTITIONS} partitions`, () => {
  let database: TestDatabase;
  let key: string;
  let topic: string;
  let ledgerId: string;
  const envs: Record<string, string>[] = [];
  const instances: (CustodianProcess | null)[] = [];
  const spawned: CustodianProcess[] = [];

  const start = async (i: number) => {
    const instance = await startCustodianProcess(envs[i] as Record<string, string>);
    spawned.push(instance);
    instances[i] = instance;
  };
  const alive = () => instances.flatMap((instance, i) => (instance ? [i] : []));
  const client = (i: number) => new CustodyClient((instances[i] as CustodianProcess).url);
  /** Which partitions each running instance writes, once every partition is written by one of them. */
  const placement = async (): Promise<Map<number, number[]>> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const writes = new Map<number, number[]>();
      for (const i of alive()) {
        const { body } = await client(i).request<Readiness>('GET', '/health/ready');
        writes.set(i, body.info?.cluster?.writes ?? []);
      }
      const all = [...writes.values()].flat().sort();
      if (all.join() === '0,1,2') return writes;
      if (Date.now() > deadline) throw new Error(`the partitions were not placed: ${JSON.stringify([...writes])}`);
      await sleep(100);
    }
  };
  const commission = (serial: string) => ({
    gtin: G,
    serial,
    name: 'Widget',
    owner: MAKER,
    location: SITE,
    occurredAt: '2026-11-01T08:00:00Z',
  });

  beforeAll(async () => {
    database = reserveTestDatabase();
    const dataDir = testDataDir();
    const file = writeApiKeys(dataDir, [{ name: 'maker', role: 'operator', party: MAKER }]);
    key = file.keys.maker as string;
    topic = uniqueName('custodian.ledger.partitions');
    ledgerId = uniqueName('partitions');
    const shared = {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers(),
      LEDGER_TOPIC: topic,
      LEDGER_ID: ledgerId,
      LEDGER_PARTITIONS: String(PARTITIONS),
      CUSTODIAN_DATA_DIR: dataDir,
      API_KEYS_FILE: file.file,
      CLUSTER_ENABLED: 'true',
      LOG_LEVEL: 'warn',
    };
    for (let i = 0; i < 3; i++) {
      envs.push({ ...shared, PORT: String(await freePort()), CLUSTER_PORT: String(await freePort()) });
      await start(i);
    }
  });

  afterAll(async () => {
    for (const instance of spawned) {
      if (instance.child.exitCode === null && instance.child.signalCode === null) await instance.stop('SIGKILL');
    }
    await database.drop();
  });

  it('spreads the writers, records each step in its own partition from any instance, and moves a dead instance’s partition', async () => {
    const spread = await placement();
    expect([...spread.values()].map((partitions) => partitions.length).sort()).toEqual([1, 1, 1]);

    const acknowledged: RecordedStep[] = [];
    let n = 0;
    const round = async (count: number) => {
      for (let k = 0; k < count; k++, n++) {
        const at = alive()[n % alive().length] as number;
        const response = await client(at).request<RecordedStep>('POST', '/products', {
          key,
          idempotencyKey: `partitions-${n}`,
          body: commission(`P-${n}`),
        });
        expect(response.status === 201 ? 201 : response.body).toBe(201);
        expect(response.body.receipt.partition).toBe(partitionOf(response.body.subject, PARTITIONS));
        acknowledged.push(response.body);
      }
    };
    await round(30);
    expect(new Set(acknowledged.map((step) => step.receipt.partition))).toEqual(new Set([0, 1, 2]));

    // Packing products of other partitions into a shipment is refused where it arrives, as one instance refuses it.
    const products = acknowledged.map((step) => step.subject);
    const shipment = shipmentId(sscc(9001));
    const mixed = products.filter((id) => partitionOf(id, PARTITIONS) !== partitionOf(shipment, PARTITIONS)).slice(0, 2);
    const refused = await client(alive()[0] as number).request('POST', '/shipments/pack', {
      key,
      body: { shipment, products: mixed, party: MAKER, location: SITE, occurredAt: '2026-11-01T09:00:00Z' },
    });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body)).toMatch(/different partitions/);

    // The instance writing partition 0 dies: its partition goes to one of the two others, the others keep theirs.
    const victim = [...spread.entries()].find(([, partitions]) => partitions.includes(0))![0];
    await (instances[victim] as CustodianProcess).stop('SIGKILL');
    instances[victim] = null;
    const after = await placement();
    for (const [i, partitions] of spread) if (i !== victim) expect(after.get(i)).toEqual(expect.arrayContaining(partitions));
    await round(30);
    await start(victim);
    await round(15);

    // Every partition one chain, holding exactly its acknowledged steps once.
    const { body: ledgerKey } = await client(alive()[0] as number).request<{ keyName: string; publicKey: string }>(
      'GET',
      '/ledger/public-key',
    );
    const verifier = new CheckpointVerifier(ledgerKey.keyName, Uint8Array.from(Buffer.from(ledgerKey.publicKey, 'base64')));
    const kafka = testKafka('custodian-partitions-check');
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const records: StoredRecord[] = [];
      for await (const record of readVerifiedPartition(kafka, topic, { ledgerId, partition, verifier })) records.push(record);
      expect(records.filter((stored) => stored.record.eventType === GENESIS_EVENT)).toHaveLength(1);
      const steps = records.filter((stored) => !stored.record.eventType.startsWith('ledger.'));
      const mine = acknowledged.filter((step) => step.receipt.partition === partition);
      expect(steps.map((stored) => stored.record.eventId).sort()).toEqual(mine.map((step) => step.eventId).sort());
      const byOffset = new Map(steps.map((stored) => [stored.offset, stored]));
      for (const step of mine) expect(byOffset.get(step.receipt.offset)?.hash).toBe(step.receipt.hash);
    }
    expect(sgtin(G, 'P-0')).toBe(acknowledged[0]!.subject);
  }, 240_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readVerifiedPartition } from '../../src/ledger/adapters/kafka-ledger-reader.js';
import { CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import { GENESIS_EVENT, type StoredRecord } from '../../src/ledger/ledger-record.js';
import { partitionOf } from '../../src/ledger/partitioning.js';
import type { CustodianProcess } from '../support/custodian-process.js';
import { gln, gtin, type RecordedStep, sgtin, shipmentId, sscc } from '../support/custody-api.js';
import { testKafka } from '../support/ledger-harness.js';
import { startTestCluster, type TestCluster } from '../support/test-cluster.js';

const MAKER = gln(91);
const SITE = gln(92);
const PARTITIONS = 3;
const G = gtin(9001);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Three instances, three ledger partitions: the group spreads the writers, one to each; a step
// goes to its partition's instance whichever instance it reached; a dead instance's partition
// moves to one of the others.
describe(`three instances of a ledger of ${PARTITIONS} partitions`, () => {
  let cluster: TestCluster;
  let key: string;
  const alive = () => cluster.alive();
  const client = (i: number) => cluster.client(i);
  /** Which partitions each running instance writes, once every partition is written by one of them. */
  const placement = async (): Promise<Map<number, number[]>> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const writes = await cluster.writes();
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
    cluster = await startTestCluster({
      instances: 3,
      keys: [{ name: 'maker', role: 'operator', party: MAKER }],
      name: 'partitions',
      env: { LEDGER_PARTITIONS: String(PARTITIONS) },
    });
    key = cluster.keys.maker as string;
  });

  afterAll(() => cluster.close());

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
    await (cluster.instances[victim] as CustodianProcess).stop('SIGKILL');
    cluster.instances[victim] = null;
    const after = await placement();
    for (const [i, partitions] of spread) if (i !== victim) expect(after.get(i)).toEqual(expect.arrayContaining(partitions));
    await round(30);
    await cluster.start(victim);
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
      for await (const record of readVerifiedPartition(kafka, cluster.topic, { ledgerId: cluster.ledgerId, partition, verifier }))
        records.push(record);
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

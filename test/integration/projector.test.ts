import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { decidedAppend } from '../../src/custody/step-recorder.js';
import type { CustodyCommand } from '../../src/custody/custody-decider.js';
import { custodyStateModel } from '../../src/custody/custody-state.js';
import type { AppendRequest } from '../../src/ledger/ledger-record.js';
import { ProvenanceQueries } from '../../src/provenance/provenance-queries.js';
import { encodeRecord, decodeRecord } from '../../src/ledger/record-codec.js';
import { PostgresReadModels } from '../../src/projection/postgres-read-models.js';
import { RecordDecodePool } from '../../src/ledger/adapters/record-decode-pool.js';
import { PARTIES, productId, recordWorkload, WORKLOAD_GTIN } from '../fixtures/custody-workload.js';
import { reserveTestDatabase, type TestDatabase } from '../support/environment.js';
import { type KafkaLedger, produceRaw, rawValues, settled, startKafkaLedger } from '../support/ledger-harness.js';
import { dumpReadModels, openDatabase, projectedTo, projectorFor } from '../support/projection-harness.js';

describe('the projector on the real broker and database', () => {
  let ledger: KafkaLedger;
  let database: TestDatabase;
  let dataSource: DataSource;
  let end: bigint;

  beforeAll(async () => {
    ledger = await startKafkaLedger({ stateModel: custodyStateModel });
    await recordWorkload(ledger.writer, { events: 3_000, lanes: 5 });
    await settled(ledger);
    end = BigInt(ledger.writer.partitionStats()[0]!.committedEnd!);
    database = reserveTestDatabase();
    dataSource = await openDatabase(database.url);
  });

  afterAll(async () => {
    await ledger.writer.close();
    await dataSource.destroy();
    await database.drop();
  });

  it('projects every record, and a rebuild decoding in worker threads gives the same tables row by row', async () => {
    const projector = projectorFor(ledger, dataSource);
    await projector.start();
    await projectedTo(dataSource, ledger.ledgerId, end);
    await projector.stop();
    const incremental = await dumpReadModels(dataSource);

    const [{ count }] = await dataSource.query<[{ count: number }]>('SELECT count(*)::int AS count FROM custody_events');
    const custodyRecords = (await rawValues(ledger.kafka, ledger.topic)).filter(
      (value) => !decodeRecord(value).record.eventType.startsWith('ledger.'),
    );
    expect(count).toBe(custodyRecords.length);
    const retailerHeld: { n: number }[] = await dataSource.query('SELECT count(*)::int AS n FROM products WHERE holder = $1', [
      PARTIES.retailer,
    ]);
    expect(retailerHeld[0]!.n).toBeGreaterThan(0);
    const [first] = await dataSource.query<Record<string, unknown>[]>('SELECT * FROM products WHERE id = $1', [
      productId(0, 0, 0),
    ]);
    expect(first).toMatchObject({
      gtin: WORKLOAD_GTIN,
      lot: 'LOT-0',
      holder: PARTIES.retailer,
      status: 'active',
      shipment: null,
    });

    await new PostgresReadModels(dataSource, ledger.ledgerId).clear();
    const again = projectorFor(ledger, dataSource, null, RecordDecodePool.start(1));
    await again.start();
    await projectedTo(dataSource, ledger.ledgerId, end);
    await again.stop();
    expect(await dumpReadModels(dataSource)).toEqual(incremental);
  });

  it('quarantines a tampered record with its reason, projects nothing of it, and stops the partition (decoding in a worker thread)', async () => {
    // A copy of a custody record with its location changed, appended by an outsider at the
    // sequence the chain already holds: no checkpoint can ever cover it.
    const values = await rawValues(ledger.kafka, ledger.topic);
    const victim = values.map((value) => decodeRecord(value).record).find((record) => record.eventType === 'custody.handover')!;
    const forged = encodeRecord({ ...victim, payload: { ...victim.payload, location: '0000000000000' } });
    await produceRaw(ledger.kafka, ledger.topic, [forged.bytes]);

    const projector = projectorFor(ledger, dataSource, null, RecordDecodePool.start(1));
    await projector.start();
    const deadline = Date.now() + 30_000;
    while (projector.status()[0]?.status !== 'quarantined' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await projector.stop();
    expect(projector.status()[0]).toMatchObject({
      status: 'quarantined',
      problem: { kind: 'injected', sequence: victim.sequence },
    });
    const quarantined: { kind: string; reason: string; kafka_offset: string }[] = await dataSource.query(
      'SELECT kind, reason, kafka_offset FROM quarantine',
    );
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0]!.reason.length).toBeGreaterThan(10);
    const visible: unknown[] = await dataSource.query(
      "SELECT 1 FROM custody_events WHERE payload->>'location' = '0000000000000'",
    );
    expect(visible).toHaveLength(0);
  });
});

describe('containment over time in the read models', () => {
  it('keeps a product packed when it is unpacked and packed again in one transaction', async () => {
    const ledger = await startKafkaLedger({ stateModel: custodyStateModel });
    const database = reserveTestDatabase();
    const dataSource = await openDatabase(database.url);
    try {
      const product = productId(9, 9, 9);
      const pallet = '/00/106141400000000017';
      let minute = 0;
      const step = (command: CustodyCommand) =>
        decidedAppend(ledger.writer, command, {
          eventId: randomUUID(),
          occurredAt: new Date(Date.UTC(2026, 0, 1, 0, minute++)).toISOString(),
          actor: 'test',
        });
      const { maker, makerSite, dc, dcSite } = PARTIES;
      await ledger.writer.append(await step({ type: 'commission', product, owner: maker, location: makerSite, details: {} }));
      await ledger.writer.append(
        await step({
          type: 'create-shipment',
          shipment: pallet,
          owner: maker,
          location: makerSite,
          destination: dcSite,
          consignee: dc,
        }),
      );
      await ledger.writer.append(
        await step({ type: 'pack', shipment: pallet, products: [product], party: maker, location: makerSite }),
      );
      // Unpacked and packed again: one group, so one transaction and one projected batch.
      const unpack = await step({ type: 'unpack', shipment: pallet, products: [product], party: maker, location: makerSite });
      const repack: AppendRequest = {
        eventId: randomUUID(),
        eventType: 'shipment.packed',
        entityIds: [pallet, product],
        occurredAt: new Date(Date.UTC(2026, 0, 1, 0, minute++)).toISOString(),
        actor: 'test',
        payload: { party: maker, location: makerSite },
      };
      await ledger.writer.appendAll([unpack, repack]);
      await settled(ledger);
      const projector = projectorFor(ledger, dataSource);
      await projector.start();
      await projectedTo(dataSource, ledger.ledgerId, BigInt(ledger.writer.partitionStats()[0]!.committedEnd!));
      await projector.stop();
      const rows = await dataSource.query<{ unpacked_sequence: string | null }[]>(
        'SELECT unpacked_sequence FROM containment WHERE product_id = $1 ORDER BY packed_sequence',
        [product],
      );
      expect(rows.map((row) => row.unpacked_sequence === null)).toEqual([false, true]);
      const contents = await new ProvenanceQueries(dataSource).contents(pallet, null);
      expect(contents.map((row) => row.productId)).toEqual([product]);
    } finally {
      await ledger.writer.close();
      await dataSource.destroy();
      await database.drop();
    }
  });
});

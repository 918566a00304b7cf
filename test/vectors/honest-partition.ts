/**
 * The partition every negative vector starts from: written by the partition writer itself,
 * with the published test key, a fixed clock and fixed event ids.
 */
import { CheckpointSigner } from '../../src/ledger/checkpoint-note.js';
import type { Hash } from '../../src/ledger/hashing.js';
import type { AppendRequest, LedgerRecord } from '../../src/ledger/ledger-record.js';
import { PartitionWriter } from '../../src/ledger/partition-writer.js';
import { decodeRecord } from '../../src/ledger/record-codec.js';
import { MemoryGenesisPins, MemoryPartitionLog, sequentialIds, steppingClock } from '../support/memory-ledger.js';
import { type ChainRecord, reseal, type ResealOptions, transactions } from './forged-chain.js';
import { VECTOR_SECRET_KEY } from './ledger-vectors.js';
import type { Transactions } from './vector-partition.js';

export const LEDGER_ID = 'vectors';
export const PARTITION = 1;
export const PARTITIONS = 2;
// Entity ids of partition 1 of 2 (ledger format §1).
export const PRODUCT_A = '/01/09506000134352/21/SN-2';
export const PRODUCT_B = '/01/09506000134352/21/SN-4';
const PALLET = '/00/106141412345678902';

/** Transactions after the writer's own first one (genesis and checkpoint). */
const BATCHES: Omit<AppendRequest, 'eventId'>[][] = [
  [
    {
      eventType: 'product.commissioned',
      entityIds: [PRODUCT_A],
      occurredAt: '2026-11-26T09:00:00+01:00',
      // 100 × U+1F95B: 100 code points, 400 UTF-8 bytes, 200 UTF-16 code units, the most an actor holds.
      actor: '\u{1F95B}'.repeat(100),
      payload: { gtin: '09506000134352', serial: 'SN-2', name: 'Bergkäse 🧀', owner: '4012345000009', location: '4012345000016' },
    },
  ],
  [
    {
      eventType: 'product.commissioned',
      entityIds: [PRODUCT_B],
      occurredAt: '2026-11-26T09:05:00+01:00',
      actor: 'maker',
      payload: {
        gtin: '09506000134352',
        serial: 'SN-4',
        name: 'Müller Vollmilch',
        owner: '4012345000009',
        location: '4012345000016',
      },
    },
    {
      eventType: 'shipment.packed',
      entityIds: [PALLET, PRODUCT_A, PRODUCT_B],
      occurredAt: '2026-11-26T08:10:00Z',
      actor: 'warehouse-7',
      payload: { party: '4012345000009', location: '4012345000016' },
    },
  ],
  [
    {
      eventType: 'shipment.dispatched',
      entityIds: [PALLET, PRODUCT_A, PRODUCT_B],
      occurredAt: '2026-11-26T08:20:00Z',
      actor: 'warehouse-7',
      payload: { party: '4012345000009', location: '4012345000016', destination: '4098765000052' },
    },
    {
      eventType: 'custody.inspected',
      entityIds: [PRODUCT_A],
      occurredAt: '2026-11-26T15:45:30.123456789+05:30',
      actor: 'inspector',
      payload: { party: '4098765000045', location: '4098765000052', result: 'passed' },
    },
  ],
];

/** The honest partition, and what the tampered ones are made from. */
export interface HonestPartition {
  readonly signer: CheckpointSigner;
  /** Its records by sequence: transactions of sequences 0-1, 2-3, 4-6 and 7-9. */
  readonly chain: readonly ChainRecord[];
  readonly transactions: Transactions;
  readonly genesisHash: Hash;
  readonly record: (sequence: number) => LedgerRecord;
  readonly value: (sequence: number) => Uint8Array;
  readonly hash: (sequence: number) => Hash;
  /** Transactions of the honest values (named by sequence) and of other values. */
  readonly transactionsOf: (...lists: (number | Uint8Array)[][]) => Transactions;
  /** The records chained and signed again with the test key, changed as `options` say. */
  readonly resealed: (options: ResealOptions) => ChainRecord[];
}

export async function writeHonestPartition(): Promise<HonestPartition> {
  const signer = new CheckpointSigner(`custodian/${LEDGER_ID}`, VECTOR_SECRET_KEY);
  const log = new MemoryPartitionLog(PARTITION);
  const writer = new PartitionWriter({
    ledgerId: LEDGER_ID,
    partition: PARTITION,
    partitions: PARTITIONS,
    signer,
    log,
    pins: new MemoryGenesisPins(),
    clock: steppingClock('2026-11-26T08:00:00.000Z'),
    maxBatch: 100,
    newEventId: sequentialIds(1),
  });
  await writer.start();
  const ids = sequentialIds(6);
  for (const batch of BATCHES) await writer.appendAll(batch.map((request) => ({ ...request, eventId: ids() })));
  await writer.close();
  const chain: ChainRecord[] = log.values().map(({ value }) => ({ ...decodeRecord(value), value }));
  const at = (sequence: number) => {
    const item = chain[sequence];
    if (!item) throw new Error(`the honest partition has no record ${sequence}`);
    return item;
  };
  return {
    signer,
    chain,
    transactions: transactions(chain),
    genesisHash: at(0).hash,
    record: (sequence) => at(sequence).record,
    value: (sequence) => at(sequence).value,
    hash: (sequence) => at(sequence).hash,
    transactionsOf: (...lists) => lists.map((list) => list.map((item) => (typeof item === 'number' ? at(item).value : item))),
    resealed: (options) =>
      reseal(
        chain.map((item) => item.record),
        signer,
        options,
      ),
  };
}

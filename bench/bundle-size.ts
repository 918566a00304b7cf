/**
 * Evidence bundle size against pallet size (`npm run bench -- --only bundles`): one product's
 * bundle after a journey of seven steps, four of them steps of a pallet holding N products.
 * Each such record names every product on the pallet with its entity link, so the bundle grows
 * with N. Beside each measured size, the size the same bundle would have if a record committed
 * to its entity list by a Merkle root and a product's evidence carried only its own entry and its
 * inclusion path (the design in docs/ledger-format.md §10.1): computed from the measured records,
 * not measured.
 */
import { CheckpointSigner, CheckpointVerifier } from '../src/ledger/checkpoint-note.js';
import { decidedAppend } from '../src/custody/step-recorder.js';
import type { CustodyCommand } from '../src/custody/custody-decider.js';
import { custodyStateModel } from '../src/custody/custody-state.js';
import { canonicalize } from '../src/ledger/canonical-json.js';
import { LedgerWriter } from '../src/ledger/ledger-writer.js';
import type { LedgerRecord } from '../src/ledger/ledger-record.js';
import type { EvidenceBundle } from '../src/verification/evidence-bundle.js';
import {
  MemoryGenesisPins,
  MemoryPartitionLog,
  memoryProductVerifier,
  sequentialIds,
  steppingClock,
} from '../test/support/memory-ledger.js';
import type { BenchContext, Benchmark, Measured } from './support/suite.js';
import { whole } from './support/suite.js';

export const bundleSize: Benchmark = {
  id: 'bundles',
  title: 'Evidence bundle size against pallet size',
  run: measureBundles,
};

const MAKER = '4012345000009';
const SITE = '4012345000016';
const CARRIER = '4054321000009';
const SHOP = '4098765000014';
const PALLET = '/00/106141411234567897';
const item = (n: number) => `/01/09506000134352/21/SN-${String(n).padStart(5, '0')}`;

/** The bytes a record's evidence would take with its entity list committed to by a Merkle root. */
function committedRecordBytes(record: LedgerRecord, product: string): number {
  const { entities, ...rest } = record;
  // As the bundle carries it: the canonical text as a JSON string.
  const header = JSON.stringify(canonicalize({ ...rest, entityCount: entities.length, entityRoot: '0'.repeat(64) })).length;
  const depth = entities.length > 1 ? Math.ceil(Math.log2(entities.length)) : 0;
  // The product's own entry and, when the record is a shipment's step, its subject's, each with its path.
  const disclosed = entities.filter((entity, i) => i === 0 || entity.id === product);
  const leaves = disclosed.reduce((sum, entity) => sum + JSON.stringify(entity).length + 20 + depth * 67, 0);
  return header + leaves + 40;
}

async function bundleFor(pallet: number): Promise<{ bundle: EvidenceBundle; records: LedgerRecord[] }> {
  const ledgerId = `bundles-${pallet}`;
  const signer = new CheckpointSigner(`custodian/${ledgerId}`, new Uint8Array(32).fill(7));
  const log = new MemoryPartitionLog();
  const writer = new LedgerWriter({
    ledgerId,
    partitions: 1,
    signer,
    pins: new MemoryGenesisPins(),
    clock: steppingClock(),
    maxBatch: 5000,
    maxBatchBytes: 50_000_000,
    maxPayloadBytes: 65_536,
    openPartition: () => log,
    newEventId: sequentialIds(1),
    stateModel: custodyStateModel,
  });
  await writer.start();
  const ids = sequentialIds(2);
  const record = (command: CustodyCommand) =>
    decidedAppend(writer, command, { eventId: ids(), occurredAt: '2026-11-26T08:00:00Z', actor: 'bench' });
  const products = Array.from({ length: pallet }, (_, i) => item(i));
  await writer.appendAll(
    await Promise.all(
      products.map((product) => record({ type: 'commission', product, owner: MAKER, location: SITE, details: { name: 'Bag' } })),
    ),
  );
  const steps: CustodyCommand[] = [
    { type: 'create-shipment', shipment: PALLET, owner: MAKER, location: SITE, destination: SHOP, consignee: CARRIER },
    { type: 'pack', shipment: PALLET, products, party: MAKER, location: SITE },
    { type: 'dispatch', shipment: PALLET, party: MAKER, location: SITE },
    { type: 'receive', shipment: PALLET, by: CARRIER, location: SHOP },
    { type: 'handover', subject: PALLET, from: CARRIER, to: SHOP, location: SHOP },
    { type: 'unpack', shipment: PALLET, products, party: SHOP, location: SHOP },
    { type: 'inspect', subject: item(0), party: SHOP, location: SHOP, result: 'passed' },
  ];
  for (const step of steps) await writer.append(await record(step));
  await writer.close();
  const attestationSigner = new CheckpointSigner(`custodian-verifier/${ledgerId}`, new Uint8Array(32).fill(8));
  const verifier = memoryProductVerifier(
    ledgerId,
    new CheckpointVerifier(signer.keyName, signer.publicKey),
    attestationSigner,
    log.values(),
  );
  const { bundle } = await verifier.verify(item(0), { evidence: true });
  if (!bundle) throw new Error('no bundle');
  return { bundle, records: bundle.records.map((entry) => JSON.parse(entry.record) as LedgerRecord) };
}

async function measureBundles({ quick, progress }: BenchContext): Promise<Measured> {
  const pallets = quick ? [1, 10, 200] : [1, 10, 50, 200, 1000, 2000];
  const rows: string[][] = [];
  const figures: Record<string, number> = {};
  for (const pallet of pallets) {
    progress(`a bundle after seven steps, four of them of a pallet of ${pallet}`);
    const { bundle, records } = await bundleFor(pallet);
    const bytes = Buffer.byteLength(JSON.stringify(bundle));
    const recordBytes = bundle.records.reduce((sum, entry) => sum + Buffer.byteLength(JSON.stringify(entry.record)), 0);
    const committed = bytes - recordBytes + records.reduce((sum, record) => sum + committedRecordBytes(record, item(0)), 0);
    figures[`bundlePallet${pallet}Bytes`] = bytes;
    figures[`bundlePallet${pallet}CommittedBytes`] = committed;
    rows.push([whole(pallet), whole(bundle.records.length), whole(bytes), whole(recordBytes), whole(committed)]);
  }
  return {
    about:
      "One product's evidence bundle (`?evidence=true`) after seven steps: commissioned, packed on a pallet of N products, " +
      'dispatched, received and handed over with the pallet, unpacked, inspected. A step of the pallet names every product on it ' +
      'with its entity link (docs/ledger-format.md §2), so each of those four records grows with N and the bundle carries them ' +
      'whole. The last column is what the bundle would take if each record committed to its entity list by a Merkle root and the ' +
      "bundle carried only the product's entry and the pallet's, each with its inclusion path (docs/ledger-format.md §10.1): " +
      'computed from the same records, not measured.',
    setting: `pallets of ${pallets.join(', ')} products; records written by the real writer to a log in memory`,
    tables: [
      {
        head: [
          'products on the pallet',
          'records in the bundle',
          'bundle bytes',
          'of which records',
          'with entity lists committed (computed)',
        ],
        align: ['r', 'r', 'r', 'r', 'r'],
        rows,
      },
    ],
    figures,
  };
}

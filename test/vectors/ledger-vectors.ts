/**
 * Builds the ledger format v1 test vectors (test/vectors/ledger-v1.json) from a small, fully
 * deterministic ledger: fixed key, clock and event ids. `npm run vectors` rewrites the file;
 * src/ledger/ledger-vectors.spec.ts fails when the implementation no longer reproduces it.
 */
import { canonicalize } from '../../src/ledger/canonical-json.js';
import { CheckpointSigner } from '../../src/ledger/checkpoint-note.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { RECORD_HASH_PREFIX } from '../../src/ledger/hashing.js';
import { type AppendRequest } from '../../src/ledger/ledger-record.js';
import { LedgerWriter } from '../../src/ledger/ledger-writer.js';
import { inclusionProof, merkleRoot } from '../../src/ledger/merkle-tree.js';
import { decodeRecord } from '../../src/ledger/record-codec.js';
import { MemoryGenesisPins, MemoryPartitionLog, sequentialIds, steppingClock, writerIdle } from '../support/memory-ledger.js';

/** TEST KEY, published on purpose: bytes 0x01..0x20. Never use it for a real ledger. */
export const VECTOR_SECRET_KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

const REQUESTS: Omit<AppendRequest, 'eventId'>[][] = [
  [
    {
      eventType: 'product.commissioned',
      entityIds: ['urn:epc:id:sgtin:9506000.134352.SN-0001'],
      occurredAt: '2026-11-26T09:15:00.250+01:00',
      actor: 'urn:epc:id:pgln:9506000.13435.0',
      payload: {
        name: 'Bio-Vollmilch 3,8 % — 1 l 🥛',
        gtin: '09506000134352',
        attributes: { lot: 'L-2026-11', bestBefore: '2026-12-10', temperatureC: -0.5 },
        quantities: [1, 2.5, -17, 1e21, 9007199254740991, 1e-7],
      },
    },
  ],
  [
    {
      eventType: 'shipment.packed',
      entityIds: ['urn:epc:id:sscc:9506000.0000000001', 'urn:epc:id:sgtin:9506000.134352.SN-0001'],
      occurredAt: '2026-11-26T10:00:00Z',
      actor: 'warehouse-7',
      payload: {
        note: 'Zeichen: \u0000\u001f "quoted" \\ / \u2028 \ud83d\ude9a',
        nested: { a: [{ b: { c: [true, false, null] } }] },
      },
    },
    {
      eventType: 'custody.handover',
      entityIds: ['urn:epc:id:sscc:9506000.0000000001'],
      occurredAt: '2026-11-26T11:30:00-05:00',
      actor: 'carrier-42',
      payload: { from: 'warehouse-7', to: 'carrier-42', evidence: { documentHash: 'ab'.repeat(32) } },
    },
  ],
];

export interface LedgerVectors {
  readonly description: string;
  readonly formatVersion: 1;
  readonly recordHash: { readonly prefixHex: string; readonly definition: string };
  readonly key: {
    readonly secretKeyHex: string;
    readonly keyName: string;
    readonly keyId: string;
    readonly publicKeyHex: string;
    readonly verifierKey: string;
  };
  readonly canonicalization: readonly { readonly input: string; readonly canonical: string }[];
  readonly records: readonly {
    readonly offset: string;
    readonly record: unknown;
    readonly canonical: string;
    readonly hash: string;
  }[];
  readonly merkle: {
    readonly leaves: readonly string[];
    readonly rootsBySize: readonly string[];
    readonly inclusion: {
      readonly index: number;
      readonly treeSize: number;
      readonly proof: readonly string[];
      readonly root: string;
    };
  };
  readonly checkpoint: { readonly offset: string; readonly note: string };
}

export async function buildLedgerVectors(): Promise<LedgerVectors> {
  const signer = new CheckpointSigner('custodian/vectors', VECTOR_SECRET_KEY);
  const log = new MemoryPartitionLog();
  const ids = sequentialIds(5);
  const writer = new LedgerWriter({
    ledgerId: 'vectors',
    partitions: 1,
    signer,
    pins: new MemoryGenesisPins(),
    clock: steppingClock('2026-11-26T08:00:00.000Z'),
    maxBatch: 100,
    maxPayloadBytes: 65_536,
    openPartition: () => log,
    newEventId: sequentialIds(1),
  });
  await writer.start();
  for (const batch of REQUESTS) {
    // Appended together, the first runs alone and the rest form the next batch.
    await Promise.all(batch.map((request) => writer.append({ ...request, eventId: ids() })));
    await writerIdle();
  }
  const records = log.values().map(({ offset, value }) => {
    const { record, hash } = decodeRecord(value);
    return { offset, record: record, canonical: new TextDecoder().decode(value), hash };
  });
  const leaves = records.map((r) => r.hash);
  const last = records.at(-1);
  if (!last) throw new Error('no records');
  const inclusion = { index: 2, treeSize: 5 };
  return {
    description:
      'Custodian ledger format v1 test vectors (docs/ledger-format.md). The secret key is a published TEST key (bytes 0x01..0x20).',
    formatVersion: 1,
    recordHash: {
      prefixHex: bytesToHex(RECORD_HASH_PREFIX),
      definition: 'hash = lowercase hex of SHA-256(prefix || UTF-8 bytes of canonical)',
    },
    key: {
      secretKeyHex: bytesToHex(VECTOR_SECRET_KEY),
      keyName: signer.keyName,
      keyId: signer.keyId,
      publicKeyHex: bytesToHex(signer.publicKey),
      verifierKey: signer.verifierKey,
    },
    canonicalization: [
      '{"b":2,"a":1,"c":{"z":[3,2,1],"y":null}}',
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001,-0,1e21,1e-7]}',
      '{"\\u20ac":"Euro","\\r":"CR","\\ufb33":"Dalet","1":"One","\\ud83d\\ude00":"Emoji","\\u0080":"Control","\\u00f6":"o-umlaut"}',
      '{"s":"\\u0000\\u001f\\u007f\\u2028 \\"\\\\/ \\u00e9\\u0301"}',
    ].map((input) => ({ input, canonical: canonicalize(JSON.parse(input)) })),
    records,
    merkle: {
      leaves,
      rootsBySize: leaves.map((_, i) => merkleRoot(leaves.slice(0, i + 1))),
      inclusion: {
        ...inclusion,
        proof: inclusionProof(leaves.slice(0, inclusion.treeSize), inclusion.index),
        root: merkleRoot(leaves.slice(0, inclusion.treeSize)),
      },
    },
    checkpoint: { offset: last.offset, note: (last.record.payload as { note: string }).note },
  };
}

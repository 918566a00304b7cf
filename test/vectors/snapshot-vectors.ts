/**
 * Builds the writer snapshot format v1 test vectors (test/vectors/snapshot-v1.json,
 * docs/ledger-format.md §11): a small deterministic ledger written by the writer, the snapshot
 * a start takes of it at its last checkpoint (body, canonical text, hash, signed note), the state
 * tree and tiles that snapshot stores, and snapshots that a start must refuse. `npm run vectors`
 * rewrites the file; src/ledger/snapshot-vectors.spec.ts fails when the implementation no longer
 * reproduces it.
 */
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalize } from '../../src/ledger/canonical-json.js';
import { CheckpointSigner, noteText, type SignedCheckpoint } from '../../src/ledger/checkpoint-note.js';
import type { AppendRequest, EntityStateModel } from '../../src/ledger/ledger-record.js';
import { LedgerWriter } from '../../src/ledger/ledger-writer.js';
import { MemoryPartitionSnapshots } from '../../src/ledger/memory-snapshots.js';
import { recoverPartition } from '../../src/ledger/partition-recovery.js';
import { entityKey, eventKey } from '../../src/ledger/partition-state.js';
import { sha256 } from '../../src/ledger/platform/sha256.js';
import { decodeRecord } from '../../src/ledger/record-codec.js';
import { nodeHash, decodeNode } from '../../src/ledger/state-tree.js';
import {
  signSnapshot,
  SNAPSHOT_FORMAT_VERSION,
  type SnapshotBody,
  snapshotHash,
  snapshotNoteText,
} from '../../src/ledger/writer-snapshot.js';
import { MemoryGenesisPins, MemoryPartitionLog, sequentialIds, steppingClock } from '../support/memory-ledger.js';
import { VECTOR_SECRET_KEY } from './ledger-vectors.js';

/** A second key under the same name: it signs what the ledger key did not. */
const OTHER_SECRET_KEY = Uint8Array.from({ length: 32 }, (_, i) => 0x21 + i);

const PRODUCT = 'urn:epc:id:sgtin:9506000.134352.SN-0001';
const PALLET = 'urn:epc:id:sscc:9506000.0000000001';

/** A state to show the `state` member: how many records name the entity, and the last one's type. */
const stateModel: EntityStateModel = {
  evolve: (state, record) => ({
    records: ((state as { records?: number } | undefined)?.records ?? 0) + 1,
    lastEventType: record.eventType,
  }),
};

const digest = (text: string): string => bytesToHex(sha256(utf8ToBytes(text)));

const REQUESTS: Omit<AppendRequest, 'eventId'>[] = [
  {
    eventType: 'product.commissioned',
    entityIds: [PRODUCT],
    occurredAt: '2026-11-26T09:15:00Z',
    actor: 'urn:epc:id:pgln:9506000.13435.0',
    payload: { gtin: '09506000134352', requestDigest: digest('request 1') },
  },
  {
    eventType: 'shipment.packed',
    entityIds: [PALLET, PRODUCT],
    occurredAt: '2026-11-26T10:00:00Z',
    actor: 'warehouse-7',
    payload: { requestDigest: digest('request 2') },
  },
  {
    eventType: 'custody.handover',
    entityIds: [PALLET],
    occurredAt: '2026-11-26T11:30:00Z',
    actor: 'carrier-42',
    payload: { from: 'warehouse-7', to: 'carrier-42' },
  },
];

interface RefusedCase {
  readonly name: string;
  readonly change: string;
  readonly body: unknown;
  readonly note: string;
  /** The topic holds no record at this offset or after it (null: the topic as given). */
  readonly truncatedAt: string | null;
  /** The genesis hash the start holds pinned (null: none). */
  readonly genesisPin: string | null;
}

export interface SnapshotVectors {
  readonly description: string;
  readonly snapshotFormatVersion: typeof SNAPSHOT_FORMAT_VERSION;
  readonly snapshotHash: { readonly domainHex: string; readonly definition: string };
  readonly stateKey: { readonly definition: string };
  readonly key: { readonly secretKeyHex: string; readonly verifierKey: string; readonly otherSecretKeyHex: string };
  readonly ledgerId: string;
  readonly partition: number;
  readonly records: readonly { readonly offset: string; readonly canonical: string; readonly hash: string }[];
  readonly snapshot: {
    readonly body: SnapshotBody;
    readonly canonical: string;
    readonly hash: string;
    readonly checkpointNoteText: string;
    readonly noteText: string;
    readonly note: string;
  };
  readonly stateTree: {
    readonly root: string;
    readonly entries: readonly {
      readonly kind: 'entity' | 'event';
      readonly name: string;
      readonly key: string;
      readonly value: string;
    }[];
    readonly nodes: readonly { readonly path: string; readonly node: string; readonly hash: string }[];
  };
  readonly tiles: readonly { readonly level: number; readonly index: number; readonly hashes: readonly string[] }[];
  readonly refused: readonly RefusedCase[];
}

export async function buildSnapshotVectors(): Promise<SnapshotVectors> {
  const signer = new CheckpointSigner('custodian/vectors', VECTOR_SECRET_KEY);
  const other = new CheckpointSigner('custodian/vectors', OTHER_SECRET_KEY);
  const log = new MemoryPartitionLog();
  const ids = sequentialIds(7);
  const writer = new LedgerWriter({
    ledgerId: 'vectors',
    partitions: 1,
    signer,
    pins: new MemoryGenesisPins(),
    clock: steppingClock('2026-11-26T08:00:00.000Z'),
    maxBatch: 100,
    maxPayloadBytes: 65_536,
    stateModel,
    openPartition: () => log,
    newEventId: sequentialIds(6),
  });
  await writer.start();
  // One record a batch: each is followed by its own checkpoint.
  for (const request of REQUESTS) await writer.append({ ...request, eventId: ids() });
  await writer.close();

  // A start with no snapshot reads the partition in full and takes one at its last checkpoint.
  const store = new MemoryPartitionSnapshots(0);
  await recoverPartition(
    { ledgerId: 'vectors', partition: 0, signer, log, stateModel, snapshots: store, snapshotRecords: 1 },
    undefined,
  );
  const snapshot = store.snapshot;
  if (!snapshot) throw new Error('the start took no snapshot');
  const records = log.values().map(({ offset, value }) => ({
    offset,
    canonical: new TextDecoder().decode(value),
    hash: decodeRecord(value).hash,
  }));
  const { body } = snapshot;
  const checkpointRecord = decodeRecord(utf8ToBytes(records.find((r) => r.offset === body.checkpointOffset)?.canonical ?? ''));
  const checkpoint = checkpointRecord.record.payload as unknown as SignedCheckpoint;
  const earlierCheckpoint = records.filter(
    (r) => decodeRecord(utf8ToBytes(r.canonical)).record.eventType === 'ledger.checkpoint',
  )[1];
  if (!earlierCheckpoint) throw new Error('the ledger has one checkpoint');

  const resigned = (changed: Record<string, unknown>, by: CheckpointSigner = signer) =>
    signSnapshot(by, checkpoint, { ...body, ...changed });
  const refused: RefusedCase[] = [
    {
      name: 'state-root-changed',
      change: 'the body says another state root; the note is the honest one',
      body: { ...body, stateRoot: digest('another state') },
      note: snapshot.note,
      truncatedAt: null,
      genesisPin: null,
    },
    {
      name: 'signed-by-another-key',
      change: 'the honest body, its note signed by another key under the same key name',
      ...resigned({}, other),
      truncatedAt: null,
      genesisPin: null,
    },
    {
      name: 'checkpoint-offset-of-another-record',
      change: `signed by the ledger key, but it names offset ${earlierCheckpoint.offset}, where the topic holds an earlier checkpoint`,
      ...resigned({ checkpointOffset: earlierCheckpoint.offset }),
      truncatedAt: null,
      genesisPin: null,
    },
    {
      name: 'checkpoint-hash-changed',
      change: 'signed by the ledger key, but its checkpoint hash is not that of the record at its offset',
      ...resigned({ checkpointHash: digest('another checkpoint') }),
      truncatedAt: null,
      genesisPin: null,
    },
    {
      name: 'frontier-changed',
      change: "signed by the ledger key, but its frontier's last hash changed: it does not give the signed root",
      ...resigned({ frontier: [...body.frontier.slice(0, -1), digest('another subtree')] }),
      truncatedAt: null,
      genesisPin: null,
    },
    {
      name: 'frontier-too-short',
      change: "signed by the ledger key, but its frontier lacks the last subtree of the tree's size",
      ...resigned({ frontier: body.frontier.slice(0, -1) }),
      truncatedAt: null,
      genesisPin: null,
    },
    {
      name: 'another-partition',
      change: 'signed by the ledger key, but its body names partition 1',
      ...resigned({ partition: 1 }),
      truncatedAt: null,
      genesisPin: null,
    },
    {
      name: 'format-version-2',
      change: 'signed by the ledger key, but its formatVersion is 2',
      ...resigned({ formatVersion: 2 }),
      truncatedAt: null,
      genesisPin: null,
    },
    {
      name: 'member-added',
      change: 'signed by the ledger key, but its body has a tenth member',
      ...resigned({ takenBy: 'writer-1' }),
      truncatedAt: null,
      genesisPin: null,
    },
    {
      name: 'topic-truncated',
      change: 'the honest snapshot, but the topic no longer holds its checkpoint record',
      body,
      note: snapshot.note,
      truncatedAt: body.checkpointOffset,
      genesisPin: null,
    },
    {
      name: 'another-genesis-pinned',
      change: 'the honest snapshot, but the start holds another genesis pinned',
      body,
      note: snapshot.note,
      truncatedAt: null,
      genesisPin: digest('another genesis'),
    },
  ];

  const names = new Map<string, { kind: 'entity' | 'event'; name: string }>();
  for (const { canonical } of records) {
    const { record } = decodeRecord(utf8ToBytes(canonical));
    for (const { id } of record.entities) names.set(entityKey(id), { kind: 'entity', name: id });
    names.set(eventKey(record.eventId), { kind: 'event', name: record.eventId });
  }
  const entries = [...store.valueRows]
    .map(([key, value]) => {
      const named = names.get(key);
      if (!named) throw new Error(`state key ${key} names nothing of the ledger`);
      return { ...named, key, value: new TextDecoder().decode(value) };
    })
    .sort((a, b) => a.key.localeCompare(b.key));
  const nodes = [...store.nodeRows]
    .map(([path, node]) => ({ path, node: bytesToHex(node), hash: bytesToHex(nodeHash(decodeNode(node))) }))
    .sort((a, b) => a.path.localeCompare(b.path));
  const tiles = [...store.tileRows.values()].map(({ level, index, hashes }) => ({
    level,
    index,
    hashes: Array.from({ length: hashes.length / 32 }, (_, i) => bytesToHex(hashes.slice(i * 32, i * 32 + 32))),
  }));

  return {
    description:
      'Custodian writer snapshot format v1 test vectors (docs/ledger-format.md §11). The secret keys are published TEST keys.',
    snapshotFormatVersion: SNAPSHOT_FORMAT_VERSION,
    snapshotHash: {
      domainHex: bytesToHex(utf8ToBytes('custodian.ledger.snapshot.v1\0')),
      definition: 'hash = lowercase hex of SHA-256(domain || UTF-8 bytes of the RFC 8785 canonical body)',
    },
    stateKey: { definition: 'key = SHA-256(UTF-8 of "custodian.state." || kind || 0x00 || name), kind "entity" or "event"' },
    key: {
      secretKeyHex: bytesToHex(VECTOR_SECRET_KEY),
      verifierKey: signer.verifierKey,
      otherSecretKeyHex: bytesToHex(OTHER_SECRET_KEY),
    },
    ledgerId: 'vectors',
    partition: 0,
    records,
    snapshot: {
      body,
      canonical: canonicalize(body),
      hash: snapshotHash(body),
      checkpointNoteText: noteText(checkpoint),
      noteText: snapshotNoteText(checkpoint, body),
      note: snapshot.note,
    },
    stateTree: { root: body.stateRoot, entries, nodes },
    tiles,
    refused,
  };
}

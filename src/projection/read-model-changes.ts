import { eventTypeOf, UNKNOWN_EVENT_TYPE } from '../custody/events/index.js';
import type { ContainmentRow, LineageRow, ProductRow, ReadModelRows, ShipmentRow, Unpacking } from '../custody/events/index.js';
import { epcisRowsOf, type EpcisEventRow, type EpcisIdentifierRow } from '../epcis/epcis-event-rows.js';
import { isProductId, isShipmentId } from '../gs1/digital-link.js';
import type { Hash } from '../ledger/hashing.js';
import { toMicrosecondText } from '../ledger/timestamps.js';
import { CHECKPOINT_EVENT, type CheckpointPayload, type StoredRecord } from '../ledger/ledger-record.js';

/**
 * What a batch of verified records changes in the read models (migrations/*-read-models.ts):
 * a pure fold, in ledger order, over the rows the batch touches. The projector loads those
 * rows, folds, and writes the result with its position in one transaction. Every record makes
 * its custody_events and entity_history rows here; what it does to the other read models is
 * its event type's own definition (src/custody/events/).
 */
export interface ReadModelChanges {
  readonly events: CustodyEventRow[];
  readonly history: HistoryRow[];
  readonly products: Map<string, ProductRow>;
  readonly shipments: Map<string, ShipmentRow>;
  /** Packings first recorded in this batch (closed in it too, when unpacked in it). */
  readonly packings: ContainmentRow[];
  /** Unpackings of packings recorded before this batch. */
  readonly closings: Unpacking[];
  readonly lineage: LineageRow[];
  readonly checkpoints: CheckpointRow[];
  /** The EPCIS events the records are (src/epcis/epcis-event-rows.ts), and the identifiers they name. */
  readonly epcisEvents: EpcisEventRow[];
  readonly epcisIdentifiers: EpcisIdentifierRow[];
  readonly entityHeads: Map<string, Hash>;
}

/** A custody_events row: one per custody record. */
export type CustodyEventRow = {
  partition: number;
  sequence: number;
  kafka_offset: string;
  record_hash: Hash;
  event_id: string;
  event_type: string;
  occurred_at: string;
  occurred_at_text: string;
  recorded_at: string;
  actor: string;
  subject: string;
  entity_ids: string[];
  payload: StoredRecord['record']['payload'];
};

/** A checkpoints row: one per signed checkpoint. */
export type CheckpointRow = {
  partition: number;
  tree_size: number;
  root_hash: string;
  head_hash: string;
  signed_at: string;
  note: CheckpointPayload;
  kafka_offset: string;
};

/** An entity_history row: one per entity a record names. */
export interface HistoryRow {
  readonly entity_id: string;
  readonly partition: number;
  readonly sequence: number;
  readonly occurred_at: string;
  readonly event_type: string;
  /** The parties taking part (owner, party, from, to, by, consignee), each once. */
  readonly parties: string[];
  /** The shipment whose step this is, on the rows of the products packed in it. */
  readonly via: string | null;
  readonly previous_hash: string | null;
}

const PARTY_FIELDS = ['owner', 'party', 'from', 'to', 'by', 'consignee'];

/** The entity_history rows a record projects to (the verifier holds the table against these too). */
export function historyRowsOf(record: StoredRecord['record']): HistoryRow[] {
  const subject = record.entities[0]?.id ?? '';
  const named = PARTY_FIELDS.map((key) => record.payload[key]).filter((party) => typeof party === 'string' && party !== '');
  const parties = [...new Set(named as string[])];
  return record.entities.map((entity, i) => ({
    entity_id: entity.id,
    partition: record.partition,
    sequence: record.sequence,
    occurred_at: toMicrosecondText(record.occurredAt),
    event_type: record.eventType,
    parties,
    via: i > 0 && isShipmentId(subject) && isProductId(entity.id) ? subject : null,
    previous_hash: entity.previousHash,
  }));
}

export function foldBatch(
  records: readonly StoredRecord[],
  current: { products: ReadonlyMap<string, ProductRow>; shipments: ReadonlyMap<string, ShipmentRow> },
  /** `epcis: false` leaves the EPCIS rows out (epcisEvents and epcisIdentifiers stay empty): they are most of the fold's work. */
  { epcis: withEpcis = true }: { readonly epcis?: boolean } = {},
): ReadModelChanges {
  const changes: ReadModelChanges = {
    events: [],
    history: [],
    products: new Map(),
    shipments: new Map(),
    packings: [],
    closings: [],
    lineage: [],
    checkpoints: [],
    epcisEvents: [],
    epcisIdentifiers: [],
    entityHeads: new Map(),
  };
  const rowsAt = batchRows(changes, current);
  for (const stored of records) {
    const { record, hash } = stored;
    if (record.eventType === CHECKPOINT_EVENT) {
      changes.checkpoints.push(checkpointRow(stored));
      continue;
    }
    for (const entity of record.entities) changes.entityHeads.set(entity.id, hash);
    if (record.entities.length === 0) continue; // genesis
    changes.events.push(custodyEventRow(stored));
    changes.history.push(...historyRowsOf(record));
    (eventTypeOf(record.eventType) ?? UNKNOWN_EVENT_TYPE).project(record, rowsAt(record.sequence));
    const epcis = withEpcis ? epcisRowsOf(stored) : undefined;
    if (epcis) {
      changes.epcisEvents.push(epcis.event);
      changes.epcisIdentifiers.push(...epcis.identifiers);
    }
  }
  return changes;
}

/**
 * The rows of the batch as the records folded so far leave them, over the rows it started from:
 * what the record at `sequence` is projected onto. A row it writes stands at its sequence.
 */
function batchRows(
  changes: ReadModelChanges,
  current: { products: ReadonlyMap<string, ProductRow>; shipments: ReadonlyMap<string, ShipmentRow> },
): (sequence: number) => ReadModelRows {
  // Packings of this batch not yet unpacked: an unpacking in the batch closes one of them.
  const openPackings = new Map<string, ContainmentRow>();
  const packingKey = (shipmentId: string, productId: string) => `${shipmentId}\n${productId}`;
  const product = (id: string) => changes.products.get(id) ?? copy(current.products.get(id));
  const shipment = (id: string) => changes.shipments.get(id) ?? copy(current.shipments.get(id));
  return (sequence) => ({
    product,
    shipment,
    putProduct: (row) => changes.products.set(row.id, { ...row, last_sequence: sequence }),
    putShipment: (row) => changes.shipments.set(row.id, { ...row, last_sequence: sequence }),
    packed: (row) => {
      const packing = { ...row };
      changes.packings.push(packing);
      openPackings.set(packingKey(row.shipment_id, row.product_id), packing);
    },
    unpacked: (unpacking) => {
      const key = packingKey(unpacking.shipment_id, unpacking.product_id);
      const open = openPackings.get(key);
      if (!open) {
        changes.closings.push(unpacking);
        return;
      }
      open.unpacked_sequence = unpacking.unpacked_sequence;
      open.unpacked_at = unpacking.unpacked_at;
      openPackings.delete(key);
    },
    lineage: (row) => changes.lineage.push(row),
  });
}

function custodyEventRow({ record, hash, offset }: StoredRecord): CustodyEventRow {
  return {
    partition: record.partition,
    sequence: record.sequence,
    kafka_offset: offset,
    record_hash: hash,
    event_id: record.eventId,
    event_type: record.eventType,
    occurred_at: toMicrosecondText(record.occurredAt),
    occurred_at_text: record.occurredAt,
    recorded_at: record.recordedAt,
    actor: record.actor,
    subject: record.entities[0]?.id ?? '',
    entity_ids: record.entities.map((entity) => entity.id),
    payload: record.payload,
  };
}

function checkpointRow({ record, offset }: StoredRecord): CheckpointRow {
  const note = record.payload as CheckpointPayload;
  return {
    partition: record.partition,
    tree_size: note.treeSize,
    root_hash: note.rootHash,
    head_hash: note.headHash,
    signed_at: note.time,
    note,
    kafka_offset: offset,
  };
}

function copy<T extends object>(row: T | undefined): T | undefined {
  return row ? { ...row } : undefined;
}

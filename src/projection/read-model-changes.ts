import { transformParts, transformQuantity } from '../custody/custody-state.js';
import { fromMicros, microsOf } from '../custody/quantity.js';
import { isProductId, isShipmentId, parseDigitalLinkPath } from '../gs1/digital-link.js';
import type { JsonValue } from '../ledger/canonical-json.js';
import type { Hash } from '../ledger/hashing.js';
import { CHECKPOINT_EVENT, type StoredRecord } from '../ledger/ledger-record.js';

/**
 * What a batch of verified records changes in the read models (migrations/*-read-models.ts):
 * a pure fold, in ledger order, over the rows the batch touches. The projector loads those
 * rows, folds, and writes the result with its position in one transaction.
 */
export interface ProductRow {
  id: string;
  gtin: string;
  serial: string | null;
  lot: string | null;
  name: string | null;
  attributes: JsonValue | null;
  owner: string;
  origin: string;
  commissioned_at: string;
  status: 'active' | 'decommissioned';
  reason: string | null;
  holder: string;
  location: string;
  shipment: string | null;
  partition: number;
  last_sequence: number;
  /** What is left of a lot whose quantity is known, in its unit; null when not tracked. */
  quantity: number | null;
  uom: string | null;
}

export interface ShipmentRow {
  id: string;
  sscc: string;
  owner: string;
  origin: string;
  destination: string;
  consignee: string;
  created_at: string;
  status: 'open' | 'in-transit';
  holder: string;
  location: string;
  partition: number;
  last_sequence: number;
}

export interface ContainmentRow {
  shipment_id: string;
  product_id: string;
  packed_sequence: number;
  packed_at: string;
  unpacked_sequence: number | null;
  unpacked_at: string | null;
  partition: number;
}

export interface ReadModelChanges {
  readonly events: Record<string, unknown>[];
  readonly history: HistoryRow[];
  readonly products: Map<string, ProductRow>;
  readonly shipments: Map<string, ShipmentRow>;
  /** Packings first recorded in this batch (closed in it too, when unpacked in it). */
  readonly packings: ContainmentRow[];
  /** Unpackings of packings recorded before this batch. */
  readonly closings: { shipment_id: string; product_id: string; unpacked_sequence: number; unpacked_at: string }[];
  readonly lineage: Record<string, unknown>[];
  readonly checkpoints: Record<string, unknown>[];
  readonly entityHeads: Map<string, Hash>;
}

const PARTY_FIELDS = ['owner', 'party', 'from', 'to', 'by', 'consignee'];

const text = (payload: StoredRecord['record']['payload'], key: string): string => {
  const value = payload[key];
  return typeof value === 'string' ? value : '';
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

/** The entity_history rows a record projects to (the verifier holds the table against these too). */
export function historyRowsOf(record: StoredRecord['record']): HistoryRow[] {
  const subject = record.entities[0]?.id ?? '';
  const parties = [...new Set(PARTY_FIELDS.map((key) => text(record.payload, key)).filter((party) => party !== ''))];
  return record.entities.map((entity, i) => ({
    entity_id: entity.id,
    partition: record.partition,
    sequence: record.sequence,
    occurred_at: record.occurredAt,
    event_type: record.eventType,
    parties,
    via: i > 0 && isShipmentId(subject) && isProductId(entity.id) ? subject : null,
    previous_hash: entity.previousHash,
  }));
}

export function foldBatch(
  records: readonly StoredRecord[],
  current: { products: ReadonlyMap<string, ProductRow>; shipments: ReadonlyMap<string, ShipmentRow> },
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
    entityHeads: new Map(),
  };
  const product = (id: string): ProductRow | undefined => changes.products.get(id) ?? copy(current.products.get(id));
  const shipment = (id: string): ShipmentRow | undefined => changes.shipments.get(id) ?? copy(current.shipments.get(id));
  const openPacking = new Map<string, ContainmentRow>();

  for (const stored of records) {
    const { record, hash, offset } = stored;
    if (record.eventType === CHECKPOINT_EVENT) {
      const note = record.payload;
      changes.checkpoints.push({
        partition: record.partition,
        tree_size: note.treeSize,
        root_hash: note.rootHash,
        head_hash: note.headHash,
        signed_at: note.time,
        note,
        kafka_offset: offset,
      });
      continue;
    }
    const ids = record.entities.map((entity) => entity.id);
    for (const id of ids) changes.entityHeads.set(id, hash);
    if (ids.length === 0) continue; // genesis
    const subject = ids[0] as string;
    const { payload, sequence, partition } = record;
    const at = record.occurredAt;
    changes.events.push({
      partition,
      sequence,
      kafka_offset: offset,
      record_hash: hash,
      event_id: record.eventId,
      event_type: record.eventType,
      occurred_at: at,
      occurred_at_text: at,
      recorded_at: record.recordedAt,
      actor: record.actor,
      subject,
      entity_ids: ids,
      payload,
    });
    changes.history.push(...historyRowsOf(record));
    const touch = <T extends { last_sequence: number }>(row: T): T => ({ ...row, last_sequence: sequence });
    const setProduct = (row: ProductRow) => changes.products.set(row.id, touch(row));
    const setShipment = (row: ShipmentRow) => changes.shipments.set(row.id, touch(row));

    switch (record.eventType) {
      case 'product.commissioned': {
        const attributes = payload.attributes;
        const key = identity(subject);
        setProduct({
          id: subject,
          gtin: text(payload, 'gtin') || key.gtin,
          serial: text(payload, 'serial') || key.serial,
          lot: text(payload, 'lot') || key.lot,
          name: text(payload, 'name') || null,
          attributes: attributes === undefined ? null : attributes,
          owner: text(payload, 'owner'),
          origin: text(payload, 'location'),
          commissioned_at: at,
          status: 'active',
          reason: null,
          holder: text(payload, 'owner'),
          location: text(payload, 'location'),
          shipment: null,
          partition,
          last_sequence: sequence,
          ...quantityColumns(payload),
        });
        break;
      }
      case 'product.decommissioned': {
        const row = product(subject);
        if (row) setProduct({ ...row, status: 'decommissioned', reason: text(payload, 'reason') });
        break;
      }
      case 'shipment.created': {
        const sscc = parseDigitalLinkPath(subject);
        setShipment({
          id: subject,
          sscc: sscc.ok && sscc.value.kind === 'sscc' ? sscc.value.sscc : '',
          owner: text(payload, 'owner'),
          origin: text(payload, 'location'),
          destination: text(payload, 'destination'),
          consignee: text(payload, 'consignee'),
          created_at: at,
          status: 'open',
          holder: text(payload, 'owner'),
          location: text(payload, 'location'),
          partition,
          last_sequence: sequence,
        });
        break;
      }
      case 'shipment.packed':
      case 'shipment.unpacked': {
        const box = shipment(subject);
        if (box) setShipment(box);
        for (const id of ids.slice(1)) {
          const item = product(id);
          const packing = record.eventType === 'shipment.packed';
          if (item) setProduct({ ...item, shipment: packing ? subject : null });
          const key = `${subject}\n${id}`;
          if (packing) {
            const row: ContainmentRow = {
              shipment_id: subject,
              product_id: id,
              packed_sequence: sequence,
              packed_at: at,
              unpacked_sequence: null,
              unpacked_at: null,
              partition,
            };
            changes.packings.push(row);
            openPacking.set(key, row);
          } else {
            const open = openPacking.get(key);
            if (open) {
              open.unpacked_sequence = sequence;
              open.unpacked_at = at;
              openPacking.delete(key);
            } else {
              changes.closings.push({ shipment_id: subject, product_id: id, unpacked_sequence: sequence, unpacked_at: at });
            }
          }
        }
        break;
      }
      case 'shipment.dispatched': {
        const box = shipment(subject);
        if (box) setShipment({ ...box, status: 'in-transit' });
        for (const id of ids.slice(1)) {
          const item = product(id);
          if (item) setProduct(item);
        }
        break;
      }
      case 'shipment.received':
      case 'custody.handover': {
        const holder = text(payload, record.eventType === 'shipment.received' ? 'by' : 'to');
        const location = text(payload, 'location');
        const box = isShipmentId(subject) ? shipment(subject) : undefined;
        if (box)
          setShipment({ ...box, holder, location, status: record.eventType === 'shipment.received' ? 'open' : box.status });
        for (const id of isShipmentId(subject) ? ids.slice(1) : ids) {
          const item = product(id);
          if (item) setProduct({ ...item, holder, location });
        }
        break;
      }
      case 'custody.transformed': {
        const { inputs, outputs } = transformParts(record);
        for (const id of inputs) {
          const item = product(id);
          if (item) setProduct(consumedRow(item, transformQuantity(record, id)));
        }
        for (const id of outputs) {
          const key = identity(id);
          const made = transformQuantity(record, id);
          setProduct({
            id,
            gtin: key.gtin,
            serial: key.serial,
            lot: key.lot,
            name: null,
            attributes: null,
            owner: text(payload, 'party'),
            origin: text(payload, 'location'),
            commissioned_at: at,
            status: 'active',
            reason: null,
            holder: text(payload, 'party'),
            location: text(payload, 'location'),
            shipment: null,
            partition,
            last_sequence: sequence,
            quantity: made ? fromMicros(made.micros) : null,
            uom: made?.uom ?? null,
          });
          for (const input of inputs)
            changes.lineage.push({ input_id: input, output_id: id, partition, sequence, occurred_at: at });
        }
        break;
      }
      default: {
        // Inspections and event types this version does not know change no current state
        // (only the last sequence of what they name).
        const box = isShipmentId(subject) ? shipment(subject) : undefined;
        if (box) setShipment(box);
        for (const id of isShipmentId(subject) ? ids.slice(1) : ids) {
          const item = product(id);
          if (item) setProduct(item);
        }
      }
    }
  }
  return changes;
}

/** A commissioning's quantity and unit, as the products row keeps them. */
function quantityColumns(payload: StoredRecord['record']['payload']): { quantity: number | null; uom: string | null } {
  const quantity = typeof payload.quantity === 'number' ? payload.quantity : null;
  return { quantity, uom: quantity !== null && typeof payload.uom === 'string' ? payload.uom : null };
}

/**
 * An input's row after a transformation, as the custody state folds it (custody-state.ts): a
 * quantity named is taken from what is left, and the lot is used up at zero; without one, the
 * input is consumed whole. Either way a consumed input's reason is `transformed`.
 */
function consumedRow(row: ProductRow, used: { micros: number } | null): ProductRow {
  const usedUp = { ...row, status: 'decommissioned' as const, reason: 'transformed' };
  if (!used) return usedUp;
  if (row.quantity === null) return row;
  const left = microsOf(row.quantity) - used.micros;
  return left <= 0 ? { ...usedUp, quantity: 0 } : { ...row, quantity: fromMicros(left) };
}

/** The GS1 keys a product's Digital Link path holds. */
function identity(id: string): { gtin: string; serial: string | null; lot: string | null } {
  const parsed = parseDigitalLinkPath(id);
  const key = parsed.ok ? parsed.value : undefined;
  return {
    gtin: key && key.kind !== 'sscc' ? key.gtin : '',
    serial: key?.kind === 'sgtin' ? key.serial : null,
    lot: key?.kind === 'lgtin' ? key.lot : null,
  };
}

function copy<T extends object>(row: T | undefined): T | undefined {
  return row ? { ...row } : undefined;
}

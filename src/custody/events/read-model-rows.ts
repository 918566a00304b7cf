import type { JsonValue } from '../../ledger/canonical-json.js';

/**
 * The read-model rows custody events write (migrations/*-read-models.ts, docs/projection.md),
 * declared beside the events that make them; src/projection/read-model-schema.ts describes their
 * tables from these types. The projector depends on custody's events, never the other way: it
 * implements ReadModelRows over a batch, and the events write through it.
 */

/** A products row: the product's identity, and its custody state as the records leave it. */
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

/** A packing of a product in a shipment, closed when it is unpacked. */
export interface ContainmentRow {
  shipment_id: string;
  product_id: string;
  packed_sequence: number;
  packed_at: string;
  unpacked_sequence: number | null;
  unpacked_at: string | null;
  partition: number;
}

/** The end of a packing: which one, and by which record. */
export interface Unpacking {
  shipment_id: string;
  product_id: string;
  unpacked_sequence: number;
  unpacked_at: string;
}

/** One input and one output of a transformation. */
export type LineageRow = {
  input_id: string;
  output_id: string;
  partition: number;
  sequence: number;
  occurred_at: string;
};

/** The rows a record is projected onto, as the records before it left them. */
export interface ReadModelRows {
  product(id: string): ProductRow | undefined;
  shipment(id: string): ShipmentRow | undefined;
  /** Writes a product's row as the record leaves it (its last_sequence becomes the record's). */
  putProduct(row: ProductRow): void;
  putShipment(row: ShipmentRow): void;
  packed(row: ContainmentRow): void;
  unpacked(unpacking: Unpacking): void;
  lineage(row: LineageRow): void;
}

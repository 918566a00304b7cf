import type { JsonValue } from '../../ledger/canonical-json.js';
import type { LedgerRecord } from '../../ledger/ledger-record.js';
import type { ProductState } from '../entity-state.js';
import type { CustodyEventDefinition } from './custody-event.js';
import { quantityIn, subjectOf, text } from './payload-members.js';
import type { ReadModelRows } from './read-model-rows.js';
import { productColumns, productKeyColumns } from './row-writes.js';

/** product.commissioned: a product (an item or a lot) comes into the ledger, held by its owner. */
export interface ProductCommissionedPayload {
  /** The GS1 keys as recorded ('' when not recorded: the product's path holds them too). */
  readonly gtin: string;
  readonly serial: string;
  readonly lot: string;
  readonly name: string;
  readonly attributes: JsonValue | null;
  /** How much a lot holds, as recorded, and its unit (none for a count of items); null: not given. */
  readonly quantity: number | null;
  readonly uom: string | null;
  readonly owner: string;
  readonly location: string;
}

function payloadOf(record: LedgerRecord): ProductCommissionedPayload {
  const { quantity, uom } = record.payload;
  const amount = typeof quantity === 'number' ? quantity : null;
  return {
    gtin: text(record, 'gtin'),
    serial: text(record, 'serial'),
    lot: text(record, 'lot'),
    name: text(record, 'name'),
    attributes: record.payload.attributes ?? null,
    quantity: amount,
    uom: amount !== null && typeof uom === 'string' ? uom : null,
    owner: text(record, 'owner'),
    location: text(record, 'location'),
  };
}

/** Whatever was there before: a commissioning starts the product's state afresh (the rules refuse one that exists). */
function evolve(_state: unknown, record: LedgerRecord): ProductState {
  const { owner, location } = payloadOf(record);
  return { kind: 'product', status: 'active', holder: owner, location, shipment: null, quantity: quantityIn(record.payload) };
}

function project(record: LedgerRecord, rows: ReadModelRows): void {
  const id = subjectOf(record);
  const payload = payloadOf(record);
  const key = productKeyColumns(id);
  rows.putProduct({
    id,
    gtin: payload.gtin || key.gtin,
    serial: payload.serial || key.serial,
    lot: payload.lot || key.lot,
    name: payload.name || null,
    attributes: payload.attributes,
    owner: payload.owner,
    origin: payload.location,
    commissioned_at: record.occurredAt,
    reason: null,
    partition: record.partition,
    last_sequence: record.sequence,
    ...productColumns(evolve(undefined, record)),
    // The quantity as recorded: the state keeps it in millionths, and only one it can keep exactly.
    quantity: payload.quantity,
    uom: payload.uom,
  });
}

export const productCommissioned: CustodyEventDefinition<ProductCommissionedPayload> = {
  type: 'product.commissioned',
  payloadOf,
  evolve,
  project,
};

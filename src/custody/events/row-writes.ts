import { isShipmentId, parseDigitalLinkPath } from '../../gs1/digital-link.js';
import type { LedgerRecord } from '../../ledger/ledger-record.js';
import type { EntityState, ProductState, ShipmentState } from '../entity-state.js';
import { fromMicros, microsOf } from '../quantity.js';
import type { Evolve } from './custody-event.js';
import { entityIdsOf, subjectOf } from './payload-members.js';
import type { ProductRow, ReadModelRows, ShipmentRow } from './read-model-rows.js';

/**
 * How the event definitions write rows: the custody state a products or shipments row holds goes
 * through the event's own evolve, so a row cannot say other than the state the writer decides
 * the rules against; and a product's GS1 key columns come from its path.
 */

/** The custody state a products row holds. */
export function productStateOf(row: ProductRow): ProductState {
  return {
    kind: 'product',
    status: row.status,
    holder: row.holder,
    location: row.location,
    shipment: row.shipment,
    quantity: row.quantity === null ? null : { micros: microsOf(row.quantity), uom: row.uom },
  };
}

/** The columns of a products row that hold custody state. */
export function productColumns(
  state: ProductState,
): Pick<ProductRow, 'status' | 'holder' | 'location' | 'shipment' | 'quantity' | 'uom'> {
  return {
    status: state.status,
    holder: state.holder,
    location: state.location,
    shipment: state.shipment,
    quantity: state.quantity ? fromMicros(state.quantity.micros) : null,
    uom: state.quantity?.uom ?? null,
  };
}

/**
 * A products row with the state a record left it in (`before` is the row's own, from
 * productStateOf). A quantity the record did not change stays as the row has it.
 */
export function withProductState(row: ProductRow, before: ProductState, after: EntityState | undefined): ProductRow {
  if (after?.kind !== 'product') return row;
  const columns = productColumns(after);
  return after.quantity === before.quantity
    ? { ...row, ...columns, quantity: row.quantity, uom: row.uom }
    : { ...row, ...columns };
}

/**
 * The custody state a shipments row holds. The row does not list the shipment's contents (the
 * containment rows do): the state stands for none, and no contents are taken back from it.
 */
function shipmentStateOf(row: ShipmentRow): ShipmentState {
  return {
    kind: 'shipment',
    status: row.status,
    holder: row.holder,
    location: row.location,
    destination: row.destination,
    consignee: row.consignee,
    contents: [],
  };
}

/** The columns of a shipments row that hold custody state. */
export function shipmentColumns(
  state: ShipmentState,
): Pick<ShipmentRow, 'status' | 'holder' | 'location' | 'destination' | 'consignee'> {
  return {
    status: state.status,
    holder: state.holder,
    location: state.location,
    destination: state.destination,
    consignee: state.consignee,
  };
}

/** A products row as `evolve` says the record leaves it. */
export function evolvedProductRow(row: ProductRow, record: LedgerRecord, evolve: Evolve): ProductRow {
  const before = productStateOf(row);
  return withProductState(row, before, evolve(before, record, row.id));
}

/** A shipments row as `evolve` says the record leaves it. */
function evolvedShipmentRow(row: ShipmentRow, record: LedgerRecord, evolve: Evolve): ShipmentRow {
  const after = evolve(shipmentStateOf(row), record, row.id);
  return after?.kind === 'shipment' ? { ...row, ...shipmentColumns(after) } : row;
}

/** Writes the product's row, if it has one, as `evolve` says the record leaves it. */
export function putEvolvedProduct(rows: ReadModelRows, id: string, record: LedgerRecord, evolve: Evolve): void {
  const row = rows.product(id);
  if (row) rows.putProduct(evolvedProductRow(row, record, evolve));
}

/** Writes the shipment's row, if it has one, as `evolve` says the record leaves it. */
export function putEvolvedShipment(rows: ReadModelRows, id: string, record: LedgerRecord, evolve: Evolve): void {
  const row = rows.shipment(id);
  if (row) rows.putShipment(evolvedShipmentRow(row, record, evolve));
}

/**
 * A step on its subject, in the read models: a step on a shipment writes the shipment's row and
 * the rows of the products named after it (those packed in it); a step on a product, the rows of
 * the products it names. Each row as the event's `evolve` says the record leaves it.
 */
export function projectStep(record: LedgerRecord, rows: ReadModelRows, evolve: Evolve): void {
  const subject = subjectOf(record);
  const ids = entityIdsOf(record);
  const onShipment = isShipmentId(subject);
  if (onShipment) putEvolvedShipment(rows, subject, record, evolve);
  for (const id of onShipment ? ids.slice(1) : ids) putEvolvedProduct(rows, id, record, evolve);
}

/** The GS1 keys a product's Digital Link path holds, as a products row keeps them. */
export function productKeyColumns(id: string): Pick<ProductRow, 'gtin' | 'serial' | 'lot'> {
  const parsed = parseDigitalLinkPath(id);
  const key = parsed.ok ? parsed.value : undefined;
  return {
    gtin: key && key.kind !== 'sscc' ? key.gtin : '',
    serial: key?.kind === 'sgtin' ? key.serial : null,
    lot: key?.kind === 'lgtin' ? key.lot : null,
  };
}

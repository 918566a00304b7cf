import type { LedgerRecord } from '../../ledger/ledger-record.js';
import type { EntityState, ProductState } from '../entity-state.js';
import type { Quantity } from '../quantity.js';
import type { CustodyEventDefinition } from './custody-event.js';
import { quantityIn, text, texts } from './payload-members.js';
import type { ReadModelRows } from './read-model-rows.js';
import { productColumns, productKeyColumns, productStateOf, withProductState } from './row-writes.js';

/**
 * custody.transformed (EPCIS TransformationEvent): inputs are consumed, a lot in part by
 * quantity, and outputs are made. The entities are the inputs, then the outputs.
 */
export interface CustodyTransformedPayload {
  readonly party: string;
  readonly location: string;
  readonly inputs: string[];
  /** The outputs, as records written before 2026-12 list them too; null when the payload does not. */
  readonly outputs: string[] | null;
  /** Quantities of inputs taken and outputs made, where known (`[{ product, quantity, uom? }]`). */
  readonly quantities: unknown[];
}

function payloadOf(record: LedgerRecord): CustodyTransformedPayload {
  const { outputs, quantities } = record.payload;
  return {
    party: text(record, 'party'),
    location: text(record, 'location'),
    inputs: texts(record, 'inputs'),
    outputs: Array.isArray(outputs) ? texts(record, 'outputs') : null,
    quantities: Array.isArray(quantities) ? quantities : [],
  };
}

/**
 * The inputs and outputs of a transformation. The inputs are the first entities (the payload
 * lists them); the outputs are the entities after them, or, in a record written before outputs
 * were left out of the payload, its `outputs`.
 */
function partsOf(record: LedgerRecord, payload: CustodyTransformedPayload): { inputs: string[]; outputs: string[] } {
  const { inputs, outputs } = payload;
  return { inputs, outputs: outputs ?? record.entities.slice(inputs.length).map((entity) => entity.id) };
}

/** The product a `quantities` entry is for. */
const productOf = (entry: unknown): unknown => (entry as { product?: unknown } | null)?.product;

/** The quantity the payload names for each product (the first, if it names one twice), found in one pass over a payload that may name thousands. */
function quantitiesOf(payload: CustodyTransformedPayload): (product: string) => Quantity | null {
  const entries = new Map<unknown, unknown>();
  for (const entry of payload.quantities) if (!entries.has(productOf(entry))) entries.set(productOf(entry), entry);
  return (product) => quantityIn(entries.get(product));
}

/**
 * An input after the transformation: a quantity it names is taken from what is left of the lot
 * (used up at zero); without one, the input is consumed whole. A lot whose quantity is not
 * tracked stays active when a quantity of it is used. `usedUp`: the transformation ended it.
 */
function consumption(state: ProductState, used: Quantity | null): { state: ProductState; usedUp: boolean } {
  if (!used) return { state: { ...state, status: 'decommissioned' }, usedUp: true };
  if (!state.quantity) return { state, usedUp: false };
  const left = state.quantity.micros - used.micros;
  return left <= 0
    ? { state: { ...state, status: 'decommissioned', quantity: { ...state.quantity, micros: 0 } }, usedUp: true }
    : { state: { ...state, quantity: { ...state.quantity, micros: left } }, usedUp: false };
}

/** An output as the transformation makes it: held where it was made, by the party that made it. */
function made(payload: CustodyTransformedPayload, quantity: Quantity | null): ProductState {
  return { kind: 'product', status: 'active', holder: payload.party, location: payload.location, shipment: null, quantity };
}

/** What evolve needs of a record, read once per record: a transformation names thousands of entities, each folded apart. */
interface Reading {
  readonly payload: CustodyTransformedPayload;
  readonly inputs: ReadonlySet<string>;
  readonly outputs: ReadonlySet<string>;
  readonly quantity: (product: string) => Quantity | null;
}

const readings = new WeakMap<LedgerRecord, Reading>();

function readingOf(record: LedgerRecord): Reading {
  let reading = readings.get(record);
  if (!reading) {
    const payload = payloadOf(record);
    const { inputs, outputs } = partsOf(record, payload);
    reading = { payload, inputs: new Set(inputs), outputs: new Set(outputs), quantity: quantitiesOf(payload) };
    readings.set(record, reading);
  }
  return reading;
}

function evolve(state: EntityState | undefined, record: LedgerRecord, entityId: string): EntityState | undefined {
  const { payload, inputs, outputs, quantity } = readingOf(record);
  if (inputs.has(entityId) && state?.kind === 'product') return consumption(state, quantity(entityId)).state;
  return outputs.has(entityId) ? made(payload, quantity(entityId)) : state;
}

/**
 * The inputs' rows (a used-up input's reason is `transformed`), then a row for each output with
 * its lineage from every input.
 */
function project(record: LedgerRecord, rows: ReadModelRows): void {
  const payload = payloadOf(record);
  const { inputs, outputs } = partsOf(record, payload);
  const { partition, sequence, occurredAt } = record;
  const quantity = quantitiesOf(payload);
  for (const id of inputs) {
    const row = rows.product(id);
    if (!row) continue;
    const before = productStateOf(row);
    const { state, usedUp } = consumption(before, quantity(id));
    rows.putProduct({ ...withProductState(row, before, state), ...(usedUp ? { reason: 'transformed' } : {}) });
  }
  for (const id of outputs) {
    rows.putProduct({
      id,
      ...productKeyColumns(id),
      name: null,
      attributes: null,
      owner: payload.party,
      origin: payload.location,
      commissioned_at: occurredAt,
      reason: null,
      partition,
      last_sequence: sequence,
      ...productColumns(made(payload, quantity(id))),
    });
    for (const input of inputs) rows.lineage({ input_id: input, output_id: id, partition, sequence, occurred_at: occurredAt });
  }
}

export const custodyTransformed: CustodyEventDefinition<CustodyTransformedPayload> = {
  type: 'custody.transformed',
  payloadOf,
  evolve,
  project,
};

/**
 * The custody event types (docs/api.md, "What a step records"), each defined once, in a file of
 * its own: its payload, what it does to an entity's custody state and what it does to the read
 * models. The registry lives in custody, beside the rules it serves, and imports nothing from
 * the projection: the writer's state fold (custody-state.ts) and the projector's row fold
 * (src/projection/read-model-changes.ts) both look event types up here, so dependencies run one
 * way, from the projection (and the verifier, through the projector's fold) to custody.
 */

import type { EntityState } from '../entity-state.js';
import type { CustodyEventDefinition } from './custody-event.js';
import { custodyHandover } from './custody-handover.js';
import { custodyInspected } from './custody-inspected.js';
import { custodyTransformed } from './custody-transformed.js';
import { EPCIS_OBSERVED, epcisObserved } from './epcis-observed.js';
import { productCommissioned } from './product-commissioned.js';
import { productDecommissioned } from './product-decommissioned.js';
import { projectStep } from './row-writes.js';
import { shipmentCreated } from './shipment-created.js';
import { shipmentDispatched } from './shipment-dispatched.js';
import { shipmentPacked } from './shipment-packed.js';
import { shipmentReceived } from './shipment-received.js';
import { shipmentUnpacked } from './shipment-unpacked.js';

export type { ContainmentRow, LineageRow, ProductRow, ReadModelRows, ShipmentRow, Unpacking } from './read-model-rows.js';

export {
  EPCIS_OBSERVED,
  custodyHandover,
  custodyInspected,
  custodyTransformed,
  epcisObserved,
  productCommissioned,
  productDecommissioned,
  shipmentCreated,
  shipmentDispatched,
  shipmentPacked,
  shipmentReceived,
  shipmentUnpacked,
};

export const CUSTODY_EVENT_TYPES: readonly CustodyEventDefinition[] = [
  productCommissioned,
  productDecommissioned,
  shipmentCreated,
  shipmentPacked,
  shipmentUnpacked,
  shipmentDispatched,
  shipmentReceived,
  custodyHandover,
  custodyInspected,
  custodyTransformed,
  epcisObserved,
];

const BY_TYPE = new Map(CUSTODY_EVENT_TYPES.map((definition) => [definition.type, definition]));

/** The definition of an event type, or undefined for one this version does not know. */
export function eventTypeOf(type: string): CustodyEventDefinition | undefined {
  return BY_TYPE.get(type);
}

/**
 * What a record of a type this version does not know does (one a later version wrote, or another
 * model's): it changes no custody state, and the rows it names only stand at it (last_sequence).
 */
export const UNKNOWN_EVENT_TYPE: Pick<CustodyEventDefinition, 'evolve' | 'project'> = {
  evolve: (state: EntityState | undefined) => state,
  project: (record, rows) => {
    projectStep(record, rows, (state) => state);
  },
};

import { handover, inspect, transform } from './custody-steps.js';
import { commissionProduct, decommissionProduct } from './product-steps.js';
import { createShipment, dispatchShipment, packShipment, receiveShipment, unpackShipment } from './shipment-steps.js';
import type { StepDefinition } from './step-definition.js';

/**
 * Every kind of custody step the API takes, by the `type` a batch gives it: the one registry of
 * step definitions (schema, acting party, command), which each step's own route and batch
 * capture share.
 */
export const STEPS: ReadonlyMap<string, StepDefinition> = new Map(
  [
    commissionProduct,
    decommissionProduct,
    createShipment,
    packShipment,
    unpackShipment,
    dispatchShipment,
    receiveShipment,
    handover,
    inspect,
    transform,
  ].map((definition) => [definition.type, definition]),
);

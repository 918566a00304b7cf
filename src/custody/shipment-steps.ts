import { Type } from '@sinclair/typebox';
import { digitalLinkPath } from '../gs1/digital-link.js';
import { parseSscc } from '../gs1/gs1-keys.js';
import { invalidRequest } from '../infrastructure/http/request-validation.js';
import { defineStep } from './step-definition.js';
import { Gln, ProductRef, ShipmentRef, StepBody } from './step-fields.js';

/** Most products one aggregation step packs or unpacks. */
export const MAX_PRODUCTS_PER_PACK = 1000;

/** A logistic unit (pallet, parcel, container) identified by its SSCC. */
export const createShipment = defineStep({
  type: 'create-shipment',
  summary: 'Create a shipment (SSCC) at its origin, bound for a destination',
  schema: StepBody(
    {
      sscc: Type.String({ format: 'sscc', maxLength: 18, description: 'SSCC-18 with its check digit' }),
      owner: Gln('the party that creates and holds the shipment: the caller'),
      origin: Gln('where the shipment is made up'),
      destination: Gln('where it is bound (GLN of the site)'),
      consignee: Gln('the party it is for: the only one that may receive it'),
    },
    'a shipment to create',
  ),
  example: {
    sscc: '106141411234567897',
    owner: '4012345000009',
    origin: '4012345000016',
    destination: '4098765000027',
    consignee: '4098765000010',
    occurredAt: '2026-11-26T09:00:00+01:00',
  },
  actingParty: (body) => ({ pointer: '/owner', party: body.owner }),
  toCommand: (body) => {
    const sscc = parseSscc(body.sscc);
    if (!sscc.ok) throw invalidRequest([{ pointer: '/sscc', detail: sscc.problem }]);
    return {
      type: 'create-shipment',
      shipment: digitalLinkPath({ kind: 'sscc', sscc: sscc.value }),
      owner: body.owner,
      location: body.origin,
      destination: body.destination,
      consignee: body.consignee,
    };
  },
});

const Aggregation = (description: string) =>
  StepBody(
    {
      shipment: ShipmentRef(),
      products: Type.Array(ProductRef(), { minItems: 1, maxItems: MAX_PRODUCTS_PER_PACK, uniqueItems: true }),
      party: Gln('the party that holds the shipment: the caller'),
      location: Gln('where it happens'),
    },
    description,
  );

const aggregationExample = {
  shipment: '/00/106141411234567897',
  products: ['/01/09506000134352/21/SN-0001', '/01/09506000134352/21/SN-0002'],
  party: '4012345000009',
  location: '4012345000016',
  occurredAt: '2026-11-26T09:15:00+01:00',
};

/** Aggregation (EPCIS AggregationEvent, action ADD, bizStep packing). */
export const packShipment = defineStep({
  type: 'pack',
  summary: 'Pack products into a shipment',
  schema: Aggregation('products to pack into a shipment'),
  example: aggregationExample,
  actingParty: (body) => ({ pointer: '/party', party: body.party }),
  toCommand: (body) => ({
    type: 'pack',
    shipment: body.shipment,
    products: body.products,
    party: body.party,
    location: body.location,
  }),
});

/** Disaggregation (EPCIS AggregationEvent, action DELETE, bizStep unpacking). */
export const unpackShipment = defineStep({
  type: 'unpack',
  summary: 'Unpack products from a shipment',
  schema: Aggregation('products to unpack from a shipment'),
  example: aggregationExample,
  actingParty: (body) => ({ pointer: '/party', party: body.party }),
  toCommand: (body) => ({
    type: 'unpack',
    shipment: body.shipment,
    products: body.products,
    party: body.party,
    location: body.location,
  }),
});

const Movement = (party: string, description: string) =>
  StepBody({ shipment: ShipmentRef(), party: Gln(party), location: Gln('where it happens') }, description);

/** bizStep shipping: the shipment leaves; every product packed in it goes with it. */
export const dispatchShipment = defineStep({
  type: 'dispatch',
  summary: 'Dispatch a shipment (with every product packed in it)',
  schema: Movement('the party that holds the shipment: the caller', 'a shipment to dispatch'),
  example: {
    shipment: '/00/106141411234567897',
    party: '4012345000009',
    location: '4012345000016',
    occurredAt: '2026-11-26T10:00:00+01:00',
  },
  actingParty: (body) => ({ pointer: '/party', party: body.party }),
  toCommand: (body) => ({ type: 'dispatch', shipment: body.shipment, party: body.party, location: body.location }),
});

/** bizStep receiving: the receiving party takes custody of the shipment and its contents. */
export const receiveShipment = defineStep({
  type: 'receive',
  summary: 'Receive a dispatched shipment',
  schema: Movement('the party that receives the shipment: the caller', 'a shipment to receive'),
  example: {
    shipment: '/00/106141411234567897',
    party: '4098765000010',
    location: '4098765000027',
    occurredAt: '2026-11-27T07:30:00+01:00',
  },
  actingParty: (body) => ({ pointer: '/party', party: body.party }),
  toCommand: (body) => ({ type: 'receive', shipment: body.shipment, by: body.party, location: body.location }),
});

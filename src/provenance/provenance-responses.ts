import { Type } from '@sinclair/typebox';
import { nullable, Sha256HexSchema } from '../infrastructure/http/api-schemas.js';

/**
 * What the provenance routes answer, for the OpenAPI document: the read models' rows
 * (provenance-queries.ts, migrations/*-read-models.ts) and how far the projection has caught up.
 */
const GLN = Type.String({ pattern: '^\\d{13}$', description: 'a party or location (GLN)' });
const TIME = Type.String({ description: 'RFC 3339' });

const ProjectionSchema = Type.Array(
  Type.Object({
    partition: Type.Integer(),
    nextSequence: Type.Integer({ description: 'the first sequence of the partition not yet in the read models' }),
    nextOffset: Type.String({ description: 'the Kafka offset the projector reads next' }),
  }),
  { description: 'how far the read models have caught up with the ledger, per partition' },
);

const ProductSchema = Type.Object({
  id: Type.String({ description: 'the GS1 Digital Link path' }),
  gtin: Type.String(),
  serial: nullable(Type.String()),
  lot: nullable(Type.String()),
  name: nullable(Type.String()),
  attributes: nullable(Type.Record(Type.String(), Type.Unknown())),
  owner: GLN,
  origin: GLN,
  commissionedAt: TIME,
  status: Type.Union([Type.Literal('active'), Type.Literal('decommissioned')]),
  reason: nullable(Type.String({ description: 'why it was decommissioned' })),
  holder: GLN,
  location: GLN,
  shipment: nullable(Type.String({ description: 'the shipment it is packed in' })),
  partition: Type.Integer(),
  lastSequence: Type.Integer({ description: 'the last record about it that the read models hold' }),
  quantity: nullable(Type.Number({ description: 'what is left of a lot whose quantity is known, in `uom`' })),
  uom: nullable(Type.String({ description: 'the unit of `quantity` (UN/ECE Rec 20); null for a count of items' })),
});

const ShipmentSchema = Type.Object({
  id: Type.String({ description: 'the GS1 Digital Link path, /00/{SSCC}' }),
  sscc: Type.String(),
  owner: GLN,
  origin: GLN,
  destination: GLN,
  consignee: GLN,
  createdAt: TIME,
  status: Type.Union([Type.Literal('open'), Type.Literal('in-transit')]),
  holder: GLN,
  location: GLN,
  partition: Type.Integer(),
  lastSequence: Type.Integer(),
});

const ContentsSchema = Type.Array(Type.Object({ productId: Type.String(), packedAt: TIME }));

const HistoryStepSchema = Type.Object({
  eventType: Type.String(),
  occurredAt: TIME,
  recordedAt: TIME,
  actor: Type.String({ description: 'the name of the API key that recorded it' }),
  via: nullable(Type.String({ description: "the shipment, when the step was the shipment's" })),
  subject: Type.String(),
  payload: Type.Record(Type.String(), Type.Unknown(), { description: 'the record payload (docs/api.md)' }),
  ledger: Type.Object({
    partition: Type.Integer(),
    sequence: Type.Integer(),
    offset: Type.String(),
    hash: Sha256HexSchema,
    eventId: Type.String({ format: 'uuid' }),
  }),
});

export const ProductAnswerSchema = Type.Object({ product: ProductSchema, projection: ProjectionSchema });

export const HistoryAnswerSchema = Type.Object({
  product: Type.String({ description: 'the GS1 Digital Link path' }),
  steps: Type.Array(HistoryStepSchema),
  next: nullable(Type.String({ description: 'the cursor of the next page; null on the last' })),
  projection: ProjectionSchema,
});

export const BackwardAnswerSchema = Type.Object({
  product: ProductSchema,
  inputs: Type.Array(
    Type.Object({
      id: Type.String(),
      depth: Type.Integer({ description: 'transformations between it and the product' }),
      owner: GLN,
      origin: GLN,
      commissionedAt: TIME,
      status: Type.String(),
    }),
  ),
  projection: ProjectionSchema,
});

export const ForwardAnswerSchema = Type.Object({
  lot: Type.String({ description: 'the LGTIN path' }),
  products: Type.Array(
    Type.Object({
      id: Type.String(),
      status: Type.String(),
      holder: GLN,
      location: GLN,
      depth: Type.Integer({ description: '0 for the lot and its items; transformations after them' }),
      holders: Type.Array(GLN, { description: 'every party that held it, in order' }),
    }),
  ),
  projection: ProjectionSchema,
});

export const ShipmentAnswerSchema = Type.Object({
  shipment: ShipmentSchema,
  contents: ContentsSchema,
  projection: ProjectionSchema,
});

export const ContentsAnswerSchema = Type.Object({
  shipment: Type.String(),
  at: nullable(Type.String({ description: 'the moment asked for; null for now' })),
  contents: ContentsSchema,
  projection: ProjectionSchema,
});

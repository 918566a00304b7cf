import { type TProperties, Type } from '@sinclair/typebox';

/**
 * The fields custody steps share, as JSON Schema (TypeBox): one definition validates requests
 * (src/infrastructure/http/request-validation.ts), types the handlers and documents the API
 * in OpenAPI. Formats name GS1 keys, checked with their check digits (src/gs1/).
 */
export const Gln = (description: string) =>
  Type.String({ format: 'gln', minLength: 13, maxLength: 13, description, example: '4012345000009' });

export const ProductRef = (description = 'the product, as its GS1 Digital Link path (SGTIN or LGTIN)') =>
  Type.String({ format: 'gs1-product', maxLength: 80, description, example: '/01/09506000134352/21/SN-0001' });

export const ShipmentRef = (description = 'the shipment, as its GS1 Digital Link path /00/{SSCC}') =>
  Type.String({ format: 'gs1-shipment', maxLength: 22, description, example: '/00/106141411234567897' });

export const EntityRef = (description = 'a product or a shipment, as its GS1 Digital Link path') =>
  Type.String({ format: 'gs1-entity', maxLength: 80, description, example: '/00/106141411234567897' });

/** An amount of a lot (EPCIS quantity), exact to six decimals (src/custody/quantity.ts). */
export const Amount = (description: string) =>
  Type.Number({ exclusiveMinimum: 0, maximum: 1e9, description: `${description}; at most six decimals`, example: 60 });

/** A unit of measure: a UN/ECE Recommendation 20 code, as EPCIS quantity elements carry it. */
export const Uom = () =>
  Type.String({
    pattern: '^[A-Z0-9]{2,3}$',
    description: 'UN/ECE Rec 20 unit code, such as KGM or LTR; none for a count of items',
    example: 'KGM',
  });

export const OccurredAt = () =>
  Type.String({
    format: 'date-time',
    maxLength: 40,
    description: 'when the step happened, RFC 3339 with an offset; at most the configured skew in the future',
    example: '2026-11-26T09:30:00+01:00',
  });

export const Evidence = () =>
  Type.Object(
    {
      documentHash: Type.Optional(
        Type.String({
          pattern: '^[0-9a-f]{64}$',
          description: 'SHA-256 of a supporting document (delivery note, certificate), lowercase hex',
        }),
      ),
      url: Type.Optional(Type.String({ format: 'uri', maxLength: 2048, description: 'where the document can be fetched' })),
    },
    { additionalProperties: false, minProperties: 1, description: 'a document that supports the step' },
  );

/** A step's body: its own fields, then when it happened and its evidence. Unknown fields are refused. */
export const StepBody = <T extends TProperties>(properties: T, description: string) =>
  Type.Object(
    { ...properties, occurredAt: OccurredAt(), evidence: Type.Optional(Evidence()) },
    { additionalProperties: false, description },
  );

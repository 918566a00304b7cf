import { Type } from '@sinclair/typebox';
import { defineStep } from './step-definition.js';
import { EntityRef, Gln, ProductRef, StepBody } from './step-fields.js';

/** bizStep holding → another party: custody passes from one party to another. */
export const handover = defineStep({
  type: 'handover',
  summary: 'Hand a product or a shipment over to another party',
  schema: StepBody(
    {
      subject: EntityRef(),
      from: Gln('the party that holds it and hands it over: the caller'),
      to: Gln('the party that takes custody'),
      location: Gln('where the handover happens'),
    },
    'a handover',
  ),
  example: {
    subject: '/00/106141411234567897',
    from: '4012345000009',
    to: '4054321000002',
    location: '4012345000016',
    occurredAt: '2026-11-26T10:05:00+01:00',
  },
  actingParty: (body) => ({ pointer: '/from', party: body.from }),
  toCommand: (body) => ({ type: 'handover', subject: body.subject, from: body.from, to: body.to, location: body.location }),
});

/** bizStep inspecting, with its result (disposition conformant / non_conformant). */
export const inspect = defineStep({
  type: 'inspect',
  summary: 'Record an inspection of a product or a shipment, with its result',
  schema: StepBody(
    {
      subject: EntityRef(),
      party: Gln('the inspecting party: the caller'),
      location: Gln('where the inspection happens'),
      result: Type.Union([Type.Literal('passed'), Type.Literal('failed')]),
      note: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    },
    'an inspection',
  ),
  example: {
    subject: '/01/09506000134352/21/SN-0001',
    party: '4098765000014',
    location: '4098765000021',
    result: 'passed',
    note: 'temperature log within 2-8 °C',
    occurredAt: '2026-11-27T08:00:00+01:00',
  },
  actingParty: (body) => ({ pointer: '/party', party: body.party }),
  toCommand: (body) => ({
    type: 'inspect',
    subject: body.subject,
    party: body.party,
    location: body.location,
    result: body.result,
    ...(body.note !== undefined ? { note: body.note } : {}),
  }),
});

const Quantified = Type.Object(
  {
    product: ProductRef(),
    quantity: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e12 })),
    uom: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{2,3}$', description: 'UN/ECE Rec 20 unit code, such as KGM or LTR' })),
  },
  { additionalProperties: false },
);

/** EPCIS TransformationEvent: inputs are consumed, outputs are commissioned. */
export const transform = defineStep({
  type: 'transform',
  summary: 'Transform input products into output products',
  schema: StepBody(
    {
      party: Gln('the party that holds the inputs and transforms them: the caller'),
      location: Gln('where the transformation happens'),
      inputs: Type.Array(Quantified, { minItems: 1, maxItems: 100 }),
      outputs: Type.Array(Quantified, { minItems: 1, maxItems: 100 }),
    },
    'a transformation',
  ),
  example: {
    party: '4012345000009',
    location: '4012345000016',
    inputs: [{ product: '/01/09506000134352/10/LOT-7', quantity: 120, uom: 'KGM' }],
    outputs: [{ product: '/01/09506000134369/10/LOT-7A', quantity: 100, uom: 'KGM' }],
    occurredAt: '2026-11-26T12:00:00+01:00',
  },
  actingParty: (body) => ({ pointer: '/party', party: body.party }),
  toCommand: (body) => {
    const quantities = [...body.inputs, ...body.outputs]
      .filter((item) => item.quantity !== undefined)
      .map((item) => ({ product: item.product, quantity: item.quantity as number, ...(item.uom ? { uom: item.uom } : {}) }));
    return {
      type: 'transform',
      party: body.party,
      location: body.location,
      inputs: body.inputs.map((item) => item.product),
      outputs: body.outputs.map((item) => item.product),
      ...(quantities.length ? { quantities } : {}),
    };
  },
});

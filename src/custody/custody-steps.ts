import { Type } from '@sinclair/typebox';
import { invalidRequest } from '../infrastructure/http/request-validation.js';
import { MAX_TRANSFORM_OUTPUTS } from './custody-decider.js';
import { QuantityError, toMicros } from './quantity.js';
import { defineStep } from './step-definition.js';
import { Amount, EntityRef, Gln, ProductRef, StepBody, Uom } from './step-fields.js';

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

const Quantified = (role: string) =>
  Type.Object(
    {
      product: ProductRef(),
      quantity: Type.Optional(Amount(role)),
      uom: Type.Optional(Uom()),
    },
    { additionalProperties: false },
  );

/** The quantities of a transformation's products, each exact to six decimals, or a 400 naming the one that is not. */
function quantitiesOf(
  items: readonly { product: string; quantity?: number; uom?: string }[],
  pointer: string,
): { product: string; quantity: number; uom?: string }[] {
  return items.flatMap((item, i) => {
    if (item.quantity === undefined) return [];
    try {
      toMicros(item.quantity);
    } catch (error) {
      if (error instanceof QuantityError) throw invalidRequest([{ pointer: `${pointer}/${i}/quantity`, detail: error.message }]);
      throw error;
    }
    return [{ product: item.product, quantity: item.quantity, ...(item.uom ? { uom: item.uom } : {}) }];
  });
}

/**
 * EPCIS TransformationEvent: the inputs are consumed, the outputs commissioned. An input with a
 * quantity takes that much of a lot whose quantity is known, which stays active until it is used
 * up; an input without one is consumed whole. An output with a quantity starts with it.
 */
export const transform = defineStep({
  type: 'transform',
  summary: 'Transform input products into output products; a lot can be consumed in part, by quantity',
  schema: StepBody(
    {
      party: Gln('the party that holds the inputs and transforms them: the caller'),
      location: Gln('where the transformation happens'),
      inputs: Type.Array(Quantified('how much of the input is consumed (all of it when absent)'), { minItems: 1, maxItems: 100 }),
      outputs: Type.Array(Quantified('how much of the output is made (a lot), when known'), {
        minItems: 1,
        maxItems: MAX_TRANSFORM_OUTPUTS,
      }),
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
    const quantities = [...quantitiesOf(body.inputs, '/inputs'), ...quantitiesOf(body.outputs, '/outputs')];
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

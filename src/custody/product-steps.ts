import { Type } from '@sinclair/typebox';
import type { JsonValue } from '../ledger/canonical-json.js';
import { digitalLinkPath } from '../gs1/digital-link.js';
import { parseGtin } from '../gs1/gs1-keys.js';
import { invalidRequest } from '../infrastructure/http/request-validation.js';
import { defineStep } from './step-definition.js';
import { Amount, Gln, ProductRef, StepBody, Uom } from './step-fields.js';
import { QuantityError, toMicros } from './quantity.js';

/** GS1 AI encodable character set 82, 1 to 20 characters (serial and lot numbers). */
const CSET82 = '^[!"%&\'()*+,\\-./0-9:;<=>?A-Z_a-z]{1,20}$';

const Attributes = Type.Record(
  Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' }),
  Type.Union([Type.String({ maxLength: 500 }), Type.Number(), Type.Boolean()]),
  { maxProperties: 50, description: 'further product attributes (name: string, number or boolean)' },
);

/** Commissioning (EPCIS ObjectEvent, action ADD, bizStep commissioning): a product enters the ledger. */
export const commissionProduct = defineStep({
  type: 'commission',
  summary: 'Commission a product (SGTIN: GTIN + serial, or LGTIN: GTIN + lot)',
  schema: StepBody(
    {
      gtin: Type.String({ format: 'gtin', maxLength: 14, description: 'GTIN-8, -12, -13 or -14, with its check digit' }),
      serial: Type.Optional(Type.String({ pattern: CSET82, description: 'serial number (AI 21): one item (SGTIN)' })),
      lot: Type.Optional(
        Type.String({
          pattern: CSET82,
          description: 'batch or lot number (AI 10): alone a lot (LGTIN); with a serial, the lot the item belongs to',
        }),
      ),
      name: Type.String({ minLength: 1, maxLength: 200 }),
      owner: Gln('the party that owns and holds the product: the caller'),
      location: Gln('where it was commissioned (GLN of the site)'),
      attributes: Type.Optional(Attributes),
      quantity: Type.Optional(Amount('how much the lot holds; transformations then consume it in part, until it is used up')),
      uom: Type.Optional(Uom()),
    },
    'a product to commission',
  ),
  example: {
    gtin: '09506000134352',
    serial: 'SN-0001',
    name: 'Cold-chain vaccine, 10 doses',
    owner: '4012345000009',
    location: '4012345000016',
    occurredAt: '2026-11-26T08:00:00+01:00',
    attributes: { expiry: '2027-11-30' },
  },
  actingParty: (body) => ({ pointer: '/owner', party: body.owner }),
  toCommand: (body) => {
    if (body.serial === undefined && body.lot === undefined) {
      throw invalidRequest([
        { pointer: '/serial', detail: 'give a serial (an item), a lot (a lot), or both (an item of a lot)' },
      ]);
    }
    const gtin = parseGtin(body.gtin);
    if (!gtin.ok) throw invalidRequest([{ pointer: '/gtin', detail: gtin.problem }]);
    const product =
      body.serial !== undefined
        ? digitalLinkPath({ kind: 'sgtin', gtin: gtin.value, serial: body.serial })
        : digitalLinkPath({ kind: 'lgtin', gtin: gtin.value, lot: body.lot as string });
    const details: { [key: string]: JsonValue } = { gtin: gtin.value, name: body.name };
    if (body.serial !== undefined) details.serial = body.serial;
    if (body.lot !== undefined) details.lot = body.lot;
    if (body.attributes) details.attributes = body.attributes;
    if (body.quantity !== undefined) {
      try {
        toMicros(body.quantity);
      } catch (error) {
        if (error instanceof QuantityError) throw invalidRequest([{ pointer: '/quantity', detail: error.message }]);
        throw error;
      }
      details.quantity = body.quantity;
      if (body.uom !== undefined) details.uom = body.uom;
    } else if (body.uom !== undefined) {
      throw invalidRequest([{ pointer: '/uom', detail: 'a unit of measure goes with a quantity' }]);
    }
    return { type: 'commission', product, owner: body.owner, location: body.location, details };
  },
});

/** Decommissioning (bizStep decommissioning / destroying): no step can follow. */
export const decommissionProduct = defineStep({
  type: 'decommission',
  summary: 'Decommission a product: destroyed, consumed or recalled',
  schema: StepBody(
    {
      product: ProductRef(),
      party: Gln('the party that holds the product: the caller'),
      location: Gln('where it happened'),
      reason: Type.Union([Type.Literal('destroyed'), Type.Literal('consumed'), Type.Literal('recalled')]),
    },
    'a product to decommission',
  ),
  example: {
    product: '/01/09506000134352/21/SN-0001',
    party: '4012345000009',
    location: '4012345000016',
    reason: 'recalled',
    occurredAt: '2026-11-27T10:00:00Z',
  },
  actingParty: (body) => ({ pointer: '/party', party: body.party }),
  toCommand: (body) => ({
    type: 'decommission',
    product: body.product,
    party: body.party,
    location: body.location,
    reason: body.reason,
  }),
});

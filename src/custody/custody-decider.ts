import type { JsonValue } from '../ledger/canonical-json.js';
import type { EntityState, ProductState, ShipmentState } from './entity-state.js';
import {
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
} from './events/index.js';
import { fromMicros, quantityOf, unitText } from './quantity.js';

/**
 * The custody rules as a pure decider (functional core): given a command and the state of
 * the entities it touches, the record to append, or a RuleViolation naming the rule. The
 * writer runs it again when it drafts the record (docs/rules-and-concurrency.md), so a
 * decision never rests on a stale read.
 */
export type RuleName =
  | 'unknown-entity'
  | 'already-exists'
  | 'decommissioned'
  | 'wrong-kind'
  | 'not-holder'
  | 'packed-elsewhere'
  | 'not-inside'
  | 'shipment-in-transit'
  | 'shipment-full'
  | 'receive-before-dispatch'
  | 'not-consignee'
  | 'step-on-packed-product'
  | 'occurred-in-future'
  | 'changed-meanwhile'
  | 'insufficient-quantity'
  | 'unit-mismatch';

export class RuleViolation extends Error {
  override name = 'RuleViolation';

  constructor(
    readonly rule: RuleName,
    message: string,
    /** Where in the request body the step that broke it is (a batch's step, an EPCIS event); undefined for a single step. */
    readonly pointer?: string,
  ) {
    super(message);
  }
}

export type CustodyCommand =
  | { type: 'commission'; product: string; owner: string; location: string; details: { [key: string]: JsonValue } }
  | { type: 'decommission'; product: string; party: string; location: string; reason: 'destroyed' | 'consumed' | 'recalled' }
  | { type: 'create-shipment'; shipment: string; owner: string; location: string; destination: string; consignee: string }
  | { type: 'pack' | 'unpack'; shipment: string; products: readonly string[]; party: string; location: string }
  | { type: 'dispatch'; shipment: string; party: string; location: string }
  | { type: 'receive'; shipment: string; by: string; location: string }
  | { type: 'handover'; subject: string; from: string; to: string; location: string }
  | { type: 'inspect'; subject: string; party: string; location: string; result: 'passed' | 'failed'; note?: string }
  | {
      type: 'transform';
      party: string;
      location: string;
      inputs: readonly string[];
      outputs: readonly string[];
      /** Quantities of lots consumed and produced (EPCIS quantity lists), where known. */
      quantities?: readonly { product: string; quantity: number; uom?: string }[];
    }
  /**
   * An EPCIS event that is no custody step (docs/epcis.md), on the chains of the entities it
   * names, which its party holds (or which are not in the ledger yet); it changes no custody state.
   */
  | { type: 'observe'; party: string; entities: readonly string[] };

/**
 * Most outputs of one transformation: a roast of a lot makes thousands of bags. The record names
 * every input and output (about 70 bytes each), like a step on a shipment names its contents.
 */
export const MAX_TRANSFORM_OUTPUTS = 5000;

/**
 * Most products one shipment holds. A step on a shipment names every product in it, so this
 * bounds the size of its records (about 130 bytes per product) well inside a Kafka transaction.
 */
export const MAX_SHIPMENT_CONTENTS = 2000;

/** The event type each command records (docs/ledger-format.md, "Custody events"). */
export const EVENT_TYPE_OF: { readonly [T in CustodyCommand['type']]: string } = {
  commission: productCommissioned.type,
  decommission: productDecommissioned.type,
  'create-shipment': shipmentCreated.type,
  pack: shipmentPacked.type,
  unpack: shipmentUnpacked.type,
  dispatch: shipmentDispatched.type,
  receive: shipmentReceived.type,
  handover: custodyHandover.type,
  inspect: custodyInspected.type,
  transform: custodyTransformed.type,
  observe: epcisObserved.type,
};

/** The entity a command is about: the first entity of its record, which routes it. */
export function subjectOf(command: CustodyCommand): string {
  switch (command.type) {
    case 'commission':
    case 'decommission':
      return command.product;
    case 'create-shipment':
    case 'pack':
    case 'unpack':
    case 'dispatch':
    case 'receive':
      return command.shipment;
    case 'handover':
    case 'inspect':
      return command.subject;
    case 'transform':
      return command.inputs[0] ?? '';
    case 'observe':
      return command.entities[0] ?? '';
  }
}

/** Every entity a command names itself (a step on a shipment names its contents too, from the shipment's state). */
export function entitiesNamedBy(command: CustodyCommand): string[] {
  switch (command.type) {
    case 'pack':
    case 'unpack':
      return [command.shipment, ...command.products];
    case 'transform':
      return [...command.inputs, ...command.outputs];
    case 'observe':
      return [...command.entities];
    default:
      return [subjectOf(command)];
  }
}

export interface Decision {
  readonly eventType: string;
  /** The subject first; for a step on a shipment, then every product packed in it. */
  readonly entityIds: readonly string[];
  readonly payload: { readonly [key: string]: JsonValue };
}

type StateOf = (entityId: string) => unknown;

function existing(stateOf: StateOf, id: string): EntityState {
  const state = stateOf(id) as EntityState | undefined;
  if (!state) throw new RuleViolation('unknown-entity', `${id} is not in the ledger`);
  if (state.kind === 'product' && state.status === 'decommissioned') {
    throw new RuleViolation('decommissioned', `${id} was decommissioned; no step can follow`);
  }
  return state;
}

function product(stateOf: StateOf, id: string): ProductState {
  const state = existing(stateOf, id);
  if (state.kind !== 'product') throw new RuleViolation('wrong-kind', `${id} is a shipment, not a product`);
  return state;
}

function shipment(stateOf: StateOf, id: string): ShipmentState {
  const state = existing(stateOf, id);
  if (state.kind !== 'shipment') throw new RuleViolation('wrong-kind', `${id} is a product, not a shipment`);
  return state;
}

function absent(stateOf: StateOf, id: string): void {
  if (stateOf(id) !== undefined) throw new RuleViolation('already-exists', `${id} is in the ledger already`);
}

function heldBy(state: EntityState, id: string, party: string): void {
  if (state.holder !== party) throw new RuleViolation('not-holder', `${id} is held by ${state.holder}, not by ${party}`);
}

/** A product inside a shipment moves with it: steps go to the shipment, or it is unpacked first. */
function loose(state: ProductState, id: string): void {
  if (state.shipment)
    throw new RuleViolation('step-on-packed-product', `${id} is packed in ${state.shipment}; act on the shipment or unpack it`);
}

function subjectWithContents(stateOf: StateOf, id: string): { state: EntityState; entityIds: string[] } {
  const state = existing(stateOf, id);
  if (state.kind === 'product') {
    loose(state, id);
    return { state, entityIds: [id] };
  }
  return { state, entityIds: [id, ...state.contents] };
}

export function decide(command: CustodyCommand, stateOf: StateOf): Decision {
  switch (command.type) {
    case 'commission':
      absent(stateOf, command.product);
      return {
        eventType: productCommissioned.type,
        entityIds: [command.product],
        payload: { ...command.details, owner: command.owner, location: command.location },
      };
    case 'decommission': {
      const state = product(stateOf, command.product);
      heldBy(state, command.product, command.party);
      loose(state, command.product);
      return {
        eventType: productDecommissioned.type,
        entityIds: [command.product],
        payload: { party: command.party, location: command.location, reason: command.reason },
      };
    }
    case 'create-shipment':
      absent(stateOf, command.shipment);
      return {
        eventType: shipmentCreated.type,
        entityIds: [command.shipment],
        payload: {
          owner: command.owner,
          location: command.location,
          destination: command.destination,
          consignee: command.consignee,
        },
      };
    case 'pack':
    case 'unpack': {
      const box = shipment(stateOf, command.shipment);
      heldBy(box, command.shipment, command.party);
      if (box.status === 'in-transit')
        throw new RuleViolation('shipment-in-transit', `${command.shipment} is in transit; receive it first`);
      if (command.type === 'pack' && box.contents.length + command.products.length > MAX_SHIPMENT_CONTENTS) {
        throw new RuleViolation(
          'shipment-full',
          `${command.shipment} holds ${box.contents.length} products; at most ${MAX_SHIPMENT_CONTENTS} fit in one shipment`,
        );
      }
      for (const id of command.products) {
        const item = product(stateOf, id);
        if (command.type === 'pack') {
          heldBy(item, id, command.party);
          if (item.shipment) throw new RuleViolation('packed-elsewhere', `${id} is packed in ${item.shipment} already`);
        } else if (item.shipment !== command.shipment) {
          throw new RuleViolation('not-inside', `${id} is not packed in ${command.shipment}`);
        }
      }
      return {
        eventType: EVENT_TYPE_OF[command.type],
        entityIds: [command.shipment, ...command.products],
        payload: { party: command.party, location: command.location },
      };
    }
    case 'dispatch': {
      const box = shipment(stateOf, command.shipment);
      heldBy(box, command.shipment, command.party);
      if (box.status === 'in-transit')
        throw new RuleViolation('shipment-in-transit', `${command.shipment} was dispatched already`);
      return {
        eventType: shipmentDispatched.type,
        entityIds: [command.shipment, ...box.contents],
        payload: { party: command.party, location: command.location, destination: box.destination },
      };
    }
    case 'receive': {
      const box = shipment(stateOf, command.shipment);
      if (box.status !== 'in-transit')
        throw new RuleViolation('receive-before-dispatch', `${command.shipment} was not dispatched, so it cannot be received`);
      if (command.by !== box.consignee)
        throw new RuleViolation('not-consignee', `${command.shipment} is for ${box.consignee}; ${command.by} cannot receive it`);
      return {
        eventType: shipmentReceived.type,
        entityIds: [command.shipment, ...box.contents],
        payload: { by: command.by, location: command.location },
      };
    }
    case 'handover': {
      const { state, entityIds } = subjectWithContents(stateOf, command.subject);
      heldBy(state, command.subject, command.from);
      return {
        eventType: custodyHandover.type,
        entityIds,
        payload: { from: command.from, to: command.to, location: command.location },
      };
    }
    case 'inspect': {
      const { entityIds } = subjectWithContents(stateOf, command.subject);
      const payload = {
        party: command.party,
        location: command.location,
        result: command.result,
        ...(command.note ? { note: command.note } : {}),
      };
      return { eventType: custodyInspected.type, entityIds, payload };
    }
    case 'transform': {
      const quantities = new Map((command.quantities ?? []).map((q) => [q.product, quantityOf(q.quantity, q.uom)]));
      for (const id of command.inputs) {
        const state = product(stateOf, id);
        heldBy(state, id, command.party);
        loose(state, id);
        const used = quantities.get(id);
        if (used && state.quantity) {
          if (used.uom !== state.quantity.uom) {
            throw new RuleViolation(
              'unit-mismatch',
              `${id} is kept in ${unitText(state.quantity.uom)}; a quantity of it in ${unitText(used.uom)} cannot be taken`,
            );
          }
          if (used.micros > state.quantity.micros) {
            throw new RuleViolation(
              'insufficient-quantity',
              `${id} has ${fromMicros(state.quantity.micros)} ${unitText(state.quantity.uom)} left, not ${fromMicros(used.micros)}`,
            );
          }
        }
      }
      for (const id of command.outputs) absent(stateOf, id);
      // The outputs are the entities after the inputs; the payload does not list them again, so
      // a transformation into thousands of items is a record of batch size (docs/api.md).
      return {
        eventType: custodyTransformed.type,
        entityIds: [...command.inputs, ...command.outputs],
        payload: {
          party: command.party,
          location: command.location,
          inputs: [...command.inputs],
          ...(command.quantities?.length ? { quantities: command.quantities.map((q) => ({ ...q })) } : {}),
        },
      };
    }
    case 'observe':
      // An observation names only what its party holds, or what is not in the ledger yet: no
      // party writes onto the chains of what another holds (docs/epcis.md).
      for (const id of command.entities) {
        const state = stateOf(id) as EntityState | undefined;
        if (state && state.holder !== command.party) {
          throw new RuleViolation(
            'not-holder',
            `${id} is held by ${state.holder}; ${command.party} may only observe what it holds`,
          );
        }
      }
      return { eventType: epcisObserved.type, entityIds: [...command.entities], payload: { party: command.party } };
  }
}

/** occurredAt may lie in the future by at most `skewMs` (clocks of scanners and servers differ). */
export function checkOccurredAt(occurredAt: string, now: Date, skewMs: number): void {
  if (Date.parse(occurredAt) > now.getTime() + skewMs) {
    throw new RuleViolation('occurred-in-future', `occurredAt ${occurredAt} is more than ${skewMs / 1000} s in the future`);
  }
}

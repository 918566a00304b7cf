/**
 * Quantities of lots (EPCIS quantity elements: an amount and a UN/ECE Rec 20 unit of measure,
 * none for a count of items). A lot's remaining quantity is decided on by the rules, so it is
 * kept exactly: in millionths, a whole number, never as a sum of binary fractions. An amount has
 * at most six decimals and is at most 10^9, so its millionths are a safe integer.
 */
export interface Quantity {
  /** The amount in millionths of the unit. */
  readonly micros: number;
  /** The unit of measure (UN/ECE Rec 20), or null for a count of items. */
  readonly uom: string | null;
}

export const MAX_QUANTITY = 1e9;
const MICROS = 1e6;

export class QuantityError extends Error {
  override name = 'QuantityError';
}

/** The amount in millionths; throws when it is not a positive amount of at most six decimals. */
export function toMicros(amount: number): number {
  if (!Number.isFinite(amount) || amount <= 0 || amount > MAX_QUANTITY) {
    throw new QuantityError(`a quantity is more than 0 and at most ${MAX_QUANTITY}`);
  }
  const micros = Math.round(amount * MICROS);
  // The millionths must give the amount back exactly: more decimals do not.
  if (micros / MICROS !== amount) throw new QuantityError(`${amount} has more than six decimals`);
  return micros;
}

/** The millionths of an amount already checked (a quantity kept in a read model), without checking it again. */
export function microsOf(amount: number): number {
  return Math.round(amount * MICROS);
}

/** The amount the millionths stand for (the nearest double, whose shortest form is the decimal). */
export function fromMicros(micros: number): number {
  return micros / MICROS;
}

export function quantityOf(amount: number, uom: string | undefined | null): Quantity {
  return { micros: toMicros(amount), uom: uom ?? null };
}

/** How a unit reads in a message: its code, or "items" for a count. */
export function unitText(uom: string | null): string {
  return uom ?? 'items';
}

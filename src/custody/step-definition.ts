import type { Static, TSchema } from '@sinclair/typebox';
import type { CustodyCommand } from './custody-decider.js';

/**
 * One kind of custody step as the API takes it: the body's schema (validation, types and
 * OpenAPI in one), which field names the acting party, and the command it becomes. The same
 * definition serves its own route and batch capture.
 */
export interface StepDefinition<S extends TSchema = TSchema> {
  readonly type: CustodyCommand['type'];
  readonly schema: S;
  readonly summary: string;
  readonly example: Static<S>;
  /** The field naming the party that acts; it must be the caller's own party. */
  actingParty(body: Static<S>): { readonly pointer: string; readonly party: string };
  /** The command; throws a 400 problem for what the schema cannot say (one of two fields). */
  toCommand(body: Static<S>): CustodyCommand;
}

export const defineStep = <S extends TSchema>(definition: StepDefinition<S>): StepDefinition => definition;

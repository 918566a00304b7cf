import { applyDecorators } from '@nestjs/common';
import { ApiParam, ApiQuery, ApiResponse, type SchemaObject } from '@nestjs/swagger';
import { type Static, type TNull, type TObject, type TSchema, type TUnion, Type } from '@sinclair/typebox';
import { PROBLEM_CONTENT_TYPE } from './problem-details.js';

/**
 * How routes describe themselves in the OpenAPI document (api-document.ts), from the same
 * TypeBox schemas that validate what they take and say what they answer.
 */
/** TypeBox schemas are JSON Schema; the symbols TypeBox adds do not survive JSON. */
export const openApiSchema = (schema: TSchema): SchemaObject => JSON.parse(JSON.stringify(schema)) as SchemaObject;

type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/**
 * The type of an answer a schema describes, as a route holds it (read-only): a route that
 * declares it as its return type is checked by the compiler against what the document says.
 */
export type Answer<T extends TSchema> = DeepReadonly<Static<T>>;

/** A value or null. */
export const nullable = <T extends TSchema>(schema: T): TUnion<[T, TNull]> => Type.Union([schema, Type.Null()]);

/** A SHA-256 hash, hex, as the ledger writes them. */
export const Sha256HexSchema = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, hex' });

/** RFC 9457 problem details, as every error answer carries them (problem-details.ts). */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: '`about:blank` for a plain HTTP error, else one of docs/problems.md' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(
      Type.Array(Type.Object({ pointer: Type.String({ description: 'RFC 6901 JSON pointer' }), detail: Type.String() }), {
        description: 'one per wrong field',
      }),
    ),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details; extensions by type (docs/problems.md)' },
);

const PROBLEM_MEDIA_TYPE = PROBLEM_CONTENT_TYPE.split(';')[0] as string;

/** An error answer of a route: problem+json. */
export const ApiProblem = (status: number, description: string) =>
  ApiResponse({ status, description, content: { [PROBLEM_MEDIA_TYPE]: { schema: openApiSchema(ProblemSchema) } } });

/** The JSON answer of a route for a status, and the headers it carries (name: description). */
export const ApiAnswer = (status: number, description: string, schema: TSchema, headers: Record<string, string> = {}) =>
  ApiResponse({
    status,
    description,
    content: { 'application/json': { schema: openApiSchema(schema) } },
    ...(Object.keys(headers).length > 0
      ? {
          headers: Object.fromEntries(
            Object.entries(headers).map(([name, about]) => [name, { description: about, schema: { type: 'string' } }]),
          ),
        }
      : {}),
  });

/** One query parameter per property of the schema a route's query is validated with (SchemaPipe). */
export function ApiQueryOf(schema: TObject) {
  const required = new Set(schema.required ?? []);
  return applyDecorators(
    ...Object.entries(schema.properties).map(([name, property]) => {
      const { description, ...rest } = openApiSchema(property);
      return ApiQuery({ name, required: required.has(name), schema: rest, description });
    }),
  );
}

/** A path parameter, with its form. */
export const ApiPathParam = (name: string, description: string, schema: TSchema = Type.String()) =>
  ApiParam({ name, description, schema: openApiSchema(schema) });

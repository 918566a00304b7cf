/**
 * The OpenAPI document next to what the server really does: the routes Fastify registers, the
 * query schemas Nest validates with, and answers checked with Ajv against documented schemas.
 */
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { ModulesContainer } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { TObject } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import { FORMATS, SchemaPipe } from '../../src/infrastructure/http/request-validation.js';

export interface Operation {
  readonly parameters?: { name: string; in: string; required?: boolean; schema?: unknown }[];
  readonly responses: Record<string, { content?: Record<string, { schema?: unknown }>; headers?: Record<string, unknown> }>;
  readonly security?: Record<string, string[]>[];
}

export interface ApiDocument {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { securitySchemes?: Record<string, Record<string, unknown>> };
}

/** A route as "GET /products/01/{gtin}/21/{serial}": Fastify's `:name` written as OpenAPI's `{name}`. */
export const routeKey = (method: string, path: string) => `${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`;

/**
 * Every method and path Fastify serves, from its route tree (printRoutes), HEAD aside (Fastify
 * adds one to each GET). Each line is a node: its depth in the indentation, its path below its
 * parent, and its methods in parentheses when it has a route.
 */
export function fastifyRoutes(app: NestFastifyApplication): string[] {
  const tree = app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const node = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!node) continue;
    stack.length = (node[1] ?? '').length / 4;
    stack.push(node[2] ?? '');
    for (const method of node[3]?.split(', ') ?? []) if (method !== 'HEAD') routes.push(routeKey(method, stack.join('')));
  }
  return routes;
}

/** Every route a Nest controller declares, with the schema its query is validated with (if any). */
export function nestRoutes(app: NestFastifyApplication): Map<string, TObject | undefined> {
  const routes = new Map<string, TObject | undefined>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) {
      if (typeof metatype !== 'function') continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
      const prototype = metatype.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        if (path === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        const full = `/${[base, path]
          .flatMap((part) => part.split('/'))
          .filter(Boolean)
          .join('/')}`;
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, metatype, name) ?? {}) as Record<string, { pipes?: unknown[] }>;
        const query = Object.entries(args)
          .filter(([key]) => key.startsWith(`${RouteParamtypes.QUERY}:`))
          .flatMap(([, arg]) => arg.pipes ?? [])
          .find((pipe): pipe is SchemaPipe<TObject> => pipe instanceof SchemaPipe);
        routes.set(routeKey(method, full), query?.schema);
      }
    }
  }
  return routes;
}

/**
 * A copy of a documented schema in which every object lists all its members: an answer member
 * the document does not mention then fails validation. (The published document leaves objects
 * open, so that a new member is a compatible change for clients.)
 */
export function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Record<string, unknown> = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, closed(value)]));
  if ('properties' in copy && !('additionalProperties' in copy)) copy.additionalProperties = false;
  return copy;
}

const ajv = new Ajv({ allErrors: true, strict: false });
for (const [name, parse] of Object.entries(FORMATS)) ajv.addFormat(name, { validate: (value: string) => parse(value).ok });
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);

const validators = new WeakMap<object, ValidateFunction>();

/** Ajv's complaints about a value against a documented schema, closed; [] when it fits. */
export function schemaErrors(schema: object, value: unknown): string[] {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(closed(schema) as object);
    validators.set(schema, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (error) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`,
  );
}

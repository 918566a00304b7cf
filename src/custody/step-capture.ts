import { createParamDecorator, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../infrastructure/auth/api-keys.js';
import { callerOf, forbidden } from '../infrastructure/auth/access.js';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { ProblemException } from '../infrastructure/http/problem-details.js';
import { checkSchema, type FieldError, invalidRequest } from '../infrastructure/http/request-validation.js';
import { CanonicalJsonError, type JsonValue } from '../ledger/canonical-json.js';
import { EventIdConflictError, EventInFlightError } from '../ledger/ledger-errors.js';
import { type Idempotency, type RecordedStep, requestDigest, type StepToRecord } from './step-recorder.js';
import { STEP_RECORDING, type StepRecording } from './step-routing.js';
import type { StepDefinition } from './step-definition.js';

export const IDEMPOTENCY_KEY = 'idempotency-key';
const IDEMPOTENCY_KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;

/** The body of a 201: the step's event and its ledger receipt. */
export const RecordedStepSchema = Type.Object({
  eventId: Type.String({ format: 'uuid' }),
  eventType: Type.String({ example: 'custody.handover' }),
  subject: Type.String({ description: 'the entity the step is about (GS1 Digital Link path)' }),
  receipt: Type.Object(
    {
      ledgerId: Type.String(),
      partition: Type.Integer(),
      offset: Type.String({ description: 'Kafka offset of the record' }),
      sequence: Type.Integer({ description: "the record's place in its partition's chain" }),
      hash: Type.String({ description: 'SHA-256 of the record (docs/ledger-format.md)' }),
      checkpointSize: Type.Integer({ description: 'tree size of the signed checkpoint that covers the record' }),
    },
    { description: 'where the step is in the ledger; durable when the 201 is sent' },
  ),
});

/** What recording a step needs of its HTTP exchange: who calls, the request, the reply. */
export interface StepExchange {
  readonly caller: Principal | null;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
}

export const Exchange = createParamDecorator((_: unknown, context: ExecutionContext): StepExchange => {
  const http = context.switchToHttp();
  const request = http.getRequest<FastifyRequest>();
  return { caller: callerOf(request), request, reply: http.getResponse<FastifyReply>() };
});

/**
 * The HTTP side of recording steps, shared by the products, shipments and custody routes:
 * the caller may only act for its own party, the Idempotency-Key header is read, and the
 * ledger's refusals of a reused key become problems.
 */
@Injectable()
export class StepCapture {
  constructor(
    @Inject(STEP_RECORDING) private readonly recorder: StepRecording,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {}

  async one(definition: StepDefinition, body: unknown, exchange: StepExchange): Promise<RecordedStep> {
    const [step] = await this.record([{ definition, body: body as never, pointer: '' }], exchange);
    return step as RecordedStep;
  }

  /** A batch: each step checked against its own schema first, every error named. */
  async batch(
    definitions: ReadonlyMap<string, StepDefinition>,
    steps: readonly { readonly type: string }[],
    exchange: StepExchange,
  ): Promise<RecordedStep[]> {
    const max = this.config.custody.maxBatchSteps;
    if (steps.length > max) throw invalidRequest([{ pointer: '/steps', detail: `a batch holds at most ${max} steps` }]);
    const errors: FieldError[] = [];
    const items = steps.map(({ type, ...body }, i) => {
      const definition = definitions.get(type) as StepDefinition;
      const pointer = `/steps/${i}`;
      try {
        checkSchema(definition.schema, body, pointer);
      } catch (error) {
        if (!(error instanceof ProblemException)) throw error;
        errors.push(...(error.problem.errors ?? []));
      }
      return { definition, body: body as never, pointer };
    });
    if (errors.length > 0) throw invalidRequest(errors);
    return this.record(items, exchange);
  }

  private async record(
    items: readonly { definition: StepDefinition; body: never; pointer: string }[],
    { caller, request, reply }: StepExchange,
  ): Promise<RecordedStep[]> {
    if (!caller?.party) throw forbidden('recording steps needs an operator key');
    const steps = items.map(({ definition, body, pointer }): StepToRecord => {
      const acting = definition.actingParty(body);
      if (acting.party !== caller.party) {
        throw forbidden(
          `the key ${caller.name} acts for party ${caller.party}, not for ${acting.party}`,
          pointer + acting.pointer,
        );
      }
      let command;
      try {
        command = definition.toCommand(body);
      } catch (error) {
        throw error instanceof ProblemException ? prefixed(error, pointer) : error;
      }
      const { occurredAt, evidence } = body as { occurredAt: string; evidence?: { [key: string]: JsonValue } };
      return { command, occurredAt, pointer, ...(evidence ? { evidence } : {}) };
    });
    const idempotency = this.idempotency(caller, request);
    try {
      const recorded = await this.recorder.record(steps, caller.name, idempotency);
      return recorded;
    } catch (error) {
      throw idempotencyProblem(error) ?? error;
    } finally {
      if (idempotency) void reply.header(IDEMPOTENCY_KEY, idempotency.key);
    }
  }

  private idempotency(caller: Principal, request: FastifyRequest): Idempotency | undefined {
    const key = request.headers[IDEMPOTENCY_KEY];
    if (key === undefined) return undefined;
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY_FORMAT.test(key)) {
      throw invalidRequest([{ pointer: '', detail: 'the Idempotency-Key header is 1 to 255 printable ASCII characters, once' }]);
    }
    try {
      const digest = requestDigest({
        method: request.method,
        path: request.routeOptions.url ?? request.url,
        body: request.body as JsonValue,
      });
      return { scope: caller.name, key, requestDigest: digest };
    } catch (error) {
      if (error instanceof CanonicalJsonError) throw invalidRequest([{ pointer: '', detail: error.message }]);
      throw error;
    }
  }
}

function prefixed(error: ProblemException, pointer: string): ProblemException {
  if (pointer === '') return error;
  return invalidRequest((error.problem.errors ?? []).map((e) => ({ pointer: pointer + e.pointer, detail: e.detail })));
}

export function idempotencyProblem(error: unknown): ProblemException | undefined {
  if (error instanceof EventIdConflictError) {
    return new ProblemException({
      type: '/problems/idempotency-key-reused',
      title: 'This Idempotency-Key was used for another request',
      status: 422,
      detail: 'A request with this Idempotency-Key was recorded with a different body or route; use a new key for a new request.',
      recordedEvents: [...error.recorded],
    });
  }
  if (error instanceof EventInFlightError) {
    return new ProblemException({
      type: '/problems/idempotency-key-in-use',
      title: 'A request with this Idempotency-Key is being recorded',
      status: 409,
      detail: 'Another copy of this request is being recorded right now; retry it to get its receipt.',
      retryable: true,
    });
  }
  return undefined;
}

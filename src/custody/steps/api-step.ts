import { applyDecorators, HttpCode } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiHeader, ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { TSchema } from '@sinclair/typebox';
import { AccessFor } from '../../infrastructure/auth/access.js';
import { RecordedStepSchema } from '../step-capture.js';
import type { StepDefinition } from './step-definition.js';

type OpenApiSchema = Parameters<typeof ApiBody>[0] extends infer O ? (O extends { schema?: infer S } ? S : never) : never;

/** TypeBox schemas are JSON Schema; the symbols TypeBox adds do not survive JSON. */
export const openApi = (schema: TSchema): OpenApiSchema => JSON.parse(JSON.stringify(schema)) as OpenApiSchema;

const problem = (description: string) => ({ description, content: { 'application/problem+json': {} } });

/** The OpenAPI description and the access rule of a step's route. */
export const ApiStep = (step: StepDefinition) => ApiStepRoute(step.summary, step.schema, step.example);

/** The OpenAPI description and the access rule every step route shares. */
export function ApiStepRoute(summary: string, schema: TSchema, example: unknown, response: TSchema = RecordedStepSchema) {
  return applyDecorators(
    AccessFor('operator'),
    HttpCode(201),
    ApiBearerAuth(),
    ApiOperation({ summary }),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'makes a retry return the first receipts instead of recording again (1-255 printable ASCII)',
    }),
    ApiBody({ schema: openApi(schema), examples: { example: { value: example } } }),
    ApiCreatedResponse({ description: 'recorded: the ledger receipt', schema: openApi(response) }),
    ApiResponse({ status: 400, ...problem('a field is wrong: `errors` names each one with a JSON pointer') }),
    ApiResponse({ status: 401, ...problem('no API key, or an unknown one') }),
    ApiResponse({ status: 403, ...problem('the key may not act for this party, or only reads') }),
    ApiResponse({ status: 409, ...problem('a custody rule was broken: `rule` names it; nothing was recorded') }),
    ApiResponse({ status: 413, ...problem('the body is larger than HTTP_BODY_LIMIT_BYTES') }),
    ApiResponse({ status: 415, ...problem('the body is not application/json (UTF-8)') }),
    ApiResponse({ status: 422, ...problem('the Idempotency-Key was used for another request, or the step cannot be recorded') }),
    ApiResponse({ status: 503, ...problem('the ledger cannot take steps now; retry with the same Idempotency-Key') }),
  );
}

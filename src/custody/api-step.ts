import { applyDecorators, HttpCode } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation } from '@nestjs/swagger';
import type { TSchema } from '@sinclair/typebox';
import { AccessFor } from '../infrastructure/auth/access.js';
import { ApiAnswer, ApiProblem, openApiSchema } from '../infrastructure/http/api-schemas.js';
import { RecordedStepSchema } from './step-capture.js';
import type { StepDefinition } from './step-definition.js';

/** The OpenAPI description and the access rule of a step's route. */
export const ApiStep = (step: StepDefinition) => ApiStepRoute(step.summary, step.schema, step.example);

/** The OpenAPI description and the access rule every step route shares. */
export function ApiStepRoute(summary: string, schema: TSchema, example: unknown, response: TSchema = RecordedStepSchema) {
  return applyDecorators(
    AccessFor('operator'),
    HttpCode(201),
    ApiOperation({ summary }),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'makes a retry return the first receipts instead of recording again (1-255 printable ASCII)',
    }),
    ApiBody({ schema: openApiSchema(schema), examples: { example: { value: example } } }),
    ApiAnswer(201, 'recorded: the ledger receipt', response),
    ApiProblem(400, 'a field is wrong: `errors` names each one with a JSON pointer'),
    ApiProblem(
      409,
      'a custody rule was broken (`rule` names it), or a copy of this request is being recorded; nothing was recorded',
    ),
    ApiProblem(413, 'the body is larger than HTTP_BODY_LIMIT_BYTES'),
    ApiProblem(415, 'the body is not application/json (UTF-8)'),
    ApiProblem(422, 'the Idempotency-Key was used for another request, or the step cannot be recorded'),
    ApiProblem(503, 'the ledger cannot take steps now; retry with the same Idempotency-Key'),
  );
}

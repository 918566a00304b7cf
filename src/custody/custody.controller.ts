import { Body, Controller, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { type Static, Type } from '@sinclair/typebox';
import { SchemaPipe } from '../infrastructure/http/request-validation.js';
import { commissionProduct } from './product-steps.js';
import { packShipment } from './shipment-steps.js';
import { STEPS } from './steps.js';
import { Exchange, RecordedStepSchema, StepCapture, type StepExchange } from './step-capture.js';
import type { RecordedStep } from './step-recorder.js';
import { ApiStep, ApiStepRoute } from './api-step.js';
import { handover, inspect, transform } from './custody-steps.js';

/** The batch body: its steps are checked one by one against their own schemas (see StepCapture.batch). */
const BatchSchema = Type.Object(
  {
    steps: Type.Array(
      Type.Object(
        { type: Type.Union([...STEPS.keys()].map((type) => Type.Literal(type))) },
        { additionalProperties: true, description: 'a step: its type, then the fields of that type of step' },
      ),
      { minItems: 1, maxItems: 10_000 },
    ),
  },
  { additionalProperties: false },
);

/** How the OpenAPI document shows a batch: a list of steps of any kind, each with its type. */
const BatchDocumentation = Type.Object({
  steps: Type.Array(
    Type.Union(
      [...STEPS.values()].map((definition) =>
        Type.Composite([Type.Object({ type: Type.Literal(definition.type) }), definition.schema as never]),
      ),
    ),
    { description: 'recorded in order, all or nothing; at most CUSTODY_MAX_BATCH_STEPS' },
  ),
});

const batchExample = {
  steps: [
    { type: 'commission', ...(commissionProduct.example as object) },
    { type: 'pack', ...(packShipment.example as object), products: ['/01/09506000134352/21/SN-0001'] },
  ],
};

@ApiTags('custody')
@Controller('custody')
export class CustodyController {
  constructor(private readonly capture: StepCapture) {}

  @Post('handover')
  @ApiStep(handover)
  handover(@Body(new SchemaPipe(handover.schema)) body: unknown, @Exchange() exchange: StepExchange): Promise<RecordedStep> {
    return this.capture.one(handover, body, exchange);
  }

  @Post('inspect')
  @ApiStep(inspect)
  inspect(@Body(new SchemaPipe(inspect.schema)) body: unknown, @Exchange() exchange: StepExchange): Promise<RecordedStep> {
    return this.capture.one(inspect, body, exchange);
  }

  @Post('transform')
  @ApiStep(transform)
  transform(@Body(new SchemaPipe(transform.schema)) body: unknown, @Exchange() exchange: StepExchange): Promise<RecordedStep> {
    return this.capture.one(transform, body, exchange);
  }

  /** Batch capture: steps of any kind, validated as a whole, recorded in order in one transaction. */
  @Post('batch')
  @ApiStepRoute(
    'Record a batch of steps, in order, all or nothing',
    BatchDocumentation,
    batchExample,
    Type.Object({ steps: Type.Array(RecordedStepSchema) }),
  )
  async batch(
    @Body(new SchemaPipe(BatchSchema)) body: Static<typeof BatchSchema>,
    @Exchange() exchange: StepExchange,
  ): Promise<{ steps: RecordedStep[] }> {
    return { steps: await this.capture.batch(STEPS, body.steps, exchange) };
  }
}

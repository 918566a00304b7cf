import { Body, Controller, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Exchange, StepCapture, type StepExchange } from './step-capture.js';
import type { RecordedStep } from './step-recorder.js';
import { ApiStep } from './api-step.js';
import { SchemaPipe } from '../infrastructure/http/request-validation.js';
import { commissionProduct, decommissionProduct } from './product-steps.js';

@ApiTags('products')
@Controller('products')
export class ProductsController {
  constructor(private readonly capture: StepCapture) {}

  @Post()
  @ApiStep(commissionProduct)
  commission(
    @Body(new SchemaPipe(commissionProduct.schema)) body: unknown,
    @Exchange() exchange: StepExchange,
  ): Promise<RecordedStep> {
    return this.capture.one(commissionProduct, body, exchange);
  }

  @Post('decommission')
  @ApiStep(decommissionProduct)
  decommission(
    @Body(new SchemaPipe(decommissionProduct.schema)) body: unknown,
    @Exchange() exchange: StepExchange,
  ): Promise<RecordedStep> {
    return this.capture.one(decommissionProduct, body, exchange);
  }
}

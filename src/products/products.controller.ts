import { Body, Controller, Post, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Static } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StepCapture } from '../custody/step-capture.js';
import type { RecordedStep } from '../custody/step-recorder.js';
import { ApiStep } from '../custody/steps/api-step.js';
import { Caller } from '../infrastructure/auth/access.js';
import type { Principal } from '../infrastructure/auth/api-keys.js';
import { SchemaPipe } from '../infrastructure/http/request-validation.js';
import { commissionProduct, decommissionProduct } from './product-steps.js';

@ApiTags('products')
@Controller('products')
export class ProductsController {
  constructor(private readonly capture: StepCapture) {}

  @Post()
  @ApiStep(commissionProduct.summary, commissionProduct.schema, commissionProduct.example)
  commission(
    @Body(new SchemaPipe(commissionProduct.schema)) body: Static<typeof commissionProduct.schema>,
    @Caller() caller: Principal | null,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RecordedStep> {
    return this.capture.one(commissionProduct, body as never, caller, request, reply);
  }

  @Post('decommission')
  @ApiStep(decommissionProduct.summary, decommissionProduct.schema, decommissionProduct.example)
  decommission(
    @Body(new SchemaPipe(decommissionProduct.schema)) body: Static<typeof decommissionProduct.schema>,
    @Caller() caller: Principal | null,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RecordedStep> {
    return this.capture.one(decommissionProduct, body as never, caller, request, reply);
  }
}

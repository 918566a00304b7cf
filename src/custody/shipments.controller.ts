import { Body, Controller, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Exchange, StepCapture, type StepExchange } from './step-capture.js';
import type { RecordedStep } from './step-recorder.js';
import { ApiStep } from './api-step.js';
import { SchemaPipe } from '../infrastructure/http/request-validation.js';
import { createShipment, dispatchShipment, packShipment, receiveShipment, unpackShipment } from './shipment-steps.js';

@ApiTags('shipments')
@Controller('shipments')
export class ShipmentsController {
  constructor(private readonly capture: StepCapture) {}

  @Post()
  @ApiStep(createShipment)
  create(@Body(new SchemaPipe(createShipment.schema)) body: unknown, @Exchange() exchange: StepExchange): Promise<RecordedStep> {
    return this.capture.one(createShipment, body, exchange);
  }

  @Post('pack')
  @ApiStep(packShipment)
  pack(@Body(new SchemaPipe(packShipment.schema)) body: unknown, @Exchange() exchange: StepExchange): Promise<RecordedStep> {
    return this.capture.one(packShipment, body, exchange);
  }

  @Post('unpack')
  @ApiStep(unpackShipment)
  unpack(@Body(new SchemaPipe(unpackShipment.schema)) body: unknown, @Exchange() exchange: StepExchange): Promise<RecordedStep> {
    return this.capture.one(unpackShipment, body, exchange);
  }

  @Post('dispatch')
  @ApiStep(dispatchShipment)
  dispatch(
    @Body(new SchemaPipe(dispatchShipment.schema)) body: unknown,
    @Exchange() exchange: StepExchange,
  ): Promise<RecordedStep> {
    return this.capture.one(dispatchShipment, body, exchange);
  }

  @Post('receive')
  @ApiStep(receiveShipment)
  receive(
    @Body(new SchemaPipe(receiveShipment.schema)) body: unknown,
    @Exchange() exchange: StepExchange,
  ): Promise<RecordedStep> {
    return this.capture.one(receiveShipment, body, exchange);
  }
}

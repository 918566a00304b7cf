import { Body, Controller, Post, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StepCapture } from '../custody/step-capture.js';
import type { RecordedStep } from '../custody/step-recorder.js';
import { ApiStep } from '../custody/steps/api-step.js';
import { Caller } from '../infrastructure/auth/access.js';
import type { Principal } from '../infrastructure/auth/api-keys.js';
import { SchemaPipe } from '../infrastructure/http/request-validation.js';
import { createShipment, dispatchShipment, packShipment, receiveShipment, unpackShipment } from './shipment-steps.js';

@ApiTags('shipments')
@Controller('shipments')
export class ShipmentsController {
  constructor(private readonly capture: StepCapture) {}

  @Post()
  @ApiStep(createShipment.summary, createShipment.schema, createShipment.example)
  create(
    @Body(new SchemaPipe(createShipment.schema)) body: unknown,
    @Caller() caller: Principal | null,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RecordedStep> {
    return this.capture.one(createShipment, body as never, caller, request, reply);
  }

  @Post('pack')
  @ApiStep(packShipment.summary, packShipment.schema, packShipment.example)
  pack(
    @Body(new SchemaPipe(packShipment.schema)) body: unknown,
    @Caller() caller: Principal | null,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RecordedStep> {
    return this.capture.one(packShipment, body as never, caller, request, reply);
  }

  @Post('unpack')
  @ApiStep(unpackShipment.summary, unpackShipment.schema, unpackShipment.example)
  unpack(
    @Body(new SchemaPipe(unpackShipment.schema)) body: unknown,
    @Caller() caller: Principal | null,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RecordedStep> {
    return this.capture.one(unpackShipment, body as never, caller, request, reply);
  }

  @Post('dispatch')
  @ApiStep(dispatchShipment.summary, dispatchShipment.schema, dispatchShipment.example)
  dispatch(
    @Body(new SchemaPipe(dispatchShipment.schema)) body: unknown,
    @Caller() caller: Principal | null,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RecordedStep> {
    return this.capture.one(dispatchShipment, body as never, caller, request, reply);
  }

  @Post('receive')
  @ApiStep(receiveShipment.summary, receiveShipment.schema, receiveShipment.example)
  receive(
    @Body(new SchemaPipe(receiveShipment.schema)) body: unknown,
    @Caller() caller: Principal | null,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RecordedStep> {
    return this.capture.one(receiveShipment, body as never, caller, request, reply);
  }
}

import { Body, Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { AccessFor, forbidden } from '../infrastructure/auth/access.js';
import type { Principal } from '../infrastructure/auth/api-keys.js';
import { ApiAnswer, ApiPathParam, ApiProblem } from '../infrastructure/http/api-schemas.js';
import { ProblemException } from '../infrastructure/http/problem-details.js';
import { invalidRequest } from '../infrastructure/http/request-validation.js';
import { UUID } from '../ledger/record-codec.js';
import { Exchange, type StepExchange } from '../custody/custody-api.js';
import { CaptureJobs, EpcisCapture, type CaptureJob } from './epcis-capture.js';

export const EPCIS_CAPTURE = Symbol('EpcisCapture');

const ReceiptSchema = Type.Object({
  ledgerId: Type.String(),
  partition: Type.Integer(),
  offset: Type.String(),
  sequence: Type.Integer(),
  hash: Type.String(),
  checkpointSize: Type.Integer(),
});

/** The capture job as answered (EPCIS 2.0 REST binding, with the ledger's receipts of each event). */
export const CaptureJobSchema = Type.Object({
  captureID: Type.String({ format: 'uuid' }),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  running: Type.Boolean(),
  success: Type.Union([Type.Boolean(), Type.Null()], { description: 'null while running' }),
  captureErrorBehaviour: Type.Literal('rollback', { description: 'all events of a document are recorded, or none' }),
  eventCount: Type.Integer(),
  errors: Type.Array(Type.Object({ pointer: Type.String(), detail: Type.String() }), {
    description: 'why it failed, each at a JSON pointer into the captured document',
  }),
  events: Type.Array(
    Type.Object({
      eventID: Type.String({ description: 'the event id as captured, or its Event Hash ID when it had none' }),
      hashId: Type.String({ description: 'CBV 2.0 Event Hash ID' }),
      recordedAs: Type.Union([Type.Literal('custody'), Type.Literal('observation')]),
      records: Type.Array(
        Type.Object({ eventId: Type.String(), eventType: Type.String(), subject: Type.String(), receipt: ReceiptSchema }),
      ),
    }),
    { description: 'once succeeded: each event, in document order, with its ledger records and receipts' },
  ),
});

const captureExample = {
  '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: '2026-12-03T08:00:00Z',
  epcisBody: {
    eventList: [
      {
        type: 'ObjectEvent',
        eventTime: '2026-12-03T08:00:00Z',
        eventTimeZoneOffset: '+00:00',
        epcList: ['urn:epc:id:sgtin:9506000.013435.SN-0001'],
        action: 'ADD',
        bizStep: 'commissioning',
        disposition: 'active',
        readPoint: { id: 'urn:epc:id:sgln:4012345.00001.0' },
      },
    ],
  },
};

function captureParty(caller: Principal | null): { name: string; party: string } {
  if (!caller?.party) throw forbidden('capturing EPCIS events needs an operator key: the capturing party is its party');
  return { name: caller.name, party: caller.party };
}

/**
 * EPCIS 2.0 capture (docs/epcis.md): `POST /capture` takes an EPCISDocument (or one event) and
 * records it on the ledger as one transaction; `GET /capture/{id}` answers for the job.
 */
@ApiTags('epcis')
@Controller('capture')
export class EpcisCaptureController {
  constructor(
    @Inject(EPCIS_CAPTURE) private readonly capturing: EpcisCapture,
    private readonly jobs: CaptureJobs,
  ) {}

  @AccessFor('operator')
  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Capture an EPCIS 2.0 document: all its events on the ledger, in one transaction, or none',
  })
  @ApiConsumes('application/ld+json', 'application/json')
  @ApiBody({
    description: "an EPCISDocument, an EPCISQueryDocument or one event, valid against GS1's EPCIS 2.0 JSON schema",
    schema: { type: 'object' },
    examples: { commissioning: { value: captureExample } },
  })
  @ApiAnswer(202, 'the capture job: finished (success) when answered, or running', CaptureJobSchema, {
    Location: '/capture/{captureID}',
  })
  @ApiProblem(400, 'the document fails the EPCIS schema, or an identifier or quantity is wrong: `errors` points at each')
  @ApiProblem(
    409,
    'an event is captured already or twice in the document, or a custody rule refuses a step (`rule`); nothing was recorded',
  )
  @ApiProblem(413, 'the document is larger than HTTP_BODY_LIMIT_BYTES, or makes more records than one transaction takes')
  @ApiProblem(415, 'the body is not application/ld+json or application/json (UTF-8)')
  @ApiProblem(422, 'the document cannot be recorded as it is (entities of several ledger partitions)')
  @ApiProblem(503, 'the ledger cannot take it now; nothing was recorded, or the outcome is unknown (see the problem)')
  async capture(
    @Body() body: unknown,
    @Exchange() exchange: StepExchange,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CaptureJob> {
    const { job, problem } = await this.capturing.capture(body, captureParty(exchange.caller));
    void reply.header('location', `/capture/${job.captureID}`);
    if (problem) throw new ProblemException({ ...problem, captureID: job.captureID });
    return job;
  }

  @AccessFor('operator')
  @Get(':id')
  @ApiOperation({ summary: 'A capture job: running, or finished with its success, errors and ledger receipts' })
  @ApiPathParam('id', 'the capture id (a UUID)', Type.String({ format: 'uuid' }))
  @ApiAnswer(200, 'the capture job', CaptureJobSchema)
  @ApiProblem(400, 'the id is not a UUID')
  @ApiProblem(404, 'no capture job of this party has that id')
  async job(@Param('id') id: string, @Exchange() exchange: StepExchange): Promise<CaptureJob> {
    if (!UUID.test(id)) throw invalidRequest([{ pointer: '/id', detail: 'a capture id is a UUID' }]);
    const job = await this.jobs.find(id, captureParty(exchange.caller).party);
    if (!job) throw new NotFoundException(`no capture ${id} of this party`);
    return job;
  }
}

import { Controller, Get, Inject, NotFoundException, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessFor } from '../infrastructure/auth/access.js';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { ApiAnswer, ApiPathParam, ApiProblem, ApiQueryOf } from '../infrastructure/http/api-schemas.js';
import { caughtUp, WaitForParameter } from '../infrastructure/http/read-wait.js';
import { SchemaPipe } from '../infrastructure/http/request-validation.js';
import { EPCIS_CONTEXT, type EpcisEvent } from './custody-rendering.js';
import { EpcisEventQueries } from './epcis-event-queries.js';
import { EventQuerySchema, pageToken, parseEventQuery } from './event-query-parameters.js';

const EventSchema = Type.Object(
  { type: Type.String(), eventTime: Type.String(), recordTime: Type.String(), eventID: Type.String() },
  { additionalProperties: true, description: 'an EPCIS 2.0 event (JSON-LD), valid against GS1 EPCIS 2.0 JSON schema' },
);

const QueryDocumentSchema = Type.Object(
  {
    '@context': Type.Array(Type.String()),
    type: Type.Literal('EPCISQueryDocument'),
    schemaVersion: Type.Literal('2.0'),
    creationDate: Type.String({ format: 'date-time' }),
    epcisBody: Type.Object({
      queryResults: Type.Object({
        queryName: Type.Literal('SimpleEventQuery'),
        resultsBody: Type.Object({ eventList: Type.Array(EventSchema) }),
      }),
    }),
  },
  { description: 'an EPCIS 2.0 EPCISQueryDocument' },
);

/** Headers of the EPCIS 2.0 REST binding every answer carries. */
function epcisHeaders(reply: FastifyReply): void {
  void reply.header('GS1-EPCIS-Version', '2.0.0');
  void reply.header('GS1-CBV-Version', '2.0.0');
}

/**
 * EPCIS 2.0 query (docs/epcis-query.md): every step in the ledger, captured through EPCIS or
 * recorded through Custodian's routes, as the EPCIS event it is, from the projector's read
 * models. Reads, as the provenance routes: any key, or none when AUTH_ANONYMOUS_READS=true.
 */
const WaitQuery = Type.Object({ waitFor: WaitForParameter() }, { additionalProperties: false });

@ApiTags('epcis')
@AccessFor('read')
@Controller('events')
export class EpcisQueryController {
  constructor(
    private readonly queries: EpcisEventQueries,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {}

  /** With waitFor (a receipt's partition:sequence), once the projector has passed it (read-wait.ts). */
  private caughtUp(waitFor: string | undefined) {
    return caughtUp(() => this.queries.position(this.config.ledger.id), waitFor, {
      partitions: this.config.ledger.partitions,
      timeoutMs: this.config.projection.readWaitMs,
    });
  }

  @Get()
  @ApiOperation({ summary: 'EPCIS events matching a SimpleEventQuery, in ledger order, a page at a time' })
  @ApiQueryOf(EventQuerySchema)
  @ApiAnswer(200, 'an EPCISQueryDocument of one page of events', QueryDocumentSchema, {
    Link: '<…&nextPageToken=…>; rel="next", when more events match',
  })
  @ApiProblem(400, 'a query parameter is wrong: `errors` names it')
  @ApiProblem(503, 'the read models are unreachable, or did not reach `waitFor` in time')
  async events(
    @Query(new SchemaPipe(EventQuerySchema)) query: Static<typeof EventQuerySchema>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    await this.caughtUp(query.waitFor);
    const parsed = parseEventQuery(query);
    const page = await this.queries.page(parsed);
    epcisHeaders(reply);
    if (page.more) {
      const next = new URLSearchParams(request.url.split('?')[1] ?? '');
      next.set('nextPageToken', pageToken(parsed.filter, page.more));
      void reply.header('Link', `</events?${next.toString()}>; rel="next"`);
    }
    return queryDocument(page.events);
  }

  @Get(':eventID')
  @ApiOperation({ summary: 'One EPCIS event by its eventID (URL-encoded)' })
  @ApiPathParam('eventID', 'the eventID, URL-encoded: urn:uuid:… for a step recorded through the REST routes, or as captured')
  @ApiQueryOf(WaitQuery)
  @ApiAnswer(200, 'the event', EventSchema)
  @ApiProblem(404, 'no event has that id')
  @ApiProblem(503, 'the read models are unreachable')
  async event(
    @Param('eventID') eventID: string,
    @Query(new SchemaPipe(WaitQuery)) query: Static<typeof WaitQuery>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    await this.caughtUp(query.waitFor);
    const event = await this.queries.event(eventID);
    if (!event) throw new NotFoundException(`no EPCIS event ${eventID}`);
    epcisHeaders(reply);
    return { '@context': [EPCIS_CONTEXT], ...event };
  }
}

function queryDocument(events: readonly EpcisEvent[]) {
  return {
    '@context': [EPCIS_CONTEXT],
    type: 'EPCISQueryDocument' as const,
    schemaVersion: '2.0' as const,
    creationDate: new Date().toISOString(),
    epcisBody: { queryResults: { queryName: 'SimpleEventQuery' as const, resultsBody: { eventList: [...events] } } },
  };
}

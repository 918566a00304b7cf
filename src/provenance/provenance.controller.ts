import { applyDecorators, Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Static, Type } from '@sinclair/typebox';
import { parseGtin } from '../gs1/gs1-keys.js';
import { AccessFor } from '../infrastructure/auth/access.js';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { ApiAnswer, ApiProblem, ApiQueryOf } from '../infrastructure/http/api-schemas.js';
import {
  ApiGtin,
  ApiLot,
  ApiSerial,
  ApiSscc,
  key,
  lgtinPath,
  sgtinPath,
  ssccPath,
} from '../infrastructure/http/digital-link-params.js';
import { caughtUp, POSITION, positionOf, WaitForParameter } from '../infrastructure/http/read-wait.js';
import { SchemaPipe } from '../infrastructure/http/request-validation.js';
import { ProvenanceQueries } from './provenance-queries.js';
import {
  BackwardAnswerSchema,
  ContentsAnswerSchema,
  ForwardAnswerSchema,
  HistoryAnswerSchema,
  ProductAnswerSchema,
  ShipmentAnswerSchema,
} from './provenance-responses.js';

const HistoryQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.String({ pattern: '^(?:[1-9]\\d{0,2}|1000)$', description: 'steps per page, 1 to 1000 (default 100)' }),
    ),
    cursor: Type.Optional(Type.String({ pattern: POSITION, description: 'the `next` of the previous page' })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'steps that occurred at or after' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'steps that occurred before' })),
    type: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9]*(\\.[a-z][a-z0-9_-]*)+$', description: 'an event type' })),
    party: Type.Optional(Type.String({ format: 'gln', description: 'steps in which this party took part' })),
    waitFor: WaitForParameter(),
  },
  { additionalProperties: false },
);
const WaitQuery = Type.Object({ waitFor: WaitForParameter() }, { additionalProperties: false });
const ContentsQuery = Type.Object(
  {
    at: Type.Optional(Type.String({ format: 'date-time', description: 'the moment (default: now)' })),
    waitFor: WaitQuery.properties.waitFor,
  },
  { additionalProperties: false },
);
const ForwardQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.String({
        pattern: '^(?:[1-9]\\d{0,3}|10000)$',
        description: 'products at most, 1 to 10,000 (default 1,000): a lot roasted into thousands of bags',
      }),
    ),
    waitFor: WaitQuery.properties.waitFor,
  },
  { additionalProperties: false },
);

/** The errors every provenance read may answer. */
const ApiReadProblems = () =>
  applyDecorators(
    ApiProblem(400, 'a path or query parameter is wrong: `errors` names it'),
    ApiProblem(404, 'not in the read models'),
    ApiProblem(503, 'the read models are unreachable, or did not reach `waitFor` in time'),
  );

/**
 * Provenance, read-only, from the read models: a product or shipment by its GS1 Digital Link
 * path, its history, its traces. Every answer says how far the projection has caught up; a
 * read may wait for a receipt of its own (waitFor=partition:sequence).
 */
@ApiTags('provenance')
@AccessFor('read')
@ApiReadProblems()
@Controller()
export class ProvenanceController {
  private readonly queries: ProvenanceQueries;

  constructor(
    queries: ProvenanceQueries,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {
    this.queries = queries;
  }

  @Get('products/01/:gtin/21/:serial')
  @ApiOperation({ summary: 'A serialised product (SGTIN): what it is, who holds it, where, its status' })
  @ApiGtin
  @ApiSerial
  @ApiQueryOf(WaitQuery)
  @ApiAnswer(200, 'the product', ProductAnswerSchema)
  async item(
    @Param('gtin') gtin: string,
    @Param('serial') serial: string,
    @Query(new SchemaPipe(WaitQuery)) query: Static<typeof WaitQuery>,
  ) {
    return this.productAnswer(this.sgtin(gtin, serial), query.waitFor);
  }

  @Get('products/01/:gtin/10/:lot')
  @ApiOperation({ summary: 'A lot (LGTIN)' })
  @ApiGtin
  @ApiLot
  @ApiQueryOf(WaitQuery)
  @ApiAnswer(200, 'the lot', ProductAnswerSchema)
  async lot(
    @Param('gtin') gtin: string,
    @Param('lot') lot: string,
    @Query(new SchemaPipe(WaitQuery)) query: Static<typeof WaitQuery>,
  ) {
    return this.productAnswer(this.lgtin(gtin, lot), query.waitFor);
  }

  @Get('products/01/:gtin/21/:serial/history')
  @ApiOperation({ summary: "A serialised product's history in ledger order, its shipments' steps included" })
  @ApiGtin
  @ApiSerial
  @ApiQueryOf(HistoryQuery)
  @ApiAnswer(200, 'a page of its steps', HistoryAnswerSchema)
  async itemHistory(
    @Param('gtin') gtin: string,
    @Param('serial') serial: string,
    @Query(new SchemaPipe(HistoryQuery)) query: Static<typeof HistoryQuery>,
  ) {
    return this.historyAnswer(this.sgtin(gtin, serial), query);
  }

  @Get('products/01/:gtin/10/:lot/history')
  @ApiOperation({ summary: "A lot's history in ledger order" })
  @ApiGtin
  @ApiLot
  @ApiQueryOf(HistoryQuery)
  @ApiAnswer(200, 'a page of its steps', HistoryAnswerSchema)
  async lotHistory(
    @Param('gtin') gtin: string,
    @Param('lot') lot: string,
    @Query(new SchemaPipe(HistoryQuery)) query: Static<typeof HistoryQuery>,
  ) {
    return this.historyAnswer(this.lgtin(gtin, lot), query);
  }

  @Get('products/01/:gtin/21/:serial/trace/backward')
  @ApiOperation({ summary: 'What a product was made from, through every transformation' })
  @ApiGtin
  @ApiSerial
  @ApiQueryOf(WaitQuery)
  @ApiAnswer(200, 'the product and its inputs', BackwardAnswerSchema)
  async itemBackward(
    @Param('gtin') gtin: string,
    @Param('serial') serial: string,
    @Query(new SchemaPipe(WaitQuery)) query: Static<typeof WaitQuery>,
  ) {
    return this.backwardAnswer(this.sgtin(gtin, serial), query.waitFor);
  }

  @Get('products/01/:gtin/10/:lot/trace/backward')
  @ApiOperation({ summary: 'What a lot was made from, through every transformation' })
  @ApiGtin
  @ApiLot
  @ApiQueryOf(WaitQuery)
  @ApiAnswer(200, 'the lot and its inputs', BackwardAnswerSchema)
  async lotBackward(
    @Param('gtin') gtin: string,
    @Param('lot') lot: string,
    @Query(new SchemaPipe(WaitQuery)) query: Static<typeof WaitQuery>,
  ) {
    return this.backwardAnswer(this.lgtin(gtin, lot), query.waitFor);
  }

  @Get('products/01/:gtin/10/:lot/trace/forward')
  @ApiOperation({ summary: 'Where every product of a lot went (the recall question)' })
  @ApiGtin
  @ApiLot
  @ApiQueryOf(ForwardQuery)
  @ApiAnswer(200, "the lot's products and what they became", ForwardAnswerSchema)
  async lotForward(
    @Param('gtin') gtin: string,
    @Param('lot') lot: string,
    @Query(new SchemaPipe(ForwardQuery)) query: Static<typeof ForwardQuery>,
  ) {
    const id = this.lgtin(gtin, lot);
    const projection = await this.caughtUp(query.waitFor);
    const parsed = key(parseGtin(gtin), '/gtin');
    const products = await this.queries.forward(parsed, lot, Number(query.limit ?? 1000));
    return { lot: id, products, projection };
  }

  @Get('shipments/00/:sscc')
  @ApiOperation({ summary: 'A shipment (SSCC): where it is, who holds it, what it holds now' })
  @ApiSscc
  @ApiQueryOf(WaitQuery)
  @ApiAnswer(200, 'the shipment and its contents', ShipmentAnswerSchema)
  async shipment(@Param('sscc') sscc: string, @Query(new SchemaPipe(WaitQuery)) query: Static<typeof WaitQuery>) {
    const id = ssccPath(sscc);
    const projection = await this.caughtUp(query.waitFor);
    const shipment = await this.queries.shipment(id);
    if (!shipment) throw new NotFoundException(`no shipment ${id} in the read models`);
    return { shipment, contents: await this.queries.contents(id, null), projection };
  }

  @Get('shipments/00/:sscc/contents')
  @ApiOperation({ summary: 'What a shipment held at a moment' })
  @ApiSscc
  @ApiQueryOf(ContentsQuery)
  @ApiAnswer(200, 'its contents at that moment', ContentsAnswerSchema)
  async contents(@Param('sscc') sscc: string, @Query(new SchemaPipe(ContentsQuery)) query: Static<typeof ContentsQuery>) {
    const id = ssccPath(sscc);
    const projection = await this.caughtUp(query.waitFor);
    if (!(await this.queries.shipment(id))) throw new NotFoundException(`no shipment ${id} in the read models`);
    return { shipment: id, at: query.at ?? null, contents: await this.queries.contents(id, query.at ?? null), projection };
  }

  private sgtin(gtin: string, serial: string): string {
    return sgtinPath(gtin, serial);
  }

  private lgtin(gtin: string, lot: string): string {
    return lgtinPath(gtin, lot);
  }

  private async productAnswer(id: string, waitFor: string | undefined) {
    const projection = await this.caughtUp(waitFor);
    const product = await this.queries.product(id);
    if (!product) throw new NotFoundException(`no product ${id} in the read models`);
    return { product, projection };
  }

  private async historyAnswer(id: string, query: Static<typeof HistoryQuery>) {
    const projection = await this.caughtUp(query.waitFor);
    if (!(await this.queries.product(id))) throw new NotFoundException(`no product ${id} in the read models`);
    const limit = Number(query.limit ?? 100);
    const steps = await this.queries.history(id, {
      limit,
      ...(query.from ? { from: query.from } : {}),
      ...(query.to ? { to: query.to } : {}),
      ...(query.type ? { eventType: query.type } : {}),
      ...(query.party ? { party: query.party } : {}),
      ...(query.cursor ? { after: positionOf(query.cursor) } : {}),
    });
    const last = steps.at(-1);
    const next = steps.length === limit && last ? `${last.ledger.partition}:${last.ledger.sequence}` : null;
    return { product: id, steps, next, projection };
  }

  private async backwardAnswer(id: string, waitFor: string | undefined) {
    const projection = await this.caughtUp(waitFor);
    const product = await this.queries.product(id);
    if (!product) throw new NotFoundException(`no product ${id} in the read models`);
    return { product, inputs: await this.queries.backward(id), projection };
  }

  /** The projection's position; with waitFor, once the record it names is projected (read-wait.ts). */
  private caughtUp(waitFor: string | undefined) {
    return caughtUp(() => this.queries.position(this.config.ledger.id), waitFor, {
      partitions: this.config.ledger.partitions,
      timeoutMs: this.config.projection.readWaitMs,
    });
  }
}

import {
  applyDecorators,
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Inject,
  Injectable,
  NotFoundException,
  Param,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessFor } from '../infrastructure/auth/access.js';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { ApiProblem, ApiQueryOf, openApiSchema } from '../infrastructure/http/api-schemas.js';
import { ApiGtin, ApiLot, ApiSerial, lgtinPath, sgtinPath } from '../infrastructure/http/digital-link-params.js';
import { ProblemException } from '../infrastructure/http/problem-details.js';
import { SchemaPipe } from '../infrastructure/http/request-validation.js';
import {
  type ProductEvidence,
  PRODUCT_EVIDENCE,
  UnknownSubjectError,
  VerifierBusyError,
} from '../verification/product-evidence.js';
import { ClientRateLimit } from './client-rate-limit.js';
import { keyFingerprint } from './key-fingerprint.js';
import { LINK_TYPES, requestedLink } from './link-types.js';
import { PAGE_ASSETS } from './page-assets.controller.js';
import type { PageAssets } from './page-assets.js';
import { renderProductPage, renderUnknownProductPage } from './product-page.js';
import { ProductPageSource } from './product-page-source.js';
import { qrCodeSvg } from './qr-code.js';

const ResolverQuery = Type.Object(
  {
    linkType: Type.Optional(
      Type.Union(
        LINK_TYPES.map((linkType) => Type.Literal(linkType)),
        {
          description:
            'the link wanted (GS1-Conformant Resolver): gs1:pip the page, gs1:traceability the provenance JSON (a redirect), ' +
            'custodian:evidence the evidence bundle, custodian:qr a QR code (SVG); without it, Accept decides',
        },
      ),
    ),
  },
  // A Digital Link URI may carry GS1 data attributes and a campaign's parameters: they are ignored.
  { additionalProperties: true },
);

/**
 * Content Security Policy of the page: its own script, stylesheet and evidence only, so that
 * nothing but the bundled verifier runs where the verdict is shown.
 */
const PAGE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STRING = { schema: { type: 'string' } } as const;

/** What a Digital Link route answers, for the OpenAPI document. */
const ApiResolver = () =>
  applyDecorators(
    ApiQueryOf(ResolverQuery),
    ApiResponse({
      status: 200,
      description:
        'the page (text/html: gs1:pip, the default for a browser), the evidence bundle (application/json: custodian:evidence; ' +
        'docs/attestation-format.md §3) or a QR code of the Digital Link URI (image/svg+xml: custodian:qr)',
      content: {
        'text/html': STRING,
        'application/json': { schema: { type: 'object', required: ['bundleVersion', 'attestation', 'records'] } },
        'image/svg+xml': STRING,
      },
    }),
    ApiResponse({
      status: 307,
      description:
        'gs1:traceability, or Accept preferring application/json: the history route of the provenance API (an API key is needed there)',
      headers: { Location: { description: '/products/01/{gtin}/…/history', schema: { type: 'string' } } },
    }),
    ApiProblem(400, 'a path parameter or linkType is wrong: `errors` names it'),
    ApiResponse({
      status: 404,
      description: 'no such product: an HTML page for a browser, a problem otherwise',
      content: { 'text/html': STRING, 'application/problem+json': { schema: openApiSchema(Type.Object({})) } },
    }),
    ApiProblem(429, 'this client asked too often (CONSUMER_RATE_LIMIT_PER_MINUTE): see Retry-After'),
    ApiProblem(503, 'the read models or Kafka are unreachable, or the verifier is busy'),
  );

export const CLIENT_RATE_LIMIT = Symbol('ClientRateLimit');

/** The per-client rate limit of the consumer routes: a 429 problem with Retry-After when a client asks too often. */
@Injectable()
export class ConsumerRateLimitGuard implements CanActivate {
  constructor(@Inject(CLIENT_RATE_LIMIT) private readonly limit: ClientRateLimit) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const decision = this.limit.take(http.getRequest<FastifyRequest>().ip);
    if (decision.allowed) return true;
    void http.getResponse<FastifyReply>().header('retry-after', String(decision.retryAfterSeconds));
    throw new ProblemException({
      type: '/problems/rate-limited',
      title: 'Too many requests from this client',
      status: 429,
      detail: `retry in ${decision.retryAfterSeconds} s`,
      retryable: true,
    });
  }
}

/**
 * GS1 Digital Link resolution (docs/consumer-page.md): the URI in a pack's QR code, answered
 * with the consumer page, the provenance JSON, the evidence bundle the page checks, or the QR
 * code itself. Open without a key, limited per client.
 */
@ApiTags('consumer page')
@AccessFor('public')
@UseGuards(ConsumerRateLimitGuard)
@Controller()
export class ResolverController {
  private readonly fingerprint: string;

  constructor(
    private readonly pages: ProductPageSource,
    @Inject(PRODUCT_EVIDENCE) private readonly evidence: ProductEvidence,
    @Inject(PAGE_ASSETS) private readonly assets: PageAssets,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {
    this.fingerprint = keyFingerprint(evidence.keys.ledgerKey);
  }

  @Get('01/:gtin/21/:serial')
  @ApiOperation({ summary: "A serialised product's GS1 Digital Link: its page, its provenance, its evidence, its QR code" })
  @ApiGtin
  @ApiSerial
  @ApiResolver()
  async item(
    @Param('gtin') gtin: string,
    @Param('serial') serial: string,
    @Query(new SchemaPipe(ResolverQuery)) query: Static<typeof ResolverQuery>,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.resolve(sgtinPath(gtin, serial), query, request, reply);
  }

  @Get('01/:gtin/10/:lot')
  @ApiOperation({ summary: "A lot's GS1 Digital Link: its page, its provenance, its evidence, its QR code" })
  @ApiGtin
  @ApiLot
  @ApiResolver()
  async lot(
    @Param('gtin') gtin: string,
    @Param('lot') lot: string,
    @Query(new SchemaPipe(ResolverQuery)) query: Static<typeof ResolverQuery>,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.resolve(lgtinPath(gtin, lot), query, request, reply);
  }

  private async resolve(
    subject: string,
    query: Static<typeof ResolverQuery>,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const link = requestedLink(query.linkType, request.headers.accept);
    void reply.header('vary', 'Accept');
    switch (link) {
      case 'gs1:traceability':
        await reply.status(307).header('location', `/products${subject}/history`).send();
        return;
      case 'custodian:qr':
        await reply
          .type('image/svg+xml')
          .header('cache-control', 'public, max-age=86400')
          .send(qrCodeSvg(`${this.resolverBase(request)}${subject}`));
        return;
      case 'custodian:evidence':
        await reply
          .type('application/json')
          .header('cache-control', 'no-store')
          .send(await this.bundle(subject));
        return;
      case 'gs1:pip':
        await this.page(subject, reply);
        return;
    }
  }

  private async page(subject: string, reply: FastifyReply): Promise<void> {
    const { script, stylesheet } = this.assets;
    void reply
      .header('content-security-policy', PAGE_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8');
    const content = await this.pages.content(subject);
    if (!content) {
      await reply.status(404).send(renderUnknownProductPage(subject, { script, stylesheet }));
      return;
    }
    const { ledgerKey, attestationKey } = this.evidence.keys;
    await reply.send(
      renderProductPage({
        subject,
        ...content,
        keys: { ledgerKey, attestationKey, ledgerFingerprint: this.fingerprint },
        assets: { script, stylesheet },
      }),
    );
  }

  private async bundle(subject: string) {
    try {
      return await this.evidence.bundle(subject);
    } catch (error) {
      if (error instanceof UnknownSubjectError) throw new NotFoundException(error.message);
      if (error instanceof VerifierBusyError) {
        throw new ProblemException({
          type: '/problems/verifier-busy',
          title: 'The verifier is busy',
          status: 503,
          detail: error.message,
          retryable: true,
        });
      }
      throw error;
    }
  }

  /** Where the printed URI points: RESOLVER_BASE_URL, else the origin the operator asked this server by. */
  private resolverBase(request: FastifyRequest): string {
    return this.config.consumer.resolverBaseUrl ?? `${request.protocol}://${request.host}`;
  }
}

import { applyDecorators, Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { AccessFor } from '../infrastructure/auth/access.js';
import { type Answer, ApiAnswer, ApiPathParam, ApiProblem, ApiQueryOf } from '../infrastructure/http/api-schemas.js';
import { ProblemException } from '../infrastructure/http/problem-details.js';
import { invalidRequest, SchemaPipe } from '../infrastructure/http/request-validation.js';
import type { CheckpointSigner } from '../ledger/checkpoint-note.js';
import { ApiGtin, ApiLot, ApiSerial, lgtinPath, sgtinPath } from '../infrastructure/http/digital-link-params.js';
import { AuditJobs } from './audit-jobs.js';
import type { LedgerSource } from './partition-scan.js';
import { BadConsistencyRequestError, ProductVerifier, UnknownSubjectError, VerifierBusyError } from './product-verifier.js';
import { AttestationAnswerSchema, AuditJobSchema, VerificationKeysSchema } from './verification-responses.js';
import { ATTESTATION_SIGNER, LEDGER_SOURCE } from './verification.tokens.js';

const AttestationQuery = Type.Object(
  {
    evidence: Type.Optional(
      Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'answer with the evidence bundle' }),
    ),
    since: Type.Optional(
      Type.String({
        pattern: '^[1-9]\\d{0,14}$',
        description: 'the tree size of a checkpoint you hold: the bundle proves the ledger only grew since',
      }),
    ),
  },
  { additionalProperties: false },
);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What an attestation route answers, and its errors. */
const ApiAttestation = () =>
  applyDecorators(
    ApiQueryOf(AttestationQuery),
    ApiAnswer(200, 'the attestation, or with evidence the bundle', AttestationAnswerSchema, {
      'Custodian-Ledger-Read': 'how the ledger was read: the followed view and its new tail, or the whole partition',
    }),
    ApiProblem(400, 'a path parameter or `since` is wrong'),
    ApiProblem(404, 'no such product in the ledger'),
    ApiProblem(503, 'Kafka is unreachable, or the verifier is busy'),
  );

/**
 * Integrity attestations and evidence bundles for products, the keys to check them with, and
 * full audits of the ledger (docs/attestation-format.md).
 */
@ApiTags('verification')
@Controller()
export class VerificationController {
  constructor(
    private readonly verifier: ProductVerifier,
    private readonly audits: AuditJobs,
    @Inject(ATTESTATION_SIGNER) private readonly signer: CheckpointSigner,
    @Inject(LEDGER_SOURCE) private readonly source: LedgerSource,
  ) {}

  @AccessFor('read')
  @Get('products/01/:gtin/21/:serial/attestation')
  @ApiOperation({ summary: "A signed statement that a serialised product's full history verifies against the ledger" })
  @ApiGtin
  @ApiSerial
  @ApiAttestation()
  async itemAttestation(
    @Param('gtin') gtin: string,
    @Param('serial') serial: string,
    @Query(new SchemaPipe(AttestationQuery)) query: Static<typeof AttestationQuery>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.attest(sgtinPath(gtin, serial), query, reply);
  }

  @AccessFor('read')
  @Get('products/01/:gtin/10/:lot/attestation')
  @ApiOperation({ summary: "A signed statement that a lot's full history verifies against the ledger" })
  @ApiGtin
  @ApiLot
  @ApiAttestation()
  async lotAttestation(
    @Param('gtin') gtin: string,
    @Param('lot') lot: string,
    @Query(new SchemaPipe(AttestationQuery)) query: Static<typeof AttestationQuery>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.attest(lgtinPath(gtin, lot), query, reply);
  }

  @AccessFor('public')
  @Get('verification/keys')
  @ApiOperation({ summary: 'The keys an auditor checks attestations and evidence bundles with, offline' })
  @ApiAnswer(200, 'the two verifier keys custodian-verify takes', VerificationKeysSchema)
  keys(): Answer<typeof VerificationKeysSchema> {
    return {
      ledgerKey: this.source.ledgerKey.verifierKey,
      attestationKey: this.signer.verifierKey,
    };
  }

  @AccessFor('audit')
  @Post('audits')
  @HttpCode(202)
  @ApiOperation({ summary: 'Starts a full audit of the ledger and the read models (one at a time)' })
  @ApiAnswer(202, 'the audit job, started, or the one already running', AuditJobSchema, { Location: '/audits/{id}' })
  startAudit(@Res({ passthrough: true }) reply: FastifyReply): Answer<typeof AuditJobSchema> {
    const { job } = this.audits.start();
    void reply.header('location', `/audits/${job.id}`);
    return job;
  }

  @AccessFor('audit')
  @Get('audits/:id')
  @ApiOperation({ summary: "A full audit's progress, and its report once it finished" })
  @ApiPathParam('id', 'the audit job id (a UUID)', Type.String({ format: 'uuid' }))
  @ApiAnswer(200, 'the job; `report` once finished', AuditJobSchema)
  @ApiProblem(400, 'the id is not a UUID')
  @ApiProblem(404, 'no such audit (audits are kept in memory until a restart)')
  audit(@Param('id') id: string): Answer<typeof AuditJobSchema> {
    if (!UUID.test(id)) throw invalidRequest([{ pointer: '/id', detail: 'an audit id is a UUID' }]);
    const job = this.audits.get(id);
    if (!job) throw new NotFoundException(`no audit ${id} (audits are kept in memory until a restart)`);
    return job;
  }

  private async attest(
    subject: string,
    query: Static<typeof AttestationQuery>,
    reply: FastifyReply,
  ): Promise<Answer<typeof AttestationAnswerSchema>> {
    try {
      const { attestation, bundle, ledgerRead, phases } = await this.verifier.verify(subject, {
        evidence: query.evidence === 'true' || query.since !== undefined,
        since: query.since === undefined ? undefined : Number(query.since),
      });
      // How the ledger was read: the follower's verified view and the new tail, or the whole partition.
      void reply.header('custodian-ledger-read', ledgerRead);
      // Where the verifier's time went (W3C Server Timing), phase by phase.
      void reply.header('server-timing', phases.header());
      return bundle ?? attestation;
    } catch (error) {
      if (error instanceof UnknownSubjectError) throw new NotFoundException(error.message);
      if (error instanceof BadConsistencyRequestError) throw invalidRequest([{ pointer: '/since', detail: error.message }]);
      if (error instanceof VerifierBusyError) {
        throw new ProblemException({
          type: '/problems/verifier-busy',
          title: 'The verifier is busy',
          status: 503,
          detail: error.message,
        });
      }
      throw error;
    }
  }
}

import { applyDecorators, type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CustodianConfig } from '../config/config.js';
import { CONFIG } from '../config/config.module.js';
import { ApiProblem } from '../http/api-schemas.js';
import { ProblemException } from '../http/problem-details.js';
import { ApiKeyRing, type Principal } from './api-keys.js';

/**
 * Who may call a route. Routes without a mark need a key of any role: a route is open only
 * when it says so.
 *   public    no key (health, the ledger's public key)
 *   read      any key; no key too when AUTH_ANONYMOUS_READS=true
 *   operator  an operator's key (it records steps for its own party)
 *   audit     an auditor's key (full audits of the ledger)
 */
export type Access = 'public' | 'read' | 'operator' | 'audit';
const ACCESS = 'custodian:access';

/** Who may call a route (or every route of a controller), and so what the OpenAPI document says of it. */
export const AccessFor = (access: Access) =>
  applyDecorators(
    SetMetadata(ACCESS, access),
    ...(access === 'public' ? [] : [ApiBearerAuth(), ApiProblem(401, 'no API key, or an unknown one')]),
    ...(access === 'operator' ? [ApiProblem(403, 'the key only reads, or acts for another party than the step names')] : []),
    ...(access === 'audit' ? [ApiProblem(403, 'the key is not an auditor key')] : []),
  );

type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/** The caller of a request the guard let through; null for an anonymous read. */
export const callerOf = (request: FastifyRequest): Principal | null => (request as AuthenticatedRequest).principal ?? null;

function unauthorized(detail: string): ProblemException {
  return new ProblemException({ type: '/problems/unauthenticated', title: 'An API key is needed', status: 401, detail });
}

export function forbidden(detail: string, pointer?: string): ProblemException {
  return new ProblemException({
    type: '/problems/forbidden',
    title: 'This key may not do that',
    status: 403,
    detail,
    ...(pointer !== undefined ? { errors: [{ pointer, detail }] } : {}),
  });
}

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyRing,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS, [context.getHandler(), context.getClass()]);
    if (access === 'public') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    if (header === undefined) {
      if (access === 'read' && this.config.auth.anonymousReads) return true;
      void http.getResponse<FastifyReply>().header('www-authenticate', 'Bearer realm="custodian"');
      throw unauthorized('send an API key as "Authorization: Bearer <key>"');
    }
    const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header);
    const principal = match ? this.keys.find(match[1] as string) : undefined;
    if (!principal) {
      void http.getResponse<FastifyReply>().header('www-authenticate', 'Bearer realm="custodian", error="invalid_token"');
      throw unauthorized('the API key is not known');
    }
    request.principal = principal;
    if (access === 'operator' && principal.role !== 'operator') {
      throw forbidden(
        `the key ${principal.name} has the role ${principal.role}, which only reads; recording steps needs an operator key`,
      );
    }
    if (access === 'audit' && principal.role !== 'auditor') {
      throw forbidden(`the key ${principal.name} has the role ${principal.role}; a full audit needs an auditor key`);
    }
    return true;
  }
}

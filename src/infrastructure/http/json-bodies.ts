import type { FastifyInstance } from 'fastify';
import { ProblemException } from './problem-details.js';
import { invalidRequest } from './request-validation.js';

/** The media type every request body of the API is in (docs/api.md). */
export const JSON_MEDIA_TYPE = 'application/json';
/** JSON-LD, which EPCIS 2.0 documents are sent as. */
export const JSON_LD_MEDIA_TYPE = 'application/ld+json';

function unsupportedMediaType(contentType: string | undefined): ProblemException {
  const sent = contentType === undefined ? 'no content type' : JSON.stringify(contentType);
  return new ProblemException({
    type: 'about:blank',
    title: 'Unsupported Media Type',
    status: 415,
    detail: `a request body is ${JSON_MEDIA_TYPE} (UTF-8), or ${JSON_LD_MEDIA_TYPE} for EPCIS capture; this one has ${sent}`,
  });
}

/**
 * Where the first U+0000 is in a parsed body (a member name or a string), as a JSON pointer. No
 * text the API keeps may hold one: PostgreSQL's text and jsonb refuse it, so a record holding one
 * would stop the projector for good.
 */
function nulAt(value: unknown, pointer: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? pointer : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, member] of Object.entries(value)) {
    const at = `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (key.includes('\u0000')) return at;
    const found = nulAt(member, at);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The charset parameter of a content type, lower case, or undefined when it names none. */
function charsetOf(contentType: string): string | undefined {
  const match = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  return match ? (match[1] ?? match[2] ?? '').toLowerCase() : undefined;
}

/**
 * Makes JSON the only request body Fastify takes: anything else is a 415 problem. Fastify would
 * also parse text/plain into a string, which then failed validation as a 400; and it would read
 * a body declared as UTF-16 as UTF-8. JSON is UTF-8 (RFC 8259 §8.1), so another charset is a 415.
 * The parser is Fastify's own, with its body limit (413) and prototype-poisoning checks.
 */
export function acceptJsonBodiesOnly(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  // JSON-LD (EPCIS 2.0 capture, docs/epcis.md) is JSON too.
  fastify.addContentTypeParser([JSON_MEDIA_TYPE, JSON_LD_MEDIA_TYPE], { parseAs: 'string' }, (request, body, done) => {
    const contentType = request.headers['content-type'] ?? '';
    const charset = charsetOf(contentType);
    if (charset !== undefined && charset !== 'utf-8') {
      done(unsupportedMediaType(contentType), undefined);
      return;
    }
    void parseJson(request, body as string, (error, parsed) => {
      // U+0000 can only come escaped (JSON has no raw control characters): look only then.
      const nul = error || !(body as string).includes('\\u0000') ? undefined : nulAt(parsed, '');
      if (nul !== undefined) {
        done(invalidRequest([{ pointer: nul, detail: 'holds the character U+0000, which no text here may hold' }]), undefined);
      } else done(error, parsed);
    }); // parseAs: 'string'
  });
  // Every other media type, and a body without one.
  fastify.addContentTypeParser('*', (request, _payload, done) => {
    done(unsupportedMediaType(request.headers['content-type']), undefined);
  });
}

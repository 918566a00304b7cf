import { Body, Controller, Param, Put, Req } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { parseGln } from '../gs1/gs1-keys.js';
import { AccessFor, callerOf, forbidden } from '../infrastructure/auth/access.js';
import { ApiAnswer, ApiPathParam, ApiProblem, openApiSchema } from '../infrastructure/http/api-schemas.js';
import { key } from '../infrastructure/http/digital-link-params.js';
import { SchemaPipe } from '../infrastructure/http/request-validation.js';
import { LocationOfAnotherPartyError, PARTY_ROLES, PartyRegistry } from './party-registry.js';

const NAME = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'as consumers will read it' });
const COUNTRY = Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 country code' });

const PartyBody = Type.Object(
  {
    name: NAME,
    role: Type.Union(
      PARTY_ROLES.map((role) => Type.Literal(role)),
      { description: 'what the party does in the supply chain' },
    ),
    country: COUNTRY,
  },
  { additionalProperties: false, examples: [{ name: 'Acme Pharma', role: 'manufacturer', country: 'DE' }] },
);

const LocationBody = Type.Object(
  {
    party: Type.String({ format: 'gln', description: "the party whose site it is: the key's own" }),
    name: NAME,
    country: COUNTRY,
    visibility: Type.Union([Type.Literal('public'), Type.Literal('internal')], {
      description: 'internal: consumers see "a site of <party>", not its name',
    }),
  },
  {
    additionalProperties: false,
    examples: [{ party: '4012345000009', name: 'Acme plant Mainz', country: 'DE', visibility: 'public' }],
  },
);

const PartyAnswer = Type.Object({ gln: Type.String(), ...PartyBody.properties });
const LocationAnswer = Type.Object({ gln: Type.String(), ...LocationBody.properties });

const ApiGln = (what: string) => ApiPathParam('gln', `${what} (GLN, 13 digits with its check digit)`);

/**
 * The party registry's operator routes (docs/consumer-page.md): each party names itself and its
 * locations, and says which locations consumers may see by name. An operator key acts for its
 * own party only, as when it records steps.
 */
@ApiTags('party registry')
@AccessFor('operator')
@ApiProblem(400, 'a field or the GLN is wrong: `errors` names it')
@Controller('registry')
export class PartyRegistryController {
  constructor(private readonly registry: PartyRegistry) {}

  @Put('parties/:gln')
  @ApiOperation({ summary: "Names the key's own party for consumers: name, role and country" })
  @ApiGln('the party')
  @ApiBody({ schema: openApiSchema(PartyBody) })
  @ApiAnswer(200, 'the party as registered', PartyAnswer)
  async putParty(
    @Param('gln') gln: string,
    @Body(new SchemaPipe(PartyBody)) body: Static<typeof PartyBody>,
    @Req() request: FastifyRequest,
  ) {
    const party = key(parseGln(gln), '/gln');
    const caller = callerOf(request);
    if (caller?.party !== party) {
      throw forbidden(`the key ${caller?.name ?? '?'} acts for party ${caller?.party ?? 'none'}, not for ${party}`, '/gln');
    }
    return this.registry.putParty({ gln: party, ...body }, caller.name);
  }

  @Put('locations/:gln')
  @ApiOperation({ summary: "Names a location of the key's own party, and whether consumers see its name" })
  @ApiGln('the location')
  @ApiBody({ schema: openApiSchema(LocationBody) })
  @ApiAnswer(200, 'the location as registered', LocationAnswer)
  async putLocation(
    @Param('gln') gln: string,
    @Body(new SchemaPipe(LocationBody)) body: Static<typeof LocationBody>,
    @Req() request: FastifyRequest,
  ) {
    const location = key(parseGln(gln), '/gln');
    const caller = callerOf(request);
    if (caller?.party !== body.party) {
      throw forbidden(
        `the key ${caller?.name ?? '?'} acts for party ${caller?.party ?? 'none'}, not for ${body.party}`,
        '/party',
      );
    }
    try {
      return await this.registry.putLocation({ gln: location, ...body }, caller.name);
    } catch (error) {
      if (error instanceof LocationOfAnotherPartyError) throw forbidden(error.message, '/gln');
      throw error;
    }
  }
}

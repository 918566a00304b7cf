import { Controller, Get, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AccessFor } from '../infrastructure/auth/access.js';
import { ApiPathParam, ApiProblem } from '../infrastructure/http/api-schemas.js';
import type { PageAssets } from './page-assets.js';

export const PAGE_ASSETS = Symbol('PageAssets');

/**
 * The consumer page's script (the bundled verifier) and stylesheet, served by Custodian itself:
 * the page trusts no CDN. Their names carry a digest of their content, so they never change
 * under a name and a browser may keep them for a year.
 */
@ApiTags('consumer page')
@AccessFor('public')
@Controller('assets')
export class PageAssetsController {
  constructor(@Inject(PAGE_ASSETS) private readonly assets: PageAssets) {}

  @Get(':name')
  @ApiOperation({ summary: "The consumer page's script or stylesheet, by the name the page gives" })
  @ApiPathParam('name', 'the file name the page links, e.g. verify.3f9a2c1b.js')
  @ApiResponse({
    status: 200,
    description: 'the file',
    content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } },
  })
  @ApiProblem(404, 'no such file (an older page names files of an older build)')
  async asset(@Param('name') name: string, @Res() reply: FastifyReply): Promise<void> {
    const asset = this.assets.get(name);
    if (!asset) throw new NotFoundException(`no asset ${name}`);
    await reply
      .type(asset.type)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .send(asset.body);
  }
}

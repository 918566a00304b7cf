import { Logger, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { ProvenanceModule } from '../provenance/provenance.module.js';
import { ProvenanceQueries } from '../provenance/provenance-queries.js';
import { VerificationModule } from '../verification/verification.module.js';
import { ClientRateLimit } from './client-rate-limit.js';
import { PAGE_ASSETS, PageAssetsController } from './page-assets.controller.js';
import { loadPageAssets } from './page-assets.js';
import { PartyRegistry } from './party-registry.js';
import { PartyRegistryController } from './party-registry.controller.js';
import { ProductPageSource } from './product-page-source.js';
import { CLIENT_RATE_LIMIT, ConsumerRateLimitGuard, ResolverController } from './resolver.controller.js';

/**
 * The consumer page (docs/consumer-page.md): GS1 Digital Link resolution, the product's page
 * with its evidence checked in the reader's browser, QR codes, and the party registry it names
 * parties and places from.
 */
@Module({
  imports: [ProvenanceModule, VerificationModule],
  controllers: [ResolverController, PageAssetsController, PartyRegistryController],
  providers: [
    {
      provide: PAGE_ASSETS,
      useFactory: () => {
        const assets = loadPageAssets();
        new Logger('ConsumerPage').log(`page assets ${assets.script}, ${assets.stylesheet}`);
        return assets;
      },
    },
    {
      provide: CLIENT_RATE_LIMIT,
      inject: [CONFIG],
      useFactory: (config: CustodianConfig) => new ClientRateLimit(config.consumer.rateLimitPerMinute),
    },
    ConsumerRateLimitGuard,
    {
      provide: PartyRegistry,
      inject: [getDataSourceToken()],
      useFactory: (dataSource: DataSource) => new PartyRegistry(dataSource),
    },
    {
      provide: ProductPageSource,
      inject: [ProvenanceQueries, PartyRegistry],
      useFactory: (queries: ProvenanceQueries, registry: PartyRegistry) => new ProductPageSource(queries, registry),
    },
  ],
})
export class ConsumerModule {}

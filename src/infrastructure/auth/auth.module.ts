import { Global, Logger, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { CustodianConfig } from '../config/config.js';
import { CONFIG } from '../config/config.module.js';
import { ApiKeyGuard } from './access.js';
import { ApiKeyRing } from './api-keys.js';

/** API keys per party, checked on every route (docs/api.md, "Authentication"). */
@Global()
@Module({
  providers: [
    {
      provide: ApiKeyRing,
      inject: [CONFIG],
      useFactory: async (config: CustodianConfig) => {
        const ring = await ApiKeyRing.load(config.auth.apiKeysFile);
        const logger = new Logger('Auth');
        if (ring.size === 0) {
          logger.warn(`no API keys in ${config.auth.apiKeysFile}: create one with "npm run api-key -- --help"`);
        } else {
          logger.log(`${ring.size} API keys from ${config.auth.apiKeysFile}`);
        }
        return ring;
      },
    },
    { provide: APP_GUARD, useClass: ApiKeyGuard },
  ],
  exports: [ApiKeyRing],
})
export class AuthModule {}

import { Global, Inject, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { CustodianConfig } from '../config/config.js';
import { CONFIG } from '../config/config.module.js';
import { ApiKeyGuard } from './access.js';
import { ApiKeyFileWatch } from './api-key-file-watch.js';
import { ApiKeyRing } from './api-keys.js';

/** Follows the key file while the application runs. */
class ApiKeyFileWatchLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(ApiKeyFileWatch) private readonly watch: ApiKeyFileWatch) {}

  onApplicationBootstrap(): void {
    this.watch.start();
  }

  onApplicationShutdown(): void {
    this.watch.stop();
  }
}

/** API keys per party, checked on every route, reloaded when the key file changes (docs/api.md, "Authentication"). */
@Global()
@Module({
  providers: [
    {
      provide: ApiKeyFileWatch,
      inject: [CONFIG],
      useFactory: async (config: CustodianConfig) => {
        const watch = new ApiKeyFileWatch(config.auth.apiKeysFile, new Logger('Auth'));
        await watch.load();
        return watch;
      },
    },
    { provide: ApiKeyRing, inject: [ApiKeyFileWatch], useFactory: (watch: ApiKeyFileWatch) => watch.ring },
    ApiKeyFileWatchLifecycle,
    { provide: APP_GUARD, useClass: ApiKeyGuard },
  ],
  exports: [ApiKeyRing],
})
export class AuthModule {}

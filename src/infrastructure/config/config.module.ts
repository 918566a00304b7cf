import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { CustodianConfig } from './config.js';

/** Injection token of the validated CustodianConfig. */
export const CONFIG = Symbol('CustodianConfig');

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: CustodianConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: CONFIG, useValue: config }], exports: [CONFIG] };
  }
}

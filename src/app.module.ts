import { type DynamicModule, Module } from '@nestjs/common';
import type { CustodianConfig } from './infrastructure/config/config.js';
import { ClusterModule } from './cluster/cluster.module.js';
import { ConsumerModule } from './consumer/consumer.module.js';
import { CustodyModule } from './custody/custody.module.js';
import { EpcisCaptureModule } from './epcis/epcis-capture.module.js';
import { EpcisQueryModule } from './epcis/epcis-query.module.js';
import { custodyStateModel } from './custody/custody-state.js';
import { AuthModule } from './infrastructure/auth/auth.module.js';
import { ConfigModule } from './infrastructure/config/config.module.js';
import { DatabaseModule } from './infrastructure/database/database.module.js';
import { HealthModule } from './infrastructure/health/health.module.js';
import { KafkaModule } from './infrastructure/kafka/kafka.module.js';
import { ShutdownLogger } from './infrastructure/logging/shutdown-logger.js';
import { LedgerModule } from './ledger-module/ledger.module.js';
import { ProjectionModule } from './projection/projection.module.js';
import { ProvenanceModule } from './provenance/provenance.module.js';
import { custodianProblems } from './problems.js';
import { VerificationModule } from './verification/verification.module.js';

@Module({})
export class AppModule {
  static forRoot(config: CustodianConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        AuthModule,
        DatabaseModule,
        KafkaModule,
        HealthModule,
        LedgerModule.forRoot({ stateModel: custodyStateModel }),
        ClusterModule.forRoot({ problems: custodianProblems }),
        CustodyModule,
        EpcisCaptureModule,
        EpcisQueryModule,
        ProjectionModule,
        ProvenanceModule,
        VerificationModule,
        ConsumerModule,
      ],
      providers: [ShutdownLogger],
    };
  }
}

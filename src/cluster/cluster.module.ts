import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { ReadinessChecks, type Readiness } from '../infrastructure/health/readiness.js';
import type { DomainProblems } from '../infrastructure/http/problem-details.js';
import { KAFKA } from '../infrastructure/kafka/kafka.module.js';
import { loadSigningKey } from '../ledger/adapters/signing-key-file.js';
import { LedgerWriter } from '../ledger/ledger-writer.js';
import { signingKeyFile } from '../ledger-module/ledger-parts.js';
import { DOMAIN_PROBLEMS, FORWARDING_KEY } from './cluster.tokens.js';
import { Forwarder, forwardingKey } from './forwarding.js';
import { WriterPlacement } from './writer-placement.js';

/** This instance's address for forwarded writes, as the others reach it. */
export function forwardingAddress(config: CustodianConfig): string {
  return `${config.cluster.advertisedHost}:${config.cluster.port}`;
}

/**
 * With CLUSTER_ENABLED=true, joins the writers' group at start (the placement starts the writers
 * given to this instance) and leaves it at shutdown, after its writers have stopped; readiness
 * says which partitions are written here.
 */
@Injectable()
class PlacementLifecycle implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly placement: WriterPlacement,
    private readonly readiness: ReadinessChecks,
    @Inject(CONFIG) private readonly config: CustodianConfig,
  ) {}

  onModuleInit(): void {
    if (this.config.cluster.enabled) this.readiness.register({ key: 'cluster', check: () => this.check() });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.cluster.enabled) await this.placement.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.config.cluster.enabled) await this.placement.stop();
  }

  private check(): Readiness {
    return {
      ready: this.placement.ready,
      group: this.placement.groupId,
      address: forwardingAddress(this.config),
      writes: this.placement.partitionsHere(),
    };
  }
}

@Injectable()
class ForwarderLifecycle implements OnApplicationShutdown {
  constructor(private readonly forwarder: Forwarder) {}

  async onApplicationShutdown(): Promise<void> {
    await this.forwarder.close();
  }
}

/**
 * Several instances of one ledger (docs/scaling.md): Kafka's group places each partition's
 * writer (WriterPlacement), writes for a partition written elsewhere are forwarded to it over
 * @nestjs/microservices (Forwarder; the receiving controller is the custody capability's).
 */
@Module({})
export class ClusterModule {
  static forRoot(options: { problems: DomainProblems }): DynamicModule {
    return {
      module: ClusterModule,
      global: true,
      providers: [
        { provide: DOMAIN_PROBLEMS, useValue: options.problems },
        {
          provide: FORWARDING_KEY,
          inject: [CONFIG],
          useFactory: async (config: CustodianConfig) => {
            const { seed } = await loadSigningKey({ configured: config.ledger.signingKey, file: signingKeyFile(config) });
            return forwardingKey(seed, config.ledger.id);
          },
        },
        {
          provide: Forwarder,
          inject: [FORWARDING_KEY, CONFIG],
          useFactory: (key: Buffer, config: CustodianConfig) => new Forwarder(key, config.cluster.forwardTimeoutMs),
        },
        {
          provide: WriterPlacement,
          inject: [CONFIG, KAFKA, LedgerWriter],
          useFactory: (config: CustodianConfig, kafka: Kafka, writer: LedgerWriter) => {
            const logger = new Logger('Cluster');
            return new WriterPlacement({
              kafka,
              topic: config.ledger.topic,
              ledgerId: config.ledger.id,
              partitions: config.ledger.partitions,
              address: forwardingAddress(config),
              sessionTimeoutMs: config.cluster.sessionTimeoutMs,
              writer,
              log: (level, message) => {
                logger[level](message);
              },
            });
          },
        },
        PlacementLifecycle,
        ForwarderLifecycle,
      ],
      exports: [DOMAIN_PROBLEMS, FORWARDING_KEY, Forwarder, WriterPlacement],
    };
  }
}

import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';

/** Says when the application has finished its graceful shutdown, and why it shut down. */
@Injectable()
export class ShutdownLogger implements OnApplicationShutdown {
  private readonly logger = new Logger('Shutdown');

  onApplicationShutdown(signal?: string): void {
    this.logger.log(`Custodian stopped gracefully${signal ? ` on ${signal}` : ''}`);
  }
}

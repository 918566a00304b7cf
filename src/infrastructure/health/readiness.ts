import { Injectable } from '@nestjs/common';

/** What a part of the application says of itself when readiness is asked: ready or not, and why. */
export interface Readiness {
  readonly ready: boolean;
  readonly [detail: string]: unknown;
}

/** One part's readiness, under its key in the readiness answer (`ledger`, `projection`, …). */
export interface ReadinessCheck {
  readonly key: string;
  check(): Readiness | Promise<Readiness>;
}

/**
 * The readiness checks of the capabilities. Each capability registers its own when its module
 * starts, so the health endpoint knows them without importing any capability.
 */
@Injectable()
export class ReadinessChecks {
  private readonly checks: ReadinessCheck[] = [];

  register(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  all(): readonly ReadinessCheck[] {
    return this.checks;
  }
}

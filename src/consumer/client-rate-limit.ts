/**
 * A token bucket per client (RFC 6585's 429 when it is empty): each client may make `perMinute`
 * requests a minute, and spend a minute's worth at once. The consumer routes are open without a
 * key and an evidence bundle costs a verification, so one client cannot take the verifier for
 * itself. Buckets are kept in memory, per process; a client's bucket is forgotten once it would
 * be full again, so the map holds only the clients of the last minute or so.
 */
export interface RateDecision {
  readonly allowed: boolean;
  /** Whole seconds until one request is allowed again (0 when allowed). */
  readonly retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept before the full ones are swept out. */
const SWEEP_AT = 10_000;

export class ClientRateLimit {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = perMinute / 60_000;
  }

  take(client: string): RateDecision {
    const now = this.now();
    const bucket = this.buckets.get(client);
    const tokens = bucket ? Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs) : this.perMinute;
    if (tokens < 1) {
      if (bucket) Object.assign(bucket, { tokens, at: now });
      return { allowed: false, retryAfterSeconds: Math.ceil((1 - tokens) / this.perMs / 1000) };
    }
    if (bucket) Object.assign(bucket, { tokens: tokens - 1, at: now });
    else {
      if (this.buckets.size >= SWEEP_AT) this.sweep(now);
      this.buckets.set(client, { tokens: tokens - 1, at: now });
    }
    return { allowed: true, retryAfterSeconds: 0 };
  }

  /** How many clients are remembered (for tests). */
  get clients(): number {
    return this.buckets.size;
  }

  /** Forgets the clients whose bucket has filled up again: remembering them changes nothing. */
  private sweep(now: number): void {
    for (const [client, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * this.perMs >= this.perMinute) this.buckets.delete(client);
    }
  }
}

import { createHash } from 'node:crypto';
import pg from 'pg';

/** The advisory lock's first key: "CUST". */
const LOCK_CLASS = 0x43555354;

/**
 * With several instances (docs/scaling.md §4), one projector per ledger: the instance holding a
 * PostgreSQL session-level advisory lock runs it, the others try again every `retryMs`. The lock
 * lives on a connection of its own (not one of the pool, which would hand it on), and goes with
 * it: when the holder dies or loses the connection, PostgreSQL frees it and another instance takes
 * the projection over from the stored position. (Two projectors would still be correct, since
 * each batch moves the position compare-and-set, but they would conflict on every batch.)
 */
export class ProjectorLease {
  private holder: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly ledgerId: string,
    private readonly events: { acquired(): Promise<void>; lost(): Promise<void> },
    private readonly retryMs = 1000,
  ) {}

  get held(): boolean {
    return this.holder !== null;
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      this.round = this.round.then(() => this.check()).catch(() => undefined);
      if (!this.stopped) this.timer = setTimeout(tick, this.retryMs);
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round;
    const holder = this.holder;
    this.holder = null;
    if (holder) {
      await this.events.lost();
      // Closing the connection frees the lock.
      await holder.end().catch(() => undefined);
    }
  }

  private isStopped(): boolean {
    return this.stopped;
  }

  private key(): [number, number] {
    return [LOCK_CLASS, createHash('sha256').update(this.ledgerId).digest().readInt32BE(0)];
  }

  private async check(): Promise<void> {
    if (this.stopped) return;
    if (this.holder) {
      try {
        await this.holder.query('SELECT 1');
      } catch {
        // The connection is gone, and the lock with it: another instance may hold it now.
        const lost = this.holder;
        this.holder = null;
        await lost.end().catch(() => undefined);
        await this.events.lost();
      }
      return;
    }
    // Timeouts and keepalive: a half-open connection must fail the next round's query, not hang it.
    const client = new pg.Client({
      connectionString: this.databaseUrl,
      application_name: 'custodian-projector-lease',
      connectionTimeoutMillis: 5000,
      query_timeout: 5000,
      keepAlive: true,
    });
    // A connection that breaks later is noticed by the next round's query.
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', this.key());
      // stop() may have come while the lock was asked for.
      if (rows[0]?.locked === true && !this.isStopped()) {
        this.holder = client;
        await this.events.acquired();
        return;
      }
    } catch {
      // PostgreSQL unreachable, or the projector did not start: let go, and try again in the next round.
      if (this.holder === client) {
        this.holder = null;
        await this.events.lost().catch(() => undefined);
      }
    }
    await client.end().catch(() => undefined);
  }
}

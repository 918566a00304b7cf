/**
 * A load tool for reliability tests: callers that record custody steps over HTTP without
 * pause, each request with an Idempotency-Key of its own, keeping the receipt of every 201 and
 * every request that got anything else (an error status, a reset connection, no answer in
 * time). Afterwards the failed requests can be retried with their own keys, as a client would.
 */
import type { StoredRecord } from '../../src/ledger/ledger-record.js';
import { gtin, type RecordedStep } from './custody-api.js';

/** One request of the load: its key, route and body. */
export interface LoadRequest {
  readonly idempotencyKey: string;
  readonly route: string;
  readonly body: unknown;
}

/** What a request got: an HTTP status, 'network' (refused or reset) or 'timeout' (no answer in time). */
export type LoadStatus = number | 'network' | 'timeout';

export interface Failure {
  readonly request: LoadRequest;
  readonly status: LoadStatus;
  readonly problemType?: string;
  readonly ms: number;
}

export interface StepLoadOptions {
  /** The application's base URL; read for every request, so a restarted process may move. */
  readonly url: () => string;
  readonly apiKey: string;
  readonly concurrency: number;
  /** The next request; `load` gives access to what was acknowledged so far. */
  readonly next: (n: number, load: StepLoad) => LoadRequest;
  /** A request that has no answer after this long counts as a 'timeout' (a hang). */
  readonly timeoutMs?: number;
  /** Pause between two requests of one caller (0: none). */
  readonly pauseMs?: number;
}

const steps = (body: unknown): RecordedStep[] => {
  const b = body as { steps?: RecordedStep[] } & Partial<RecordedStep>;
  return b.steps ?? [b as RecordedStep];
};

export async function send(
  url: string,
  apiKey: string,
  request: LoadRequest,
  timeoutMs: number,
): Promise<{ status: LoadStatus; body: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    const response = await fetch(url + request.route, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
        'idempotency-key': request.idempotencyKey,
      },
      body: JSON.stringify(request.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text
    }
    return { status: response.status, body, ms: performance.now() - t0 };
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
    return { status: timedOut ? 'timeout' : 'network', body: undefined, ms: performance.now() - t0 };
  }
}

export class StepLoad {
  /** Acknowledged requests (201), by Idempotency-Key, with their steps and receipts. */
  readonly acknowledged = new Map<string, { request: LoadRequest; steps: RecordedStep[] }>();
  /** Requests that got anything but a 201, by Idempotency-Key. */
  readonly failed = new Map<string, Failure>();
  /** Answers counted by status. */
  readonly statuses = new Map<LoadStatus, number>();
  /** Every answer's time and status, in order, for looking at a window of the run. */
  readonly answers: { at: number; status: LoadStatus; ms: number }[] = [];
  private running = false;
  private callers: Promise<void>[] = [];
  private n = 0;

  constructor(private readonly options: StepLoadOptions) {}

  get requests(): number {
    return this.n;
  }

  start(): void {
    this.running = true;
    this.callers = Array.from({ length: this.options.concurrency }, () => this.caller());
  }

  /** Stops taking new requests and waits for those in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.callers);
  }

  private async caller(): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    while (this.running) {
      const request = this.options.next(this.n++, this);
      const { status, body, ms } = await send(this.options.url(), this.options.apiKey, request, timeoutMs);
      this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
      this.answers.push({ at: Date.now(), status, ms });
      if (status === 201) this.acknowledged.set(request.idempotencyKey, { request, steps: steps(body) });
      else {
        const problemType = (body as { type?: unknown } | undefined)?.type;
        this.failed.set(request.idempotencyKey, {
          request,
          status,
          ms,
          ...(typeof problemType === 'string' ? { problemType } : {}),
        });
      }
      // A refused connection (the process is down) or a 503 answers at once: do not spin on it.
      const failed = status === 'network' || status === 503;
      const pause = failed ? Math.max(100, this.options.pauseMs ?? 0) : (this.options.pauseMs ?? 0);
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /**
   * Sends every failed request again with its own key until it is answered 201 (or a 4xx that
   * is final). Returns the steps of each retry that was recorded or found recorded, by key.
   */
  async retryFailed(attempts = 20): Promise<Map<string, RecordedStep[]>> {
    const recorded = new Map<string, RecordedStep[]>();
    for (const [key, failure] of this.failed) {
      for (let attempt = 0; attempt < attempts; attempt++) {
        const { status, body } = await send(this.options.url(), this.options.apiKey, failure.request, 30_000);
        if (status === 201) {
          recorded.set(key, steps(body));
          break;
        }
        // 503 (ledger unavailable, outcome unknown) and 409 idempotency-key-in-use are retryable.
        const retryable = status === 503 || status === 'network' || status === 'timeout' || status === 409;
        if (!retryable)
          throw new Error(`the retry of ${key} (${failure.request.route}) was answered ${status}: ${JSON.stringify(body)}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    return recorded;
  }

  /** The eventIds of every acknowledged step. */
  acknowledgedEventIds(): Set<string> {
    return new Set([...this.acknowledged.values()].flatMap(({ steps }) => steps.map((step) => step.eventId)));
  }

  summary(): Record<string, number> {
    return Object.fromEntries([...this.statuses].map(([status, count]) => [String(status), count]));
  }
}

/**
 * A mixed custody workload of one party: mostly commissions of new products, every fourth a
 * handover to `to` of a product whose commission was acknowledged, every tenth a batch of three
 * commissions. Every request is new (its own key, its own products).
 */
export function custodyWorkload(options: { owner: string; site: string; to: string; prefix: string; gtinNumber?: number }) {
  const G = gtin(options.gtinNumber ?? 7001);
  const occurredAt = '2026-11-01T08:00:00Z';
  const handedOver = new Set<string>();
  const commission = (serial: string) => ({
    gtin: G,
    serial,
    name: 'Widget',
    owner: options.owner,
    location: options.site,
    occurredAt,
  });
  return (n: number, load: StepLoad): LoadRequest => {
    const idempotencyKey = `${options.prefix}-${n}`;
    if (n % 10 === 9) {
      return {
        idempotencyKey,
        route: '/custody/batch',
        body: { steps: [0, 1, 2].map((i) => ({ type: 'commission', ...commission(`${options.prefix}-${n}-${i}`) })) },
      };
    }
    if (n % 4 === 3) {
      const product = [...load.acknowledged.values()]
        .flatMap(({ steps }) => steps)
        .find((step) => step.eventType === 'product.commissioned' && !handedOver.has(step.subject));
      if (product) {
        handedOver.add(product.subject);
        return {
          idempotencyKey,
          route: '/custody/handover',
          body: { subject: product.subject, from: options.owner, to: options.to, location: options.site, occurredAt },
        };
      }
    }
    return { idempotencyKey, route: '/products', body: commission(`${options.prefix}-${n}`) };
  };
}

/** The step records of a ledger (genesis and checkpoints left out). */
export function stepRecords(records: readonly StoredRecord[]): StoredRecord[] {
  return records.filter((stored) => !stored.record.eventType.startsWith('ledger.'));
}

/** Event ids that occur more than once. */
export function duplicates(records: readonly StoredRecord[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const { record } of records) {
    if (seen.has(record.eventId)) twice.add(record.eventId);
    seen.add(record.eventId);
  }
  return [...twice];
}

/**
 * The acknowledged steps whose receipt does not point at their record: a record at the
 * receipt's offset with the receipt's sequence, hash and event id. Empty when every receipt holds.
 */
export function receiptsNotInLedger(acknowledged: Iterable<RecordedStep>, records: readonly StoredRecord[]): RecordedStep[] {
  const byOffset = new Map(records.map((stored) => [stored.offset, stored]));
  return [...acknowledged].filter((step) => {
    const stored = byOffset.get(step.receipt.offset);
    return (
      !stored ||
      stored.record.eventId !== step.eventId ||
      stored.hash !== step.receipt.hash ||
      stored.record.sequence !== step.receipt.sequence
    );
  });
}

import { ClientProxyFactory, type ClientProxy, Transport } from '@nestjs/microservices';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { firstValueFrom, timeout } from 'rxjs';

/**
 * Writes forwarded from one instance to the one whose writer holds the partition, request and
 * response over @nestjs/microservices' TCP transport (docs/scaling.md, "Forwarding": why TCP).
 * A forwarded message says who the caller is, so the receiver must know it comes from an
 * instance of the same ledger: each message is sealed with an HMAC-SHA256 under a key derived
 * from the ledger's checkpoint key (every instance that may write the ledger has it; nothing new
 * to distribute), and carries the time it was sealed, so a recorded message is not taken again
 * later (a replay within the window with an Idempotency-Key is answered from the ledger).
 */

/** The pattern of a forwarded step (or batch of steps). */
export const FORWARDED_STEPS = 'custodian.steps.record';

/** How old a forwarded message may be when it arrives. */
export const FORWARD_MAX_AGE_MS = 30_000;

export interface SealedMessage {
  readonly body: string;
  readonly at: number;
  readonly mac: string;
}

/** The forwarding key of a ledger: HMAC-SHA256 of its label under the ledger's checkpoint key seed. */
export function forwardingKey(seed: Uint8Array, ledgerId: string): Buffer {
  return createHmac('sha256', seed).update(`custodian/forwarding/v1/${ledgerId}`).digest();
}

function mac(key: Buffer, at: number, body: string): string {
  return createHmac('sha256', key).update(`${at}\n${body}`).digest('base64');
}

export function seal(key: Buffer, payload: unknown, now = Date.now()): SealedMessage {
  const body = JSON.stringify(payload);
  return { body, at: now, mac: mac(key, now, body) };
}

/** A message that is not a sealed one of this ledger, or too old. */
export class ForwardRefusedError extends Error {
  override name = 'ForwardRefusedError';
}

export function unseal(key: Buffer, message: unknown, now = Date.now()): unknown {
  const { body, at, mac: given } = (message ?? {}) as Partial<SealedMessage>;
  if (typeof body !== 'string' || typeof at !== 'number' || typeof given !== 'string') {
    throw new ForwardRefusedError('not a sealed message');
  }
  const expected = Buffer.from(mac(key, at, body), 'base64');
  const found = Buffer.from(given, 'base64');
  if (found.length !== expected.length || !timingSafeEqual(found, expected)) {
    throw new ForwardRefusedError('the seal does not verify under this ledger’s forwarding key');
  }
  if (Math.abs(now - at) > FORWARD_MAX_AGE_MS) throw new ForwardRefusedError(`sealed ${now - at} ms ago`);
  return JSON.parse(body) as unknown;
}

/** The receiver could not be reached: nothing was sent, so the write may go to another instance. */
export class ForwardNotSentError extends Error {
  override name = 'ForwardNotSentError';
}

/** The message was sent but no answer came (the receiver died, or was too slow): the write may or may not be recorded. */
export class ForwardOutcomeUnknownError extends Error {
  override name = 'ForwardOutcomeUnknownError';
}

/** How long a connection to another instance may take before the write goes elsewhere (nothing was sent). */
const CONNECT_TIMEOUT_MS = 5000;

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(message));
    }, ms);
  });
  return Promise.race([work, expired]).finally(() => {
    clearTimeout(timer);
  });
}

/** One TCP client per receiving instance, connected on first use and again after a failure. */
export class Forwarder {
  private readonly clients = new Map<string, ClientProxy>();

  constructor(
    private readonly key: Buffer,
    private readonly timeoutMs: number,
  ) {}

  async send(address: string, pattern: string, payload: unknown): Promise<unknown> {
    const client = this.clientOf(address);
    try {
      await withTimeout(client.connect(), CONNECT_TIMEOUT_MS, `no connection within ${CONNECT_TIMEOUT_MS} ms`);
    } catch (error) {
      this.drop(address);
      throw new ForwardNotSentError(`${address} cannot be reached: ${(error as Error).message}`);
    }
    let answer: unknown;
    try {
      answer = await firstValueFrom(client.send<unknown>(pattern, seal(this.key, payload)).pipe(timeout(this.timeoutMs)));
    } catch (error) {
      // A closed connection fails every request on it; one slow answer leaves the others be.
      if (/closed|ECONN|EPIPE/i.test((error as Error).message)) this.drop(address);
      throw new ForwardOutcomeUnknownError(`${address} did not answer: ${(error as Error).message}`);
    }
    const refused = (answer as { refused?: unknown } | null)?.refused;
    // Refused before anything was done (another ledger's key, a clock far off): nothing was recorded there.
    if (typeof refused === 'string') throw new ForwardNotSentError(`${address} refused the forwarded write: ${refused}`);
    try {
      return unseal(this.key, answer);
    } catch (error) {
      throw new ForwardOutcomeUnknownError(`${address} answered with a seal that does not verify: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {
    for (const address of [...this.clients.keys()]) this.drop(address);
    return Promise.resolve();
  }

  private clientOf(address: string): ClientProxy {
    let client = this.clients.get(address);
    if (!client) {
      const at = address.lastIndexOf(':');
      client = ClientProxyFactory.create({
        transport: Transport.TCP,
        options: { host: address.slice(0, at), port: Number(address.slice(at + 1)) },
      });
      this.clients.set(address, client);
    }
    return client;
  }

  private drop(address: string): void {
    const client = this.clients.get(address);
    this.clients.delete(address);
    void Promise.resolve(client?.close()).catch(() => undefined);
  }
}

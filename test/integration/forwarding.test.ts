import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, type MicroserviceOptions, Payload, Transport } from '@nestjs/microservices';
import type { INestMicroservice } from '@nestjs/common';
import {
  Forwarder,
  ForwardNotSentError,
  ForwardOutcomeUnknownError,
  forwardingKey,
  seal,
  unseal,
} from '../../src/cluster/forwarding.js';
import { freePort } from '../support/test-stack.mjs';

const key = forwardingKey(new Uint8Array(32).fill(1), 'forwarding-test');
const received: unknown[] = [];
let release: (() => void) | null = null;

/** A receiver as the writer's instance runs it: opens the seal, answers sealed; 'hold' waits until released. */
@Controller()
class EchoController {
  @MessagePattern('echo')
  async echo(@Payload() message: unknown): Promise<unknown> {
    let request: { hold?: boolean; n: number };
    try {
      request = unseal(key, message) as typeof request;
    } catch (error) {
      return { refused: (error as Error).message };
    }
    received.push(request);
    if (request.hold) await new Promise<void>((resolve) => (release = resolve));
    return seal(key, { echoed: request.n });
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

describe('forwarded writes over @nestjs/microservices TCP', () => {
  let server: INestMicroservice;
  let address: string;

  const listen = async (port: number) => {
    server = await NestFactory.createMicroservice<MicroserviceOptions>(EchoModule, {
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger: false,
    });
    await server.listen();
  };

  beforeAll(async () => {
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    await listen(port);
  });

  afterAll(async () => {
    await server.close();
  });

  it('sends a sealed request and returns the receiver’s sealed answer', async () => {
    const forwarder = new Forwarder(key, 5000);
    expect(await forwarder.send(address, 'echo', { n: 1 })).toEqual({ echoed: 1 });
    expect(await forwarder.send(address, 'echo', { n: 2 })).toEqual({ echoed: 2 });
    expect(received).toEqual([{ n: 1 }, { n: 2 }]);
    await forwarder.close();
  });

  it('says "not sent" when the receiver refuses the seal (another ledger’s key) or cannot be reached', async () => {
    const stranger = new Forwarder(forwardingKey(new Uint8Array(32).fill(2), 'forwarding-test'), 5000);
    await expect(stranger.send(address, 'echo', { n: 3 })).rejects.toBeInstanceOf(ForwardNotSentError);
    expect(received).not.toContainEqual({ n: 3 });
    await stranger.close();
    const forwarder = new Forwarder(key, 5000);
    await expect(forwarder.send(`127.0.0.1:${await freePort()}`, 'echo', { n: 4 })).rejects.toBeInstanceOf(ForwardNotSentError);
    await forwarder.close();
  });

  it('says "outcome unknown" when the request was sent and no answer came in time', async () => {
    const forwarder = new Forwarder(key, 300);
    await expect(forwarder.send(address, 'echo', { n: 5, hold: true })).rejects.toBeInstanceOf(ForwardOutcomeUnknownError);
    // The receiver had it: the write may well be recorded there.
    expect(received).toContainEqual({ n: 5, hold: true });
    release?.();
    // The connection is still good for the next write.
    expect(await forwarder.send(address, 'echo', { n: 6 })).toEqual({ echoed: 6 });
    await forwarder.close();
  });
});

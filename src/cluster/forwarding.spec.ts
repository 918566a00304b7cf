import { describe, expect, it } from '@jest/globals';
import { FORWARD_MAX_AGE_MS, ForwardRefusedError, forwardingKey, seal, unseal } from './forwarding.js';

const key = forwardingKey(new Uint8Array(32).fill(7), 'ledger-a');

describe('sealed forwarded messages', () => {
  it('open under the key of the same ledger, to what was sealed', () => {
    const payload = { partition: 0, actor: 'maker', steps: [{ pointer: '', occurredAt: '2026-12-03T10:00:00Z' }] };
    expect(unseal(key, seal(key, payload, 1000), 1500)).toEqual(payload);
  });

  it('are refused with one changed byte, under another ledger’s or another key’s seal, or when too old', () => {
    const sealed = seal(key, { actor: 'maker' }, 1000);
    expect(() => unseal(key, { ...sealed, body: sealed.body.replace('maker', 'makes') }, 1000)).toThrow(ForwardRefusedError);
    expect(() => unseal(key, { ...sealed, at: 1001 }, 1000)).toThrow(ForwardRefusedError);
    expect(() => unseal(forwardingKey(new Uint8Array(32).fill(7), 'ledger-b'), sealed, 1000)).toThrow(ForwardRefusedError);
    expect(() => unseal(forwardingKey(new Uint8Array(32).fill(8), 'ledger-a'), sealed, 1000)).toThrow(ForwardRefusedError);
    expect(() => unseal(key, sealed, 1000 + FORWARD_MAX_AGE_MS + 1)).toThrow(/sealed \d+ ms ago/);
    expect(() => unseal(key, { body: '{}' }, 1000)).toThrow(/not a sealed message/);
  });
});

import { describe, expect, it } from '@jest/globals';
import { ClientRateLimit } from './client-rate-limit.js';

describe('the per-client rate limit', () => {
  it("lets a client spend a minute's worth at once, then one request per refill, each client apart", () => {
    let now = 0;
    const limit = new ClientRateLimit(6, () => now);
    for (let i = 0; i < 6; i++) expect(limit.take('a').allowed).toBe(true);
    expect(limit.take('a')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    expect(limit.take('b').allowed).toBe(true);
    now += 9_000;
    expect(limit.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 1_000;
    expect(limit.take('a').allowed).toBe(true);
    expect(limit.take('a').allowed).toBe(false);
  });

  it('forgets clients whose bucket filled up again, so memory follows the clients of the last minute', () => {
    let now = 0;
    const limit = new ClientRateLimit(60, () => now);
    for (let i = 0; i < 10_000; i++) limit.take(`client-${i}`);
    expect(limit.clients).toBe(10_000);
    // Half a second on, each has half a token to go: none is forgotten.
    now += 500;
    limit.take('late');
    expect(limit.clients).toBe(10_001);
    now += 60_000;
    limit.take('later');
    expect(limit.clients).toBe(1);
  });
});

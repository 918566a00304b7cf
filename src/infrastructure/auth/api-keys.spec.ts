import { describe, expect, it } from '@jest/globals';
import { ApiKeyFileError, ApiKeyRing, hashApiKey, newApiKey, parseApiKeyFile } from './api-keys.js';

const entry = (over: Record<string, unknown> = {}) => ({
  name: 'maker',
  role: 'operator',
  party: '4012345000009',
  sha256: hashApiKey('k'),
  ...over,
});

describe('API keys', () => {
  it('finds the principal of a key by its hash, and only of a key it knows', () => {
    const key = newApiKey();
    const ring = new ApiKeyRing(
      parseApiKeyFile({
        keys: [
          entry({ sha256: hashApiKey(key) }),
          entry({ name: 'audit', role: 'auditor', party: null, sha256: hashApiKey('x') }),
        ],
      }),
    );
    expect(ring.find(key)).toEqual({ name: 'maker', role: 'operator', party: '4012345000009' });
    expect(ring.find(`${key}x`)).toBeUndefined();
    expect(key).toMatch(/^cust_[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a key file that is wrong, naming the entry and field', () => {
    const cases: [unknown, RegExp][] = [
      [{}, /"keys" array/],
      [{ keys: [entry({ role: 'admin' })] }, /keys\[0\]\.role/],
      [{ keys: [entry({ party: '4012345000010' })] }, /keys\[0\]\.party: .*check digit/],
      [{ keys: [entry({ role: 'consumer' })] }, /keys\[0\]\.party: only operators/],
      [{ keys: [entry(), entry()] }, /keys\[1\]\.name: maker is used twice/],
      [{ keys: [entry({ sha256: 'plain-text-key' })] }, /keys\[0\]\.sha256/],
    ];
    for (const [content, message] of cases) expect(() => parseApiKeyFile(content)).toThrow(message);
    expect(() => parseApiKeyFile({})).toThrow(ApiKeyFileError);
  });
});

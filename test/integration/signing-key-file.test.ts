import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSigningKey } from '../../src/ledger/adapters/signing-key-file.js';

describe('the key file generated on first start', () => {
  it('is one key for every part that loads it at the same moment, never read half written', async () => {
    for (let round = 0; round < 100; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'custodian-key-'));
      const file = join(dir, 'keys', 'ledger-test.ed25519');
      // The checkpoint signer and the forwarding key of one process, and other processes, load it at once.
      const loaded = await Promise.all(Array.from({ length: 16 }, () => loadSigningKey({ file })));
      const seeds = new Set(loaded.map(({ seed }) => Buffer.from(seed).toString('hex')));
      expect(seeds.size).toBe(1);
      expect(loaded.filter(({ source }) => source.endsWith('(generated)'))).toHaveLength(1);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // No temporary file left beside it.
      expect(readdirSync(join(dir, 'keys'))).toEqual(['ledger-test.ed25519']);
    }
  });
});

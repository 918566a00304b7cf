import { describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkReferenceDocuments } from './event-hash-reference.js';

const repository = new URL('../../', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(join(repository, 'test/fixtures/epcis-hash/expected-by-reference.json'), 'utf8')) as {
  documents: Record<string, { hashes: string[]; preHashes: string[] }>;
};

describe('checking a folder laid out as the reference publishes its test documents', () => {
  it('says which documents agree with their published hash ids and pre-hash strings, and where one differs', () => {
    const folder = mkdtempSync(join(tmpdir(), 'epcis-reference-'));
    try {
      const [first, second] = Object.entries(expected.documents);
      const publish = ([path, { hashes, preHashes }]: [string, { hashes: string[]; preHashes: string[] }], name: string) => {
        copyFileSync(join(repository, path), join(folder, `${name}.jsonld`));
        writeFileSync(join(folder, `${name}.hashes`), `${hashes.join('\n')}\n`);
        writeFileSync(join(folder, `${name}.prehashes`), `${preHashes.join('\n')}\n`);
      };
      publish(first!, 'agrees');
      publish(second!, 'differs');
      writeFileSync(
        join(folder, 'differs.hashes'),
        `${second![1].hashes.map((hash) => hash.replace(/[0-9a-f](?=\?ver)/, (digit) => (digit === '0' ? '1' : '0'))).join('\n')}\n`,
      );
      const results = checkReferenceDocuments(folder);
      expect(results.map(({ name }) => name)).toEqual(['agrees.jsonld', 'differs.jsonld']);
      expect(results[0]!.difference).toBeNull();
      expect(results[1]!.difference).toMatch(/^hash ids ni:\/\/\/sha-256;/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

/** API key files as `npm run api-key` writes them: for tests, and for benchmarks that start the app. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ApiKeyEntry, hashApiKey, newApiKey, type Role } from '../../src/infrastructure/auth/api-keys.js';

export interface TestKey {
  readonly name: string;
  readonly role: Role;
  readonly party?: string;
}

/** Writes an API key file with a fresh key for each entry; returns the keys by name. */
export function writeApiKeys(dataDir: string, keys: readonly TestKey[]): { file: string; keys: Record<string, string> } {
  const secrets: Record<string, string> = {};
  const entries: ApiKeyEntry[] = keys.map(({ name, role, party }) => {
    const key = newApiKey();
    secrets[name] = key;
    return { name, role, party: party ?? null, sha256: hashApiKey(key) };
  });
  const file = join(dataDir, 'api-keys.json');
  writeFileSync(file, JSON.stringify({ keys: entries }), { mode: 0o600 });
  return { file, keys: secrets };
}

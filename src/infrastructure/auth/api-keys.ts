import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseGln } from '../../gs1/gs1-keys.js';

/**
 * API keys per party (docs/api.md, "Authentication"). The key file holds only SHA-256 hashes:
 * keys are 256 random bits, so a fast hash is enough to make a stolen file useless, and a
 * lookup by hash compares no secret byte by byte.
 */
export type Role = 'operator' | 'auditor' | 'consumer';
export const ROLES: readonly Role[] = ['operator', 'auditor', 'consumer'];

/** Who is calling: the key's name, its role and, for an operator, the party (GLN) it acts for. */
export interface Principal {
  readonly name: string;
  readonly role: Role;
  readonly party: string | null;
}

export interface ApiKeyEntry extends Principal {
  readonly sha256: string;
}

export const API_KEY_PREFIX = 'cust_';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function newApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export class ApiKeyFileError extends Error {
  override name = 'ApiKeyFileError';
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** Checks a key file's content; every problem names the entry and the field. */
export function parseApiKeyFile(content: unknown): ApiKeyEntry[] {
  const keys = (content as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new ApiKeyFileError('the API key file must be an object with a "keys" array');
  const names = new Set<string>();
  return keys.map((raw: unknown, i): ApiKeyEntry => {
    const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const where = `keys[${i}]`;
    const { name, role, party, sha256 } = entry;
    if (typeof name !== 'string' || !NAME.test(name)) throw new ApiKeyFileError(`${where}.name: up to 64 of A-Z a-z 0-9 . _ -`);
    if (names.has(name)) throw new ApiKeyFileError(`${where}.name: ${name} is used twice`);
    names.add(name);
    if (!ROLES.includes(role as Role)) throw new ApiKeyFileError(`${where}.role: one of ${ROLES.join(', ')}`);
    if (typeof sha256 !== 'string' || !SHA256.test(sha256)) throw new ApiKeyFileError(`${where}.sha256: 64 lowercase hex digits`);
    if (role === 'operator') {
      const gln = parseGln(party);
      if (!gln.ok) throw new ApiKeyFileError(`${where}.party: an operator acts for a party, given as its GLN (${gln.problem})`);
    } else if (party !== undefined && party !== null) {
      throw new ApiKeyFileError(`${where}.party: only operators act for a party`);
    }
    return { name, role: role as Role, party: role === 'operator' ? (party as string) : null, sha256 };
  });
}

/** A key file's text (null when there is no file) and its entries. A missing file means no keys. */
export async function readApiKeyFile(file: string): Promise<{ text: string | null; entries: ApiKeyEntry[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { text: null, entries: [] };
    throw error;
  }
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch {
    throw new ApiKeyFileError(`${file} is not JSON`);
  }
  return { text, entries: parseApiKeyFile(content) };
}

const byHash = (entries: readonly ApiKeyEntry[]): ReadonlyMap<string, Principal> =>
  new Map(entries.map(({ sha256, ...principal }) => [sha256, principal]));

/**
 * The keys in force, by hash; without keys every protected route answers 401. replace() swaps
 * the whole set at once, so a request sees either the keys before a reload or those after it.
 */
export class ApiKeyRing {
  private byHash: ReadonlyMap<string, Principal>;

  constructor(entries: readonly ApiKeyEntry[]) {
    this.byHash = byHash(entries);
  }

  replace(entries: readonly ApiKeyEntry[]): void {
    this.byHash = byHash(entries);
  }

  get size(): number {
    return this.byHash.size;
  }

  find(key: string): Principal | undefined {
    return this.byHash.get(hashApiKey(key));
  }
}

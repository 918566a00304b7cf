import { createHash } from 'node:crypto';

/**
 * SHA-256 of the concatenated parts. On the server, OpenSSL (node:crypto): the ledger hashes
 * every record, Merkle node and checkpoint with it. The browser's bundle replaces this module by
 * sha256.browser.ts (@noble/hashes), the same function in portable code (scripts/build-browser.mjs);
 * platform.spec.ts holds the two to the same digests.
 */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

import { createHash, hash as oneShot } from 'node:crypto';

/**
 * SHA-256 of the concatenated parts. On the server, OpenSSL (node:crypto): the ledger hashes
 * every record, Merkle node and checkpoint with it. The browser's bundle replaces this module by
 * sha256.browser.ts (@noble/hashes), the same function in portable code (scripts/build-browser.mjs);
 * platform.spec.ts holds the two to the same digests.
 */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  // One part (most calls, many of them small: keys, tree nodes) takes the one-shot call, a third cheaper.
  if (parts.length === 1) return digestOf(parts[0] as Uint8Array);
  let size = 0;
  for (const part of parts) size += part.length;
  // Small inputs of several parts (Merkle leaves and nodes, two of them a record) are copied
  // into one and take the one-shot call too: a hash object costs more than the copy.
  if (size <= SMALL) {
    const joined = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      joined.set(part, at);
      at += part.length;
    }
    return digestOf(joined);
  }
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

const SMALL = 256;

function digestOf(input: Uint8Array): Uint8Array {
  const digest = oneShot('sha256', input, 'buffer');
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

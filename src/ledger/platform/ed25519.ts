import { createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto';

/**
 * Ed25519 (RFC 8032) on the server: OpenSSL (node:crypto). Signing is deterministic, so the
 * signatures are the same bytes any RFC 8032 implementation makes, and OpenSSL verifies as RFC
 * 8032 says (a non-canonical S is refused). It signs about 20 times and verifies about 15 times
 * faster than @noble/curves here (docs/PERFORMANCE.md); every batch of the ledger carries a
 * checkpoint that the writer signs and every reader verifies. The browser's bundle replaces this
 * module by ed25519.browser.ts (@noble/curves); platform.spec.ts holds the two to the same bytes.
 * The DER prefixes wrap a raw 32-byte key as PKCS #8 and SPKI (RFC 8410).
 */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/** Signs with a 32-byte secret seed; the key is held by the returned object only. */
export interface Ed25519Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** Verifies signatures of one 32-byte public key; throws when the bytes are not such a key. */
export type Ed25519Verify = (signature: Uint8Array, message: Uint8Array) => boolean;

export function ed25519Signer(seed: Uint8Array): Ed25519Signer {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32));
  return { publicKey, sign: (message) => new Uint8Array(sign(null, message, key)) };
}

export function ed25519Verifier(publicKey: Uint8Array): Ed25519Verify {
  const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, publicKey]), format: 'der', type: 'spki' });
  return (signature, message) => signature.length === 64 && verify(null, message, key, signature);
}

export function randomSeed(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

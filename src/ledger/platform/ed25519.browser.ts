import { ed25519 } from '@noble/curves/ed25519.js';
import type { Ed25519Signer, Ed25519Verify } from './ed25519.js';

/**
 * Ed25519 (RFC 8032) in portable code (@noble/curves): ed25519.ts for the browser. Verification
 * is RFC 8032's, as OpenSSL's is: no ZIP-215 leniency (a non-canonical S or point is refused).
 */
export function ed25519Signer(seed: Uint8Array): Ed25519Signer {
  return { publicKey: ed25519.getPublicKey(seed), sign: (message) => ed25519.sign(message, seed) };
}

export function ed25519Verifier(publicKey: Uint8Array): Ed25519Verify {
  if (publicKey.length !== 32) throw new Error('an Ed25519 public key is 32 bytes');
  return (signature, message) => {
    if (signature.length !== 64) return false;
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  };
}

export function randomSeed(): Uint8Array {
  return ed25519.utils.randomSecretKey();
}

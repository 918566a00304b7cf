import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import * as browserEd25519 from './ed25519.browser.js';
import * as serverEd25519 from './ed25519.js';
import { sha256 as browserSha256 } from './sha256.browser.js';
import { sha256 as serverSha256 } from './sha256.js';

/**
 * The ledger core runs on node:crypto in the server and on @noble in the browser's bundle (and
 * the offline checker's portable core): the two must give the same bytes, or a bundle the
 * server signed would fail in a browser.
 */
describe('the platform modules of the server and of the browser', () => {
  it('hash the same, in one part or in many (RFC 6234 test vectors, then random inputs)', () => {
    const abc = new TextEncoder().encode('abc');
    for (const sha256 of [serverSha256, browserSha256]) {
      expect(Buffer.from(sha256(abc)).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      expect(Buffer.from(sha256()).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    }
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }), (parts) => {
        expect(browserSha256(...parts)).toEqual(serverSha256(...parts));
        expect(serverSha256(...parts)).toEqual(serverSha256(new Uint8Array(Buffer.concat(parts))));
      }),
    );
  });

  it('sign the same bytes with the same key, and each verifies what the other signed and refuses the rest', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 200 }), (seed, message) => {
        const server = serverEd25519.ed25519Signer(seed);
        const browser = browserEd25519.ed25519Signer(seed);
        expect(browser.publicKey).toEqual(server.publicKey);
        const signature = server.sign(message);
        expect(browser.sign(message)).toEqual(signature);
        for (const verify of [
          serverEd25519.ed25519Verifier(server.publicKey),
          browserEd25519.ed25519Verifier(server.publicKey),
        ]) {
          expect(verify(signature, message)).toBe(true);
          const other = Uint8Array.from(signature);
          other[63] = (other[63] ?? 0) ^ 0x01;
          expect(verify(other, message)).toBe(false);
          expect(verify(signature.slice(0, 63), message)).toBe(false);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('refuse a signature whose S is not canonical, as RFC 8032 verification does', () => {
    const seed = new Uint8Array(32).fill(9);
    const signer = serverEd25519.ed25519Signer(seed);
    const { publicKey } = signer;
    const message = new TextEncoder().encode('checkpoint');
    const signature = signer.sign(message);
    // S + L (the group order) encodes the same scalar non-canonically.
    const order = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i] ?? 0);
    const sPlusL = s + order;
    const malleated = Uint8Array.from(signature);
    for (let i = 0; i < 32; i++) malleated[32 + i] = Number((sPlusL >> BigInt(8 * i)) & 0xffn);
    expect(sPlusL < 2n ** 256n).toBe(true);
    expect(serverEd25519.ed25519Verifier(publicKey)(malleated, message)).toBe(false);
    expect(browserEd25519.ed25519Verifier(publicKey)(malleated, message)).toBe(false);
  });
});

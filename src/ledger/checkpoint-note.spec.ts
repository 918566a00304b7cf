import { describe, expect, it } from '@jest/globals';
import { createPublicKey, verify } from 'node:crypto';
import { CheckpointSigner, CheckpointVerifier, noteText } from './checkpoint-note.js';

const secret = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const signer = new CheckpointSigner('custodian/test', secret);
const checkpoint = {
  origin: 'custodian/test/0',
  treeSize: 7,
  rootHash: 'ab'.repeat(32),
  headHash: 'cd'.repeat(32),
  time: '2026-11-26T08:00:00.000Z',
};

describe('signed checkpoints', () => {
  it('writes a C2SP-style note: origin, size, base64 root, extensions, blank line, signature line', () => {
    const signed = signer.sign(checkpoint);
    const lines = signed.note.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'custodian/test/0',
      '7',
      Buffer.from('ab'.repeat(32), 'hex').toString('base64'),
      `head ${'cd'.repeat(32)}`,
      'time 2026-11-26T08:00:00.000Z',
    ]);
    expect(lines[5]).toBe('');
    expect(lines[6]).toMatch(/^\u2014 custodian\/test [A-Za-z0-9+/]{91}=$/);
  });

  it('produces a signature node:crypto verifies with the public key alone', () => {
    const signed = signer.sign(checkpoint);
    const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(signer.publicKey)]);
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    expect(verify(null, Buffer.from(noteText(checkpoint)), key, Buffer.from(signed.signature, 'base64'))).toBe(true);
  });

  it('verifies through the verifier key string and rejects every kind of forgery', () => {
    const verifier = CheckpointVerifier.fromVerifierKey(signer.verifierKey);
    const signed = signer.sign(checkpoint);
    expect(verifier.problemWith(signed)).toBeUndefined();
    expect(verifier.problemWith({ ...signed, treeSize: 8 })).toMatch(/does not state the checkpoint fields/);
    const other = new CheckpointSigner(
      'custodian/test',
      Uint8Array.from({ length: 32 }, () => 9),
    ).sign(checkpoint);
    expect(verifier.problemWith(other)).toMatch(/not by key id/);
    const flipped = Buffer.from(signed.signature, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const line = `\u2014 custodian/test ${Buffer.concat([Buffer.from(signer.keyId, 'hex'), flipped]).toString('base64')}\n`;
    const forged = { ...signed, signature: flipped.toString('base64'), note: `${noteText(checkpoint)}\n${line}` };
    expect(verifier.problemWith(forged)).toBe('the Ed25519 signature does not verify');
  });

  it('refuses a verifier key whose id does not match its key', () => {
    const [name, id] = signer.verifierKey.split('+');
    const key = signer.verifierKey.slice(`${name}+${id}+`.length);
    expect(() => CheckpointVerifier.fromVerifierKey(`${name}+00000000+${key}`)).toThrow(/does not match/);
  });
});

/**
 * An independent check of the ledger format v1 test vectors: only node:crypto (OpenSSL) and
 * the definitions in docs/ledger-format.md, no code from src/. If this and the
 * implementation's own vector test both pass, the two agree on every hash and signature.
 */
import { describe, expect, it } from '@jest/globals';
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

interface Vectors {
  recordHash: { prefixHex: string };
  key: { secretKeyHex: string; keyName: string; keyId: string; publicKeyHex: string; verifierKey: string };
  canonicalization: { input: string; canonical: string }[];
  records: { canonical: string; hash: string }[];
  merkle: {
    leaves: string[];
    rootsBySize: string[];
    inclusion: { index: number; treeSize: number; proof: string[]; root: string };
  };
  checkpoint: { note: string };
}

const vectors = JSON.parse(readFileSync(new URL('../vectors/ledger-v1.json', import.meta.url), 'utf8')) as Vectors;
const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

/** JCS for the values the vectors use: sorted members, ECMAScript JSON text. */
function jcs(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jcs).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${jcs((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const leaf = (hex: string) => sha256(Buffer.of(0), Buffer.from(hex, 'hex'));
const node = (l: Buffer, r: Buffer) => sha256(Buffer.of(1), l, r);
function mth(leaves: string[]): Buffer {
  if (leaves.length === 1) return leaf(leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return node(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

const ed25519Spki = (raw: Buffer) =>
  createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
const ed25519Pkcs8 = (seed: Buffer) =>
  createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
    format: 'der',
    type: 'pkcs8',
  });

describe('ledger v1 vectors, checked with node:crypto alone', () => {
  it('canonical texts are JCS of their inputs', () => {
    for (const { input, canonical } of vectors.canonicalization) expect(jcs(JSON.parse(input))).toBe(canonical);
    for (const { canonical } of vectors.records) expect(jcs(JSON.parse(canonical))).toBe(canonical);
  });

  it('record hashes are SHA-256 of the prefix and the canonical UTF-8 bytes', () => {
    expect(Buffer.from(vectors.recordHash.prefixHex, 'hex').toString('latin1')).toBe('custodian.ledger.record.v1\0');
    for (const { canonical, hash } of vectors.records) {
      expect(sha256(Buffer.from(vectors.recordHash.prefixHex, 'hex'), Buffer.from(canonical, 'utf8')).toString('hex')).toBe(hash);
    }
    expect(vectors.merkle.leaves).toEqual(vectors.records.map((r) => r.hash));
  });

  it('Merkle roots follow RFC 9162 and the inclusion proof checks out', () => {
    const { leaves, rootsBySize, inclusion } = vectors.merkle;
    expect(leaves.map((_, i) => mth(leaves.slice(0, i + 1)).toString('hex'))).toEqual(rootsBySize);
    // RFC 9162 section 2.1.3.2
    let fn = inclusion.index;
    let sn = inclusion.treeSize - 1;
    let r = leaf(leaves[inclusion.index]!);
    for (const p of inclusion.proof.map((h) => Buffer.from(h, 'hex'))) {
      if (fn % 2 === 1 || fn === sn) {
        r = node(p, r);
        while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn >> 1, sn >> 1];
      } else r = node(r, p);
      [fn, sn] = [fn >> 1, sn >> 1];
    }
    expect(sn).toBe(0);
    expect(r.toString('hex')).toBe(inclusion.root);
  });

  it('the key, its id and the checkpoint signature are Ed25519 as signed notes define them', () => {
    const { secretKeyHex, keyName, keyId, publicKeyHex, verifierKey } = vectors.key;
    const publicKey = createPublicKey(ed25519Pkcs8(Buffer.from(secretKeyHex, 'hex')))
      .export({ format: 'der', type: 'spki' })
      .subarray(12);
    expect(publicKey.toString('hex')).toBe(publicKeyHex);
    expect(
      sha256(Buffer.from(`${keyName}\n`), Buffer.of(1), publicKey)
        .subarray(0, 4)
        .toString('hex'),
    ).toBe(keyId);
    expect(verifierKey).toBe(`${keyName}+${keyId}+${Buffer.concat([Buffer.of(1), publicKey]).toString('base64')}`);

    const [text, signatures] = vectors.checkpoint.note.split('\n\n') as [string, string];
    const line = signatures.trim();
    expect(line.startsWith(`\u2014 ${keyName} `)).toBe(true);
    const blob = Buffer.from(line.slice(`\u2014 ${keyName} `.length), 'base64');
    expect(blob.subarray(0, 4).toString('hex')).toBe(keyId);
    const message = Buffer.from(`${text}\n`, 'utf8');
    expect(verify(null, message, ed25519Spki(publicKey), blob.subarray(4))).toBe(true);
    // Ed25519 is deterministic: OpenSSL signing with the test key gives the same signature.
    expect(sign(null, message, ed25519Pkcs8(Buffer.from(secretKeyHex, 'hex'))).equals(blob.subarray(4))).toBe(true);
    // The note's tree size and root are those of the records before the checkpoint.
    const [, size, root] = text.split('\n');
    expect(Buffer.from(root!, 'base64').toString('hex')).toBe(vectors.merkle.rootsBySize[Number(size) - 1]);
  });
});

interface AttestationVectors {
  signedMessagePrefixHex: string;
  keys: { ledgerKey: string; attestationKey: string; attestationSecretKeyHex: string; attestationPublicKeyHex: string };
  genesisHash: string;
  bundle: {
    attestation: {
      attestation: { subject: string; steps: number; checkpoint: { treeSize: number; rootHash: string; note: string } };
      signature: { value: string };
    };
    genesis: { record: string; inclusionProof: string[] };
    records: { record: string; inclusionProof: string[] }[];
  };
}

const attestationVectors = JSON.parse(
  readFileSync(new URL('../vectors/attestation-v1.json', import.meta.url), 'utf8'),
) as AttestationVectors;

/** RFC 9162 section 2.1.3.2, written again here on purpose. */
function rootFromProof(recordHash: string, index: number, treeSize: number, proof: string[]): string {
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf(recordHash);
  for (const p of proof.map((h) => Buffer.from(h, 'hex'))) {
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn >> 1, sn >> 1];
    } else r = node(r, p);
    [fn, sn] = [fn >> 1, sn >> 1];
  }
  return sn === 0 ? r.toString('hex') : 'proof too long';
}

describe('attestation v1 vectors, checked with node:crypto alone', () => {
  const { bundle, keys } = attestationVectors;
  const { attestation, signature } = bundle.attestation;

  it('the attestation signature is Ed25519 over the prefix and the JCS text of the attestation', () => {
    expect(Buffer.from(attestationVectors.signedMessagePrefixHex, 'hex').toString('latin1')).toBe('custodian.attestation.v1\0');
    const message = Buffer.concat([
      Buffer.from(attestationVectors.signedMessagePrefixHex, 'hex'),
      Buffer.from(jcs(attestation), 'utf8'),
    ]);
    const publicKey = Buffer.from(keys.attestationPublicKeyHex, 'hex');
    expect(keys.attestationKey.endsWith(Buffer.concat([Buffer.of(1), publicKey]).toString('base64'))).toBe(true);
    expect(verify(null, message, ed25519Spki(publicKey), Buffer.from(signature.value, 'base64'))).toBe(true);
    expect(sign(null, message, ed25519Pkcs8(Buffer.from(keys.attestationSecretKeyHex, 'hex'))).toString('base64')).toBe(
      signature.value,
    );
  });

  it('every record of the bundle hashes into the checkpoint root through its proof, and the product chain links up', () => {
    const prefix = Buffer.from(vectors.recordHash.prefixHex, 'hex');
    const { treeSize, rootHash } = attestation.checkpoint;
    let previous: string | null = null;
    for (const item of [bundle.genesis, ...bundle.records]) {
      expect(jcs(JSON.parse(item.record))).toBe(item.record);
      const hash = sha256(prefix, Buffer.from(item.record, 'utf8')).toString('hex');
      const record = JSON.parse(item.record) as { sequence: number; entities: { id: string; previousHash: string | null }[] };
      expect(rootFromProof(hash, record.sequence, treeSize, item.inclusionProof)).toBe(rootHash);
      if (item === bundle.genesis) {
        expect(hash).toBe(attestationVectors.genesisHash);
        continue;
      }
      expect(record.entities.find((entity) => entity.id === attestation.subject)?.previousHash).toBe(previous);
      previous = hash;
    }
    expect(bundle.records).toHaveLength(attestation.steps);
  });
});

import { bytesToHex } from '@noble/hashes/utils.js';
import type { CheckpointSigner } from '../../src/ledger/checkpoint-note.js';

/** A verifier key (ledger format §6) and what it names, or null when a verifier refuses it. */
export interface VerifierKeyVector {
  readonly why: string;
  readonly verifierKey: string;
  readonly reads: { readonly keyName: string; readonly keyId: string; readonly publicKeyHex: string } | null;
}

/** The published test key's verifier key, read, and spellings of it that a verifier refuses. */
export function buildVerifierKeyVectors(signer: CheckpointSigner): VerifierKeyVector[] {
  const { keyName, keyId } = signer;
  const typed = (type: number) => Buffer.concat([Buffer.of(type), signer.publicKey]).toString('base64');
  const key = typed(0x01);
  if (!key.includes('+')) throw new Error("the test key's base64 was expected to hold a '+'");
  const [first, ...rest] = keyName.split('/');
  return [
    {
      why: "the published test key; its base64 holds '+': only the first two '+' separate the parts",
      verifierKey: signer.verifierKey,
      reads: { keyName, keyId, publicKeyHex: bytesToHex(signer.publicKey) },
    },
    {
      why: "a '+' in the name: the name is read as the text before the first '+', so the key id and key are wrong",
      verifierKey: `${first ?? ''}+${rest.join('/')}+${keyId}+${key}`,
      reads: null,
    },
    { why: 'an empty key name', verifierKey: `+${keyId}+${key}`, reads: null },
    { why: 'a key id that is not the key’s', verifierKey: `${keyName}+${keyId.slice(0, -1)}0+${key}`, reads: null },
    { why: 'the key id in uppercase hex', verifierKey: `${keyName}+${keyId.toUpperCase()}+${key}`, reads: null },
    {
      why: 'the key in the URL-safe base64 alphabet (RFC 4648 §5)',
      verifierKey: `${keyName}+${keyId}+${key.replace(/\+/g, '-').replace(/\//g, '_')}`,
      reads: null,
    },
    { why: 'a key type byte other than 0x01 (Ed25519)', verifierKey: `${keyName}+${keyId}+${typed(0x02)}`, reads: null },
    {
      why: 'the 32 key bytes without their type byte',
      verifierKey: `${keyName}+${keyId}+${Buffer.from(signer.publicKey).toString('base64')}`,
      reads: null,
    },
  ];
}

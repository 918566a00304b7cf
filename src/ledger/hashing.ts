import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { sha256 } from './platform/sha256.js';

/**
 * Domain separation (docs/ledger-format.md, "Record hash"): a record hash can never be
 * confused with a Merkle leaf or node hash (those start with 0x00 / 0x01), nor with a hash
 * of the same bytes made for another purpose.
 */
export const RECORD_HASH_PREFIX = utf8ToBytes('custodian.ledger.record.v1\0');

export type Hash = string; // 64 lowercase hexadecimal digits

export const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** SHA-256 over the domain-separation prefix and the record's canonical bytes. */
export function recordHash(canonical: Uint8Array): Hash {
  return bytesToHex(sha256(RECORD_HASH_PREFIX, canonical));
}

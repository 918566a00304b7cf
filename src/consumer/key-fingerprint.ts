import { bytesToHex } from '@noble/hashes/utils.js';
import { CheckpointVerifier } from '../ledger/checkpoint-note.js';
import { sha256 } from '../ledger/platform/sha256.js';

/**
 * The fingerprint the consumer page shows of the ledger key: SHA-256 of its 32 bytes, in hex
 * groups of four, so a reader can hold it against one published elsewhere. Anyone can compute it
 * from `GET /ledger/public-key`: `jq -r .publicKey | base64 -d | sha256sum` (docs/consumer-page.md).
 * The server renders it and the browser's check recomputes it from the key it checks with.
 */
export function keyFingerprint(verifierKey: string): string {
  const hex = bytesToHex(sha256(CheckpointVerifier.fromVerifierKey(verifierKey).publicKey));
  return hex.replace(/(.{4})(?!$)/g, '$1 ');
}

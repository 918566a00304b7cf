import { utf8ToBytes } from '@noble/hashes/utils.js';
import { sha256 } from './platform/sha256.js';

/**
 * Which ledger partition an entity's records go to (docs/ledger-format.md, "Partitions"):
 * the first four bytes of SHA-256 of the entity id, read as a big-endian unsigned integer,
 * modulo the partition count. Independent of Kafka's own partitioner, so a verifier can
 * recompute it.
 */
export function partitionOf(entityId: string, partitions: number): number {
  if (partitions === 1) return 0;
  const digest = sha256(utf8ToBytes(entityId));
  const value = (((digest[0] ?? 0) << 24) | ((digest[1] ?? 0) << 16) | ((digest[2] ?? 0) << 8) | (digest[3] ?? 0)) >>> 0;
  return value % partitions;
}

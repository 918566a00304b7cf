import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { Hash } from './hashing.js';

/** Every record hash of a partition by sequence, 32 bytes each (a million take 32 MB). */
export class HashList {
  private buffer = new Uint8Array(32 * 1024);
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(hash: Hash): void {
    if ((this.count + 1) * 32 > this.buffer.length) {
      const grown = new Uint8Array(this.buffer.length * 2);
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer.set(hexToBytes(hash), this.count * 32);
    this.count += 1;
  }

  at(index: number): Hash | undefined {
    if (index < 0 || index >= this.count) return undefined;
    return bytesToHex(this.buffer.subarray(index * 32, index * 32 + 32));
  }
}

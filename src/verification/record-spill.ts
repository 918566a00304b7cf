import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';

/**
 * The bytes of a partition's verified records, by sequence from 0, in a file of the verifier's
 * own (a million records of 600 bytes take 600 MB, too much for memory). It is a cache, not a
 * source of truth: whoever reads a record back hashes it again and compares the hash with the
 * one verified from Kafka before using it.
 */
export class RecordSpill {
  private readonly fd: number;
  /** ends[s]: the file position just after record s. */
  private ends = new Float64Array(1024);
  private count = 0;
  private size = 0;

  constructor(private readonly file: string) {
    this.fd = openSync(file, 'w+', 0o600);
  }

  get length(): number {
    return this.count;
  }

  /** Appends the next records (sequences `length`, `length + 1`, …) in one write. */
  append(records: readonly Uint8Array[]): void {
    if (records.length === 0) return;
    const needed = this.count + records.length;
    if (needed > this.ends.length) {
      let capacity = this.ends.length * 2;
      while (capacity < needed) capacity *= 2;
      const ends = new Float64Array(capacity);
      ends.set(this.ends);
      this.ends = ends;
    }
    const chunk = Buffer.concat(records);
    writeSync(this.fd, chunk, 0, chunk.length, this.size);
    for (const record of records) {
      this.size += record.length;
      this.ends[this.count++] = this.size;
    }
  }

  read(sequence: number): Uint8Array {
    if (!Number.isInteger(sequence) || sequence < 0 || sequence >= this.count) {
      throw new RangeError(`no record ${sequence} among the ${this.count} spilled`);
    }
    const start = sequence === 0 ? 0 : (this.ends[sequence - 1] ?? 0);
    const bytes = Buffer.alloc((this.ends[sequence] ?? 0) - start);
    readSync(this.fd, bytes, 0, bytes.length, start);
    return bytes;
  }

  /** Closes and deletes the file. */
  close(): void {
    closeSync(this.fd);
    rmSync(this.file, { force: true });
  }
}

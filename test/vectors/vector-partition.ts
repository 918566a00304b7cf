/**
 * How the negative vectors write a partition down: transactions of values laid out at Kafka
 * offsets, each value as text or base64, and the finding expected of it.
 */
import type { BreakKind } from '../../src/ledger/chain-verifier.js';
import type { Hash } from '../../src/ledger/hashing.js';

/** Record values, one list per Kafka transaction. */
export type Transactions = readonly (readonly Uint8Array[])[];

/** A Kafka record of a vector: its value as UTF-8 text, or in base64 where it is not valid UTF-8. */
export type VectorEntry =
  { readonly offset: string; readonly value: string } | { readonly offset: string; readonly valueBase64: string };

/** The first finding of ledger format §7: what an implementation must report, and where. */
export interface ExpectedFinding {
  readonly kind: BreakKind;
  readonly offset: string;
  readonly sequence: number | null;
  readonly entityId?: string;
}

/** A partition changed on purpose, and the first finding §7 names for it (null: it verifies). */
export interface TamperedPartition {
  readonly name: string;
  readonly change: string;
  readonly transactions: Transactions;
  /** The honest genesis hash unless given; null: no pin. */
  readonly genesisPin?: Hash | null;
  /** `at`: the value the finding is at, or an offset where there is no value to name. */
  readonly expected: {
    readonly kind: BreakKind;
    readonly at: Uint8Array | string;
    readonly sequence: number | null;
    readonly entityId?: string;
  } | null;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The values as a read_committed reader gets them: each transaction at consecutive offsets, then
 * one offset left out for its commit marker, as Kafka writes one after every transaction.
 */
export function partitionEntries(transactions: Transactions): {
  entries: VectorEntry[];
  offsetOf: (value: Uint8Array) => string;
} {
  const laid: { offset: string; value: Uint8Array }[] = [];
  let offset = 0;
  for (const transaction of transactions) {
    for (const value of transaction) laid.push({ offset: String(offset++), value });
    offset += 1;
  }
  const entries = laid.map(({ offset, value }): VectorEntry => {
    try {
      return { offset, value: strictUtf8.decode(value) };
    } catch {
      return { offset, valueBase64: Buffer.from(value).toString('base64') };
    }
  });
  const offsetOf = (value: Uint8Array) => {
    const entry = laid.find((item) => item.value === value);
    if (!entry) throw new Error('the expected finding names a value the partition does not hold');
    return entry.offset;
  };
  return { entries, offsetOf };
}

/** The expected finding of a tampered partition, with the offset of the value it names. */
export function expectedFinding(
  expected: TamperedPartition['expected'],
  offsetOf: (value: Uint8Array) => string,
): ExpectedFinding | null {
  if (!expected) return null;
  const { kind, at, sequence, entityId } = expected;
  return { kind, offset: typeof at === 'string' ? at : offsetOf(at), sequence, ...(entityId === undefined ? {} : { entityId }) };
}

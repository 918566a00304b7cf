/**
 * A thread of the full audit's decoding pool (record-decode-pool.ts): step 1 of
 * docs/ledger-format.md §7 (the strict parse, the canonical check and the record hash) for each
 * value it is sent, answered in the order sent. The chain itself is verified on the audit's
 * thread, record by record, from what this answers.
 */
import { parentPort } from 'node:worker_threads';
import { decodeOutcome, type DecodeOutcome } from '../chain-verifier.js';
import type { DecodeReply, DecodeRequest } from './record-decode-pool.js';

const port = parentPort;
if (!port) throw new Error('record-decode-worker runs as a worker thread of RecordDecodePool');

port.on('message', ({ id, bytes, ends }: DecodeRequest) => {
  const outcomes: DecodeOutcome[] = [];
  let start = 0;
  for (const end of ends) {
    outcomes.push(decodeOutcome(bytes.subarray(start, end)));
    start = end;
  }
  port.postMessage({ id, outcomes } satisfies DecodeReply);
});

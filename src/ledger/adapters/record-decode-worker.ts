/**
 * A thread of a record decoding pool (record-decode-pool.ts): step 1 of docs/ledger-format.md
 * §7 (the strict parse, the canonical check and the record hash) for each value it is sent,
 * answered in the order sent. The chain itself is verified on the thread that sent them (the
 * full audit's, the projector's, the ledger follower's), record by record, from what this answers.
 */
import { parentPort } from 'node:worker_threads';
import { decodeOutcome, type DecodeOutcome } from '../arrival-checks.js';
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

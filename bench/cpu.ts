/**
 * The hashing baselines, and where a writer's and a verifier's CPU time goes without any I/O:
 * records written to memory by the real writer (PartitionWriter, group commit of 500), then
 * decoded and verified record by record (ChainVerifier), against raw SHA-256 of the same bytes
 * with @noble/hashes and with node:crypto (OpenSSL).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { createHash } from 'node:crypto';
import { ChainVerifier } from '../src/ledger/chain-verifier.js';
import { CheckpointSigner, CheckpointVerifier } from '../src/ledger/checkpoint-note.js';
import type { AppendRequest } from '../src/ledger/ledger-record.js';
import { decodeRecord } from '../src/ledger/record-codec.js';
import { sequentialIds, startMemoryWriter } from '../test/support/memory-ledger.js';
import { type Benchmark, measure, type Measure, ratio, rateWithSpread, repeat } from './support/suite.js';

/** A custody step of typical size: a handover with a location and an evidence document. */
export function typicalStep(): Pick<AppendRequest, 'eventType' | 'payload'> {
  return {
    eventType: 'custody.handover',
    payload: {
      from: '4012345000009',
      to: '4012345000016',
      location: '4012345000023',
      evidence: { documentHash: 'a'.repeat(64), url: 'https://example.com/delivery-note/4711.pdf' },
    },
  };
}

/** Records per second that `work` handles, `n` at a time, in each of `runs` runs. */
export function ratesOf(work: () => void, n: number, runs: number): number[] {
  return Array.from({ length: runs }, () => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) work();
    return n / ((performance.now() - t0) / 1000);
  });
}

/** The hashing baselines: raw SHA-256 of @noble/hashes and of node:crypto on inputs of `bytes`. */
export function sha256Rates(bytes: number, runs: number): { noble: number[]; openssl: number[] } {
  const input = new Uint8Array(bytes).fill(97);
  return {
    noble: ratesOf(() => sha256(input), 100_000, runs),
    openssl: ratesOf(() => createHash('sha256').update(input).digest(), 100_000, runs),
  };
}

export const cpu: Benchmark = {
  id: 'cpu',
  title: 'Hashing baselines and CPU cost per record',
  async run({ quick, progress }) {
    const count = quick ? 5_000 : 20_000;
    const runs = quick ? 2 : 5;
    const signer = new CheckpointSigner('custodian/cpu', new Uint8Array(32).fill(5));
    const ids = sequentialIds(8);
    let values: { offset: string; value: Uint8Array }[] = [];
    const writes = await repeat(runs, async () => {
      const { writer, log } = await startMemoryWriter('cpu', signer, { maxBatch: 500 });
      const t0 = performance.now();
      for (let i = 0; i < count; i += 500) {
        await Promise.all(
          Array.from({ length: 500 }, (_, k) => {
            const entity = `/01/09506000134352/21/B${i + k}`;
            return writer.append({
              eventId: ids(),
              entityIds: [entity],
              occurredAt: '2026-11-26T07:00:00Z',
              actor: 'acme-dock-1',
              ...typicalStep(),
            });
          }),
        );
      }
      values = log.values();
      return values.length / ((performance.now() - t0) / 1000);
    });
    progress(`wrote ${values.length} records to memory ${runs} times`);
    const meanBytes = Math.round(values.reduce((sum, { value }) => sum + value.length, 0) / values.length);
    const hashes = sha256Rates(meanBytes, runs);
    const noble = measure(hashes.noble);
    const openssl = measure(hashes.openssl);
    let i = 0;
    const decode = measure(ratesOf(() => decodeRecord(values[i++ % values.length]!.value), values.length, runs));
    const verify = measure(
      await repeat(runs, () => {
        const verifier = new ChainVerifier({
          ledgerId: 'cpu',
          partition: 0,
          verifier: new CheckpointVerifier(signer.keyName, signer.publicKey),
        });
        const t0 = performance.now();
        for (const { offset, value } of values) {
          const result = verifier.push(offset, value);
          if ('break' in result) throw new Error(result.break.message);
        }
        return Promise.resolve(values.length / ((performance.now() - t0) / 1000));
      }),
    );
    progress(`noble ${Math.round(noble.median)}/s, verify ${Math.round(verify.median)}/s`);
    const write = measure(writes);
    const row = (what: string, m: Measure) => [what, rateWithSpread(m), ratio(m.median / noble.median)];
    return {
      about:
        'Raw SHA-256 of `@noble/hashes` (what the ledger core uses) and of `node:crypto` on inputs of the mean record size ' +
        'are the baselines for everything that hashes. Against them, the ledger core without I/O: the real writer appending ' +
        'to an in-memory log (validation, canonical JSON, record hash, Merkle tree, an Ed25519 checkpoint per 500), decoding ' +
        '(strict parse, canonical check, hash), and `ChainVerifier.push` (decode plus chain, entity links, Merkle tree and ' +
        'checkpoint signatures): the verifier of the audit, the projector and writer recovery.',
      setting: `${values.length} records of ${meanBytes} bytes on average; median of ${runs} runs`,
      tables: [
        {
          head: ['what', 'records/s (spread)', 'ratio to @noble SHA-256'],
          align: ['l', 'r', 'r'],
          rows: [
            row(`raw SHA-256, @noble/hashes, ${meanBytes}-byte inputs`, noble),
            row(`raw SHA-256, node:crypto (OpenSSL), ${meanBytes}-byte inputs`, openssl),
            row('PartitionWriter.append, 500 at a time, memory log', write),
            row('decodeRecord (parse, canonical check, hash)', decode),
            row('ChainVerifier.push (decode, links, Merkle tree, checkpoints)', verify),
          ],
        },
      ],
      figures: {
        recordBytes: meanBytes,
        nobleSha256PerSecond: noble.median,
        nodeSha256PerSecond: openssl.median,
        memoryWriterPerSecond: write.median,
        decodePerSecond: decode.median,
        verifyPerSecond: verify.median,
      },
    };
  },
};

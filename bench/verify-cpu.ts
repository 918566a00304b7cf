/**
 * Where a verifier's time goes, without Kafka: a partition written to memory by the real
 * writer, then verified record by record (ChainVerifier), against raw SHA-256 of the same bytes.
 *
 *   node dist/bench/verify-cpu.js [records]
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ChainVerifier } from '../src/ledger/chain-verifier.js';
import { CheckpointSigner, CheckpointVerifier } from '../src/ledger/checkpoint-note.js';
import { decodeRecord } from '../src/ledger/record-codec.js';
import { sequentialIds, startMemoryWriter } from '../test/support/memory-ledger.js';

const count = Number(process.argv[2] ?? '20000');
const signer = new CheckpointSigner('custodian/cpu', new Uint8Array(32).fill(5));
const { writer, log } = await startMemoryWriter('cpu', signer, { maxBatch: 500 });
const ids = sequentialIds(8);
const writeStart = performance.now();
for (let i = 0; i < count; i += 500) {
  await Promise.all(
    Array.from({ length: 500 }, (_, k) =>
      writer.append({
        eventId: ids(),
        eventType: 'custody.inspect',
        entityIds: [`/01/09506000134352/21/B${i + k}`],
        occurredAt: '2026-11-26T07:00:00Z',
        actor: 'bench',
        payload: { party: '4012345000009', location: '4012345000016', note: 'bench record with a payload of typical size' },
      }),
    ),
  );
}
const values = log.values();
process.stdout.write(
  `PartitionWriter.append, 500 at a time, memory log: ${Math.round(values.length / ((performance.now() - writeStart) / 1000))} records/s\n`,
);
const time = (what: string, work: () => void) => {
  const t0 = performance.now();
  work();
  const s = (performance.now() - t0) / 1000;
  process.stdout.write(`${what}: ${Math.round(values.length / s)} records/s\n`);
};
time('sha256 (noble) of each value', () => {
  for (const { value } of values) sha256(value);
});
time('decodeRecord (parse, check, canonicalize, hash)', () => {
  for (const { value } of values) decodeRecord(value);
});
time('ChainVerifier.push', () => {
  const verifier = new ChainVerifier({
    ledgerId: 'cpu',
    partition: 0,
    verifier: new CheckpointVerifier(signer.keyName, signer.publicKey),
  });
  for (const { offset, value } of values) {
    const result = verifier.push(offset, value);
    if ('break' in result) throw new Error(result.break.message);
  }
});

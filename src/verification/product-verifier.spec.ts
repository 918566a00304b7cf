import { describe, expect, it } from '@jest/globals';
import { startMemoryWriter } from '../../test/support/memory-ledger.js';
import { CheckpointSigner, CheckpointVerifier } from '../ledger/checkpoint-note.js';
import type { StoredEntry } from '../ledger/ports.js';
import { ProductVerifier, UnknownSubjectError, VerifierBusyError } from './product-verifier.js';

const signer = new CheckpointSigner('custodian/unit', new Uint8Array(32).fill(21));

describe('rationing attestations', () => {
  it('runs at most maxConcurrent at once, queues up to maxWaiting, refuses the rest, and hands each place on', async () => {
    const { writer, log } = await startMemoryWriter('unit', signer);
    await writer.append({
      eventId: '00000000-0000-4000-8000-000000000001',
      eventType: 'custody.inspect',
      entityIds: ['a'],
      occurredAt: '2026-11-26T07:00:00Z',
      actor: 'op',
      payload: {},
    });
    const entries = log.values();
    let open = 0;
    let most = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const verifier = new ProductVerifier({
      source: {
        ledgerId: 'unit',
        partitions: 1,
        ledgerKey: new CheckpointVerifier(signer.keyName, signer.publicKey),
        genesisPin: () => Promise.resolve(null),
        read: async function* (): AsyncGenerator<StoredEntry> {
          open += 1;
          most = Math.max(most, open);
          await gate;
          yield* entries;
          open -= 1;
        },
      },
      signer: new CheckpointSigner('custodian-verifier/unit', new Uint8Array(32).fill(22)),
      witness: null,
      readModel: null,
      clock: { now: () => new Date('2026-11-26T12:00:00Z') },
      readModelWaitMs: 0,
      maxConcurrent: 1,
      maxWaiting: 2,
    });
    const first = verifier.verify('a', { evidence: false });
    const second = verifier.verify('a', { evidence: false });
    const third = verifier.verify('b', { evidence: false });
    await expect(verifier.verify('a', { evidence: false })).rejects.toThrow(VerifierBusyError);
    release();
    expect((await first).attestation.attestation.verdict).toBe('verified');
    expect((await second).attestation.attestation.steps).toBe(1);
    await expect(third).rejects.toThrow(UnknownSubjectError);
    expect(most).toBe(1);
    // All places are free again.
    expect((await verifier.verify('a', { evidence: false })).attestation.attestation.verdict).toBe('verified');
  });
});

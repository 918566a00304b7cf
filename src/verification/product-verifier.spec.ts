import { describe, expect, it } from '@jest/globals';
import { startMemoryWriter } from '../../test/support/memory-ledger.js';
import { CheckpointSigner, CheckpointVerifier } from '../ledger/checkpoint-note.js';
import type { StoredEntry } from '../ledger/ports.js';
import { ProductVerifier, UnknownSubjectError, VerifierBusyError } from './product-verifier.js';
import { expectedProductRows, type ReadModelSource } from './read-model-check.js';
import { decodeRecord } from '../ledger/record-codec.js';

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

/** A memory ledger with three inspections of product `a`: sequences genesis 0, checkpoint 1, then 2-3, 4-5, 6-7. */
async function productOfThreeSteps() {
  const { writer, log } = await startMemoryWriter('unit', signer);
  for (let n = 1; n <= 3; n++) {
    await writer.append({
      eventId: `00000000-0000-4000-8000-00000000000${n}`,
      eventType: 'custody.inspected',
      entityIds: ['a'],
      occurredAt: '2026-11-26T07:00:00Z',
      actor: 'op',
      payload: { party: 'x', location: 'y', result: 'passed' },
    });
  }
  return log;
}

describe('holding the read model against a product that keeps changing', () => {
  it('reads the ledger and the read model again while the product has a step past the snapshot, then says the read model is behind', async () => {
    const log = await productOfThreeSteps();
    // Sequences: genesis 0, checkpoint 1, then each step and its checkpoint: 2-3, 4-5, 6-7.
    const entries = log.values();
    let reads = 0;
    let snapshots = 0;
    const verifier = new ProductVerifier({
      source: {
        ledgerId: 'unit',
        partitions: 1,
        ledgerKey: new CheckpointVerifier(signer.keyName, signer.publicKey),
        genesisPin: () => Promise.resolve(null),
        // Every other read ends after the first step: the ledger read before the snapshot.
        read: () => ((reads += 1) % 2 === 1 ? entries.slice(0, 4) : entries),
      },
      signer: new CheckpointSigner('custodian-verifier/unit', new Uint8Array(32).fill(22)),
      witness: null,
      // A projector already at sequence 5 whenever it is read, which holds the first two steps
      // as the ledger says; the third step (sequence 6) is always newer than its snapshot.
      readModel: {
        projectedTo: () => Promise.resolve(5),
        productSnapshot: () => {
          snapshots += 1;
          const history = entries.slice(0, 5).flatMap((entry) => {
            const { record, hash } = decodeRecord(entry.value);
            return record.entities.some((entity) => entity.id === 'a')
              ? [{ partition: 0, offset: entry.offset, record, hash }]
              : [];
          });
          return Promise.resolve({ position: 5, rows: expectedProductRows('a', history) });
        },
      } as unknown as ReadModelSource,
      clock: { now: () => new Date('2026-11-26T12:00:00Z') },
      readModelWaitMs: 0,
    });
    const { attestation } = await verifier.verify('a', { evidence: false });
    expect(snapshots).toBe(3);
    expect(attestation.attestation.verdict).toBe('incomplete');
    expect(attestation.attestation.findings).toEqual([expect.objectContaining({ kind: 'read-model-behind', sequence: 6 })]);
    expect(attestation.attestation.steps).toBe(3);
  });

  it("reads the rows once when the projector is at the ledger's end, and else waits for it and reads them again", async () => {
    const log = await productOfThreeSteps();
    const entries = log.values();
    const history = entries.flatMap((entry) => {
      const { record, hash } = decodeRecord(entry.value);
      return record.entities.some((entity) => entity.id === 'a') ? [{ partition: 0, offset: entry.offset, record, hash }] : [];
    });
    const calls: string[] = [];
    // The projector's position: `at` to begin with, at the ledger's end (8) once polled twice.
    const verifierAt = (at: number) => {
      let position = at;
      let polls = 0;
      return new ProductVerifier({
        source: {
          ledgerId: 'unit',
          partitions: 1,
          ledgerKey: new CheckpointVerifier(signer.keyName, signer.publicKey),
          genesisPin: () => Promise.resolve(null),
          read: () => entries,
        },
        signer: new CheckpointSigner('custodian-verifier/unit', new Uint8Array(32).fill(22)),
        witness: null,
        readModel: {
          projectedTo: () => {
            calls.push('projectedTo');
            if ((polls += 1) >= 2) position = entries.length;
            return Promise.resolve(position);
          },
          productSnapshot: () => {
            calls.push(`rows at ${position}`);
            const before = history.filter((stored) => stored.record.sequence < position);
            return Promise.resolve({ position, rows: expectedProductRows('a', before) });
          },
        } as unknown as ReadModelSource,
        clock: { now: () => new Date('2026-11-26T12:00:00Z') },
        readModelWaitMs: 5_000,
      });
    };
    const atRest = await verifierAt(entries.length).verify('a', { evidence: false });
    expect(atRest.attestation.attestation.verdict).toBe('verified');
    expect(calls).toEqual(['rows at 8']);
    expect(atRest.phases.entries().map(([phase]) => phase)).not.toContain('projected');

    calls.length = 0;
    const behind = await verifierAt(3).verify('a', { evidence: false });
    expect(behind.attestation.attestation.verdict).toBe('verified');
    expect(behind.attestation.attestation.steps).toBe(3);
    expect(calls).toEqual(['rows at 3', 'projectedTo', 'projectedTo', 'rows at 8']);
    expect(behind.phases.entries().map(([phase]) => phase)).toContain('projected');
  });
});

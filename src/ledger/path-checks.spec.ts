import { describe, expect, it } from '@jest/globals';
import type { Finding } from './chain-break.js';
import type { WaitingRecord } from './arrival-checks.js';
import { walkBack } from './chain-walk.js';
import type { LedgerRecord } from './ledger-record.js';
import { firstByOffset, strayFindings } from './path-checks.js';

const hash = (n: number) => n.toString(16).padStart(64, '0');

/** A waiting record at `offset` with sequence `sequence` and hash `hash(sequence)`, linking to `previous`. */
function waiting(offset: number, sequence: number, previous: number | null, eventType = 'custody.handover'): WaitingRecord {
  const record = { sequence, eventType, previousHash: previous === null ? null : hash(previous) } as LedgerRecord;
  return { offset: String(offset), record, hash: hash(sequence) };
}

const finding = (kind: Finding['kind'], offset: string): Finding => ({ kind, offset, sequence: 1, message: kind });

describe('firstByOffset', () => {
  it('reports the finding at the lowest offset, comparing offsets as numbers', () => {
    expect(firstByOffset([finding('sequence', '10'), finding('injected', '9'), finding('missing', '100')])).toEqual(
      finding('injected', '9'),
    );
  });

  it('reports, of several at one offset, the first noted', () => {
    expect(firstByOffset([finding('out-of-order', '7'), finding('sequence', '7'), finding('genesis', '8')])?.kind).toBe(
      'out-of-order',
    );
    expect(firstByOffset([])).toBeUndefined();
  });
});

describe('walking back from a checkpoint', () => {
  it('finds the path from the tip to the checkpoint, oldest first, whatever the offsets', () => {
    const [a, b, checkpoint] = [waiting(12, 5, 4), waiting(11, 6, 5), waiting(13, 7, 6, 'ledger.checkpoint')];
    const byHash = new Map([a, b, checkpoint].map((entry) => [entry.hash, entry]));
    const walk = walkBack(checkpoint, { nextSequence: 5, headHash: hash(4) }, byHash);
    expect('path' in walk && walk.path).toEqual([a, b, checkpoint]);
  });

  it('stops at the link that finds no waiting record', () => {
    const [b, checkpoint] = [waiting(11, 6, 5), waiting(13, 7, 6, 'ledger.checkpoint')];
    const byHash = new Map([b, checkpoint].map((entry) => [entry.hash, entry]));
    const walk = walkBack(checkpoint, { nextSequence: 5, headHash: hash(4) }, byHash);
    expect('brokenAt' in walk && walk.brokenAt).toBe(b);
  });
});

describe('records off the path', () => {
  it('are out of order when they follow the checkpoint, else injected', () => {
    const checkpoint = waiting(20, 7, 6, 'ledger.checkpoint');
    const onPath = waiting(19, 6, 5);
    const [after, later, forged] = [waiting(18, 8, 7), waiting(17, 9, 8), waiting(16, 6, 5)];
    const found = strayFindings([forged, later, after, onPath, checkpoint], new Set([onPath, checkpoint]), checkpoint);
    expect(found.map(({ kind, offset }) => `${kind}@${offset}`)).toEqual(['injected@16', 'out-of-order@17', 'out-of-order@18']);
  });
});

import { describe, expect, it } from '@jest/globals';
import { commission, handover, holderModel, NotTheHolder } from '../../test/support/holder-model.js';
import { sequentialIds } from '../../test/support/memory-ledger.js';
import type { Placement, WaitingGroup } from './append-queue.js';
import { BatchDraft, type GroupOutcome } from './batch-draft.js';
import type { ChainHead } from './chain-verifier.js';
import { ChainDraft, type RecordFields } from './chain-draft.js';
import { CheckpointSigner } from './checkpoint-note.js';
import { IdempotencyIndex } from './idempotency-index.js';
import { AppendRejectedError, EventIdConflictError, EventInFlightError } from './ledger-errors.js';
import type { AppendReceipt, AppendRequest } from './ledger-record.js';
import { MerkleTree } from './merkle-tree.js';

const ids = sequentialIds(3);
const RECORDED_AT = '2026-11-26T10:00:00.000Z';

function emptyHead(): ChainHead {
  return {
    nextSequence: 0,
    headHash: null,
    genesisHash: null,
    tree: MerkleTree.empty(),
    entityHeads: new Map(),
    lastCheckpoint: null,
    nextOffset: null,
  };
}

function fields(n: number): RecordFields {
  return { eventId: ids(), eventType: 'custody.handover', occurredAt: '2026-11-26T09:00:00Z', actor: 'dock-1', payload: { n } };
}

describe('ChainDraft', () => {
  it('links each record to the one before it and to its entities’ previous records', () => {
    const draft = new ChainDraft(emptyHead(), 'unit', 0, RECORDED_AT);
    const a = draft.add(fields(1), ['p-1']);
    const b = draft.add(fields(2), ['p-2']);
    const c = draft.add(fields(3), ['p-1', 'p-2']);
    expect(c.record).toMatchObject({
      sequence: 2,
      previousHash: b.hash,
      recordedAt: RECORDED_AT,
      entities: [
        { id: 'p-1', previousHash: a.hash },
        { id: 'p-2', previousHash: b.hash },
      ],
    });
  });

  it('drafts, once a mark is undone, exactly what it would have drafted without the records since', () => {
    const [first, undone1, undone2, next] = [fields(1), fields(2), fields(3), fields(4)];
    const undoneDraft = new ChainDraft(emptyHead(), 'unit', 0, RECORDED_AT);
    undoneDraft.add(first, ['p-1']);
    const bytesBefore = undoneDraft.bytes;
    const undo = undoneDraft.mark();
    undoneDraft.add(undone1, ['p-1']);
    undoneDraft.add(undone2, ['p-2', 'p-1']);
    undo();
    expect(undoneDraft.bytes).toBe(bytesBefore);
    expect(undoneDraft.built).toHaveLength(1);
    const after = undoneDraft.add(next, ['p-2', 'p-1']);

    const straight = new ChainDraft(emptyHead(), 'unit', 0, RECORDED_AT);
    straight.add(first, ['p-1']);
    const expected = straight.add(next, ['p-2', 'p-1']);
    expect(after.hash).toBe(expected.hash);
    expect(undoneDraft.bytes).toBe(straight.bytes);
    expect(undoneDraft.head().tree.root()).toBe(straight.head().tree.root());
  });

  it('ends a batch with a checkpoint over every record before it, and moves the head only when asked', () => {
    const base = emptyHead();
    const draft = new ChainDraft(base, 'unit', 0, RECORDED_AT);
    const signer = new CheckpointSigner('custodian/unit', new Uint8Array(32).fill(4));
    const genesis = draft.genesis(1, signer, ids());
    const record = draft.add(fields(1), ['p-1']);
    const checkpoint = draft.checkpoint(signer);
    expect(checkpoint.record.payload).toMatchObject({ treeSize: 2, headHash: record.hash, origin: 'custodian/unit/0' });
    expect(base.tree.size).toBe(0);
    const head = draft.head();
    expect(head).toMatchObject({ nextSequence: 3, headHash: checkpoint.hash, genesisHash: genesis.hash });
    expect(head.entityHeads.get('p-1')).toBe(record.hash);
    expect(head.lastCheckpoint).toEqual(checkpoint.record.payload);
  });
});

/** A batch over an empty chain with the holder model, where a group fits while the batch stays under `room` bytes. */
function batch(options: { room?: number; index?: IdempotencyIndex; committed?: Map<string, unknown> } = {}): BatchDraft {
  const room = options.room ?? 1_000_000;
  const place = (bytes: number, first: boolean): Placement => (bytes <= room ? 'in-batch' : first ? 'too-large' : 'next-batch');
  return new BatchDraft(new ChainDraft(emptyHead(), 'unit', 0, RECORDED_AT), {
    committedStates: options.committed ?? new Map(),
    index: options.index ?? new IdempotencyIndex(),
    stateModel: holderModel,
    queue: { place, roomBytes: room },
  });
}

function refusal(outcome: GroupOutcome): Error {
  if (outcome.kind !== 'refused') throw new Error(`expected a refusal, got ${outcome.kind}`);
  return outcome.error;
}

describe('BatchDraft', () => {
  it('decides a precondition against the records drafted before it in the same batch', () => {
    const draft = batch({ committed: new Map([['p-1', 'maker']]) });
    expect(draft.draftGroup([handover('p-1', 'maker', 'carrier')]).kind).toBe('drafted');
    expect(refusal(draft.draftGroup([handover('p-1', 'maker', 'shop')]))).toBeInstanceOf(NotTheHolder);
    expect(draft.draftGroup([handover('p-1', 'carrier', 'shop')]).kind).toBe('drafted');
    expect(draft.draftedStates.get('p-1')).toBe('shop');
  });

  it('refuses a group as a whole and leaves the draft as it was', () => {
    const draft = batch();
    draft.draftGroup([commission('p-1', 'maker')]);
    const before = { built: draft.chain.built.length, bytes: draft.chain.bytes };
    const outcome = draft.draftGroup([handover('p-1', 'maker', 'carrier'), handover('p-1', 'maker', 'shop')]);
    expect(refusal(outcome)).toBeInstanceOf(NotTheHolder);
    expect({ built: draft.chain.built.length, bytes: draft.chain.bytes }).toEqual(before);
    expect(draft.draftedStates.get('p-1')).toBe('maker');
    const next = draft.draftGroup([handover('p-1', 'maker', 'shop')]);
    expect(next.kind === 'drafted' && next.records[0]?.record.sequence).toBe(1);
  });

  it('refuses an event id drafted earlier in the batch, and one that appears twice in a group', () => {
    const draft = batch();
    const first = commission('p-1', 'maker');
    draft.draftGroup([first]);
    expect(refusal(draft.draftGroup([{ ...commission('p-2', 'maker'), eventId: first.eventId }]))).toBeInstanceOf(
      EventInFlightError,
    );
    const twice = commission('p-3', 'maker');
    const error = refusal(draft.draftGroup([twice, { ...handover('p-3', 'maker', 'x'), eventId: twice.eventId }]));
    expect(error).toBeInstanceOf(AppendRejectedError);
    expect(error.message).toMatch(/appears twice in one group/);
  });

  it('answers a group recorded already from the index, and refuses an event id recorded for another request', () => {
    const index = new IdempotencyIndex();
    const recorded = { ...commission('p-1', 'maker'), payload: { holder: 'maker', requestDigest: 'digest-1' } };
    const receipt: AppendReceipt = {
      ledgerId: 'unit',
      partition: 0,
      offset: '7',
      sequence: 3,
      hash: 'a'.repeat(64),
      checkpointSize: 5,
    };
    index.committed(new ChainDraft(emptyHead(), 'unit', 0, RECORDED_AT).add(recorded, ['p-1']).record, receipt);
    const retry = batch({ index });
    expect(retry.draftGroup([recorded])).toEqual({ kind: 'replayed', receipts: [receipt] });
    expect(retry.chain.built).toHaveLength(0);
    const reused = { ...commission('p-2', 'maker'), eventId: recorded.eventId };
    expect(refusal(retry.draftGroup([reused]))).toBeInstanceOf(EventIdConflictError);
  });

  it('leaves a group that does not fit for the next batch, and refuses one that fits in none', () => {
    const sizing = batch();
    sizing.draftGroup([commission('p-0', 'maker')]);
    const room = sizing.chain.bytes * 2;
    const draft = batch({ room });
    expect(draft.draftGroup([commission('p-1', 'maker')]).kind).toBe('drafted');
    const builtBefore = draft.chain.built.length;
    expect(draft.draftGroup([commission('p-2', 'maker'), commission('p-3', 'maker')])).toEqual({ kind: 'next-batch' });
    expect(draft.chain.built).toHaveLength(builtBefore);
    const alone = batch({ room });
    const error = refusal(alone.draftGroup([commission('p-4', 'maker'), commission('p-5', 'maker'), commission('p-6', 'm')]));
    expect(error.message).toMatch(new RegExp(`one transaction holds at most ${room} \\(LEDGER_MAX_BATCH_BYTES\\)`));
  });

  it('answers refused groups at once and returns the first group that did not fit with every one after it', () => {
    const sizing = batch();
    sizing.draftGroup([commission('p-0', 'maker')]);
    const draft = batch({ room: Math.floor(sizing.chain.bytes * 2.5) });
    const answers: string[] = [];
    const waiting = (name: string, requests: AppendRequest[]): WaitingGroup => ({
      requests,
      resolve: () => answers.push(`${name} resolved`),
      reject: (error) => answers.push(`${name}: ${error.name}`),
    });
    const groups = [
      waiting('a', [commission('p-1', 'maker')]),
      waiting('refused', [handover('p-1', 'nobody', 'x')]),
      waiting('b', [commission('p-2', 'maker')]),
      waiting('too big now', [commission('p-3', 'maker')]),
      waiting('after', [commission('p-4', 'maker')]),
    ];
    const left = draft.draftGroups(groups);
    expect(left).toEqual(groups.slice(3));
    expect(answers).toEqual(['refused: NotTheHolder']);
    expect(draft.accepted.map(({ group }) => group)).toEqual([groups[0], groups[2]]);
  });
});

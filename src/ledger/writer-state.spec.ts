import { describe, expect, it } from '@jest/globals';
import {
  AppendOutcomeUnknownError,
  AppendRejectedError,
  EventIdConflictError,
  type LedgerError,
  LedgerIntegrityError,
  LedgerUnavailableError,
  WriterClosedError,
  WriterFencedError,
} from './ledger-errors.js';
import {
  asLedgerError,
  IllegalTransitionError,
  isAllowedTransition,
  stateAfterFailure,
  WRITER_TRANSITIONS,
  type WriterState,
  WriterStateMachine,
  type WriterStatus,
} from './writer-state.js';

const STATES: readonly WriterState[] = ['new', 'open', 'unavailable', 'fenced', 'failed', 'closed'];

/** A machine walked to `state` along allowed transitions, and what it told. */
function machineIn(state: WriterState): { machine: WriterStateMachine; told: WriterStatus[] } {
  const told: WriterStatus[] = [];
  const machine = new WriterStateMachine(3, (status) => told.push(status));
  const path: Record<WriterState, WriterState[]> = {
    new: [],
    open: ['open'],
    unavailable: ['open', 'unavailable'],
    fenced: ['open', 'fenced'],
    failed: ['failed'],
    closed: ['closed'],
  };
  const causes: Partial<Record<WriterState, LedgerError>> = {
    unavailable: new LedgerUnavailableError('partition 3 cannot be reached'),
    fenced: new WriterFencedError('another writer took over partition 3'),
    failed: new LedgerIntegrityError('partition 3 does not verify'),
  };
  for (const step of path[state]) machine.transition(step, causes[step] ?? null);
  told.length = 0;
  return { machine, told };
}

describe('the partition writer state table', () => {
  it('lists every change of state once, each with what causes it', () => {
    const pairs = WRITER_TRANSITIONS.map(({ from, to }) => `${from}>${to}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    for (const { from, to, when } of WRITER_TRANSITIONS) {
      expect(from).not.toBe(to);
      expect(when.length).toBeGreaterThan(0);
    }
  });

  it('lets a writer open, lose Kafka, get fenced, come back and close', () => {
    const walk: WriterState[] = ['new', 'open', 'unavailable', 'open', 'fenced', 'open', 'unavailable', 'fenced', 'closed'];
    for (let i = 1; i < walk.length; i++) expect(isAllowedTransition(walk[i - 1]!, walk[i]!)).toBe(true);
  });

  it('never leaves failed: only an operator mends a broken partition', () => {
    for (const to of STATES) expect(isAllowedTransition('failed', to)).toBe(false);
  });

  it('goes back to open only by reading the partition back: never from new into the outage states', () => {
    expect(isAllowedTransition('new', 'unavailable')).toBe(false);
    expect(isAllowedTransition('new', 'fenced')).toBe(false);
    expect(isAllowedTransition('closed', 'unavailable')).toBe(false);
    expect(isAllowedTransition('closed', 'fenced')).toBe(false);
  });
});

describe('WriterStateMachine', () => {
  it('starts new and tells each change once, with the reason for an unhealthy state', () => {
    const told: WriterStatus[] = [];
    const machine = new WriterStateMachine(3, (status) => told.push(status));
    expect(machine.describe()).toEqual({ partition: 3, state: 'new', reason: 'the writer is new' });
    machine.transition('open');
    machine.transition('open');
    const outage = new LedgerUnavailableError('partition 3 cannot be reached');
    machine.transition('unavailable', outage);
    expect(told).toEqual([
      { partition: 3, state: 'open', reason: null },
      { partition: 3, state: 'unavailable', reason: 'partition 3 cannot be reached' },
    ]);
    expect(machine.refusal()).toBe(outage);
  });

  it.each([
    ['new', 'unavailable'],
    ['open', 'new'],
    ['failed', 'open'],
    ['failed', 'closed'],
    ['closed', 'fenced'],
    ['fenced', 'unavailable'],
  ] as const)('throws on %s -> %s, a change the table does not list, and stays where it was', (from, to) => {
    const { machine, told } = machineIn(from);
    expect(() => {
      machine.transition(to, new LedgerUnavailableError('x'));
    }).toThrow(IllegalTransitionError);
    expect(() => {
      machine.transition(to);
    }).toThrow(`a partition writer cannot go from ${from} to ${to}`);
    expect(machine.state).toBe(from);
    expect(told).toEqual([]);
  });

  it('takes every transition of the table', () => {
    for (const { from, to } of WRITER_TRANSITIONS) {
      const { machine, told } = machineIn(from);
      machine.transition(to);
      expect(machine.state).toBe(to);
      expect(told.map((status) => status.state)).toEqual([to]);
    }
  });

  it('tells a new cause for the state it is in, which is no transition', () => {
    const { machine, told } = machineIn('failed');
    const second = new LedgerIntegrityError('another break');
    machine.transition('failed', second);
    expect(told).toEqual([{ partition: 3, state: 'failed', reason: 'another break' }]);
  });

  it('refuses appends with the error that explains the state, or says it is closed', () => {
    const fenced = new WriterFencedError('another writer took over partition 3');
    const { machine } = machineIn('open');
    machine.transition('fenced', fenced);
    expect(machine.refusal()).toBe(fenced);
    machine.transition('closed');
    expect(machine.refusal()).toBeInstanceOf(WriterClosedError);
    expect(machine.refusal().message).toBe('the writer of partition 3 is closed');
    expect(machine.reason).toBe('the writer is closed');
  });
});

describe('what a failure leaves a writer in', () => {
  it('fenced, failed or unavailable by the error; a batch of its own leaves it open', () => {
    expect(stateAfterFailure(new WriterFencedError('x'))).toBe('fenced');
    expect(stateAfterFailure(new LedgerIntegrityError('x'))).toBe('failed');
    expect(stateAfterFailure(new LedgerUnavailableError('x'))).toBe('unavailable');
    expect(stateAfterFailure(new AppendOutcomeUnknownError('x'))).toBe('unavailable');
    expect(stateAfterFailure(new AppendRejectedError('x'))).toBeNull();
    expect(stateAfterFailure(new EventIdConflictError('e', 'x'))).toBeNull();
  });

  it("takes an error that is not the ledger's own as Kafka not acknowledging, which a retry can mend", () => {
    const failure = asLedgerError(new Error('broker down'), 2);
    expect(failure).toBeInstanceOf(LedgerUnavailableError);
    expect(failure.retriable).toBe(true);
    expect(failure.message).toBe('partition 2: the append was not acknowledged: broker down');
    const own = new LedgerIntegrityError('broken');
    expect(asLedgerError(own, 2)).toBe(own);
  });
});

import { ForwardNotSentError, ForwardOutcomeUnknownError } from '../cluster/forwarding.js';
import type { ProblemDetails } from '../infrastructure/http/problem-details.js';
import { ProblemException } from '../infrastructure/http/problem-details.js';
import {
  AppendOutcomeUnknownError,
  AppendRejectedError,
  LedgerUnavailableError,
  WriterClosedError,
  WriterFencedAfterCommitError,
  WriterFencedError,
} from '../ledger/ledger-errors.js';
import { NotTheWriterError } from '../ledger/ledger-writer.js';
import { partitionOf } from '../ledger/partitioning.js';
import { entitiesNamedBy, subjectOf } from './custody-decider.js';
import type { Idempotency, RecordedStep, StepToRecord } from './step-recorder.js';

/** Injection token of the StepRecording the routes use. */
export const STEP_RECORDING = Symbol('STEP_RECORDING');

/** Records steps: here (StepRecorder), or at the instance that writes their partition (StepRouter). */
export interface StepRecording {
  record(steps: readonly StepToRecord[], actor: string, idempotency?: Idempotency): Promise<RecordedStep[]>;
}

/** A request forwarded to the writer's instance: what StepRecorder.record takes, and the partition it is for. */
export interface ForwardedSteps {
  readonly partition: number;
  readonly steps: readonly StepToRecord[];
  readonly actor: string;
  readonly idempotency?: Idempotency;
}

/** The answer of the writer's instance: the steps recorded, the problem that refused them, or "not mine (any more)". */
export type ForwardAnswer =
  { readonly recorded: RecordedStep[] } | { readonly problem: ProblemDetails } | { readonly notWriter: true };

/** Where a partition's writer runs, as far as this instance knows (the cluster's WriterPlacement). */
export interface WriterLocation {
  /** Whether this instance writes the partition, with its writer open. */
  writesHere(partition: number): boolean;
  /** The address of the instance that writes it, or undefined while the group places it; `refresh` asks Kafka again. */
  addressOf(partition: number, refresh: boolean): Promise<string | undefined>;
}

export interface StepRouterOptions {
  readonly partitions: number;
  /** This instance's own forwarding address (never forwarded to: it is the local writer or a stale directory). */
  readonly self: string;
  /** How long a write waits for its partition's writer to be placed (a takeover), in ms. */
  readonly placementWaitMs: number;
  readonly retryDelayMs?: number;
}

/**
 * With several instances (docs/scaling.md): records the steps here when this instance writes
 * their partition, else forwards them to the instance that does. While the partition moves (its
 * instance left or died, or a writer here is being released) the write waits for the new writer,
 * up to `placementWaitMs`: a write that was never sent is sent again to it; one that was sent
 * and got no answer is `AppendOutcomeUnknownError`, to be retried with the same Idempotency-Key.
 * Problems of the writer's instance come back as they are (the same status, type and pointers).
 */
export class StepRouter implements StepRecording {
  constructor(
    private readonly local: StepRecording,
    private readonly location: WriterLocation,
    private readonly send: (address: string, request: ForwardedSteps) => Promise<ForwardAnswer>,
    private readonly options: StepRouterOptions,
  ) {}

  async record(steps: readonly StepToRecord[], actor: string, idempotency?: Idempotency): Promise<RecordedStep[]> {
    const first = steps[0];
    if (!first) return [];
    const partition = partitionOf(subjectOf(first.command), this.options.partitions);
    // One writer decides a request: steps naming entities of other partitions are refused here,
    // as one instance refuses them (docs/scaling.md §7), not sent to a writer that cannot read them.
    const partitions = new Set(
      steps.flatMap((step) => entitiesNamedBy(step.command)).map((id) => partitionOf(id, this.options.partitions)),
    );
    if (partitions.size > 1) {
      throw new AppendRejectedError(
        `the entities map to ${partitions.size} different partitions; one record's entities must share a partition`,
      );
    }
    const deadline = Date.now() + this.options.placementWaitMs;
    let refresh = false;
    for (;;) {
      if (this.location.writesHere(partition)) {
        try {
          return await this.local.record(steps, actor, idempotency);
        } catch (error) {
          if (!notSentHere(error)) throw error;
        }
      } else {
        const address = await this.location.addressOf(partition, refresh);
        if (address !== undefined && address !== this.options.self) {
          const answer = await this.forward(address, { partition, steps, actor, ...(idempotency ? { idempotency } : {}) });
          if (answer && 'recorded' in answer) return answer.recorded;
          if (answer && 'problem' in answer) throw new ProblemException(answer.problem);
        }
      }
      if (Date.now() >= deadline) {
        throw new LedgerUnavailableError(`no instance took the writer of partition ${partition} in time`);
      }
      refresh = true;
      await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs ?? 100));
    }
  }

  /** The answer, or null when the write was not taken there (not sent, or not that instance's partition any more). */
  private async forward(address: string, request: ForwardedSteps): Promise<ForwardAnswer | null> {
    try {
      const answer = await this.send(address, request);
      return 'notWriter' in answer ? null : answer;
    } catch (error) {
      if (error instanceof ForwardNotSentError) return null;
      if (error instanceof ForwardOutcomeUnknownError) throw new AppendOutcomeUnknownError(error.message);
      throw error;
    }
  }
}

/**
 * Whether a refusal here means the partition moved and the request was never sent to Kafka, so
 * that the next writer may take it: this instance does not (or no longer) write the partition,
 * its writer was being released, or was fenced before its commit. A fence after the commit was
 * sent is not one of them: that batch may have landed.
 */
export function notSentHere(error: unknown): boolean {
  if (error instanceof WriterFencedAfterCommitError) return false;
  return error instanceof NotTheWriterError || error instanceof WriterClosedError || error instanceof WriterFencedError;
}

import { Controller, Inject, Logger } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { FORWARDED_STEPS, ForwardRefusedError, seal, type SealedMessage, unseal } from '../cluster/forwarding.js';
import { DOMAIN_PROBLEMS, FORWARDING_KEY } from '../cluster/cluster.tokens.js';
import { type DomainProblems, expectedProblem, type ProblemDetails } from '../infrastructure/http/problem-details.js';
import { LedgerWriter } from '../ledger/ledger-writer.js';
import { idempotencyProblem } from './step-capture.js';
import { StepRecorder } from './step-recorder.js';
import { type ForwardAnswer, type ForwardedSteps, notSentHere } from './step-routing.js';

/**
 * The receiving end of forwarded writes (docs/scaling.md, "Forwarding"): a step another instance
 * took over HTTP, for a partition whose writer runs here. It is recorded exactly as one that came
 * here directly (StepRecorder: the same rules, idempotency and receipts); a refusal goes back as
 * the problem it is, so the caller's answer does not depend on which instance it asked.
 */
@Controller()
export class ForwardedStepsController {
  private readonly logger = new Logger('Forwarding');

  constructor(
    private readonly recorder: StepRecorder,
    private readonly writer: LedgerWriter,
    @Inject(FORWARDING_KEY) private readonly key: Buffer,
    @Inject(DOMAIN_PROBLEMS) private readonly problems: DomainProblems,
  ) {}

  @MessagePattern(FORWARDED_STEPS)
  async record(@Payload() message: unknown): Promise<SealedMessage | { refused: string }> {
    let request: ForwardedSteps;
    try {
      request = unseal(this.key, message) as ForwardedSteps;
    } catch (error) {
      if (!(error instanceof ForwardRefusedError)) throw error;
      this.logger.warn(`a forwarded write was refused: ${error.message}`);
      return { refused: error.message };
    }
    return seal(this.key, await this.answer(request));
  }

  private async answer(request: ForwardedSteps): Promise<ForwardAnswer> {
    const here = this.writer.describe()[request.partition];
    if (here?.state !== 'open') return { notWriter: true };
    try {
      return { recorded: await this.recorder.record(request.steps, request.actor, request.idempotency) };
    } catch (error) {
      if (notSentHere(error)) return { notWriter: true };
      const problem = idempotencyProblem(error)?.problem ?? expectedProblem(error, this.problems);
      if (problem) return { problem };
      const incident = randomUUID();
      this.logger.error({ message: 'a forwarded write failed', incident }, (error as Error).stack);
      const failed: ProblemDetails = {
        type: 'about:blank',
        title: 'Internal Server Error',
        status: 500,
        detail: `The server could not complete the request. The incident is logged as ${incident}.`,
        incident,
      };
      return { problem: failed };
    }
  }
}

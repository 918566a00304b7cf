import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { AuditProgress, AuditReport, LedgerAudit } from './ledger-audit.js';

export interface AuditJob {
  readonly id: string;
  status: 'running' | 'finished' | 'failed';
  readonly startedAt: string;
  progress: AuditProgress | null;
  report: AuditReport | null;
  error: string | null;
}

const KEPT = 20;

/**
 * Full audits run in the background, one at a time: asking while one runs returns that one.
 * The last few jobs are kept in memory with their reports (a restart forgets them; the
 * `npm run audit` command writes its report to a file).
 */
export class AuditJobs {
  private readonly jobs = new Map<string, AuditJob>();
  private readonly logger = new Logger('Audit');

  constructor(private readonly createAudit: () => LedgerAudit) {}

  start(): { job: AuditJob; started: boolean } {
    const running = [...this.jobs.values()].find((job) => job.status === 'running');
    if (running) return { job: running, started: false };
    const job: AuditJob = {
      id: randomUUID(),
      status: 'running',
      startedAt: new Date().toISOString(),
      progress: null,
      report: null,
      error: null,
    };
    this.jobs.set(job.id, job);
    for (const id of [...this.jobs.keys()].slice(0, Math.max(0, this.jobs.size - KEPT))) this.jobs.delete(id);
    this.createAudit()
      .run((progress) => {
        job.progress = progress;
      })
      .then(
        (report) => {
          job.report = report;
          job.status = 'finished';
          this.logger.log(report.summary.split('\n')[0] ?? '');
        },
        (error: unknown) => {
          job.error = (error as Error).message;
          job.status = 'failed';
          this.logger.error(`audit ${job.id} failed: ${job.error}`);
        },
      );
    return { job, started: true };
  }

  get(id: string): AuditJob | undefined {
    return this.jobs.get(id);
  }

  /** Resolves once no audit runs (for shutdown and tests). */
  async idle(): Promise<void> {
    while ([...this.jobs.values()].some((job) => job.status === 'running')) await new Promise((r) => setTimeout(r, 50));
  }
}

import { Type } from '@sinclair/typebox';
import { ProblemException } from './problem-details.js';
import { invalidRequest } from './request-validation.js';

/**
 * Read-your-writes for the routes that answer from the read models (docs/api.md, "waitFor"): a
 * read names a receipt's `partition:sequence` and waits, up to READ_WAIT_TIMEOUT_MS, until the
 * projection has passed it. The projection's position is the caller's to read: this knows no
 * table, only the waiting.
 */
export const POSITION = '^\\d{1,6}:\\d{1,15}$';

/** The `waitFor` query parameter, as every such route takes it. */
export const WaitForParameter = () =>
  Type.Optional(Type.String({ pattern: POSITION, description: 'partition:sequence of a receipt to wait for' }));

export interface ProjectedPosition {
  readonly partition: number;
  readonly nextSequence: number;
  readonly nextOffset: string;
}

/** `partition:sequence` as numbers (the pattern POSITION checked it). */
export function positionOf(value: string): { partition: number; sequence: number } {
  const [partition, sequence] = value.split(':').map(Number) as [number, number];
  return { partition, sequence };
}

/**
 * The projection's position; with `waitFor`, first waits until the record at that partition and
 * sequence is projected, else a 503 the client may retry.
 */
export async function caughtUp(
  read: () => Promise<ProjectedPosition[]>,
  waitFor: string | undefined,
  options: { readonly partitions: number; readonly timeoutMs: number },
): Promise<ProjectedPosition[]> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const current = await read();
    if (!waitFor) return current;
    const wanted = positionOf(waitFor);
    if (wanted.partition >= options.partitions) {
      throw invalidRequest([{ pointer: '/waitFor', detail: `the ledger has ${options.partitions} partition(s)` }]);
    }
    const at = current.find((p) => p.partition === wanted.partition);
    if (at && at.nextSequence > wanted.sequence) return current;
    if (Date.now() >= deadline) {
      throw new ProblemException({
        type: '/problems/projection-behind',
        title: 'The read models have not caught up with that record yet',
        status: 503,
        detail: `partition ${wanted.partition} is projected up to sequence ${(at?.nextSequence ?? 0) - 1}; retry shortly`,
        retryable: true,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

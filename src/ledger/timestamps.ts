/**
 * A record's time as PostgreSQL keeps it: timestamptz holds microseconds and rounds a finer
 * fraction, which could carry an instant over into the next second (…00.9999996 becomes …01).
 * The read models are written, and replayed by the audit, with the fraction cut to microseconds,
 * so the stored instant is the written one.
 */
export function toMicrosecondText(timestamp: string): string {
  return timestamp.replace(/(\.\d{6})\d+/, '$1');
}

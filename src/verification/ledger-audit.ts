import type { EntityStateModel, StoredRecord } from '../ledger/ledger-record.js';
import { CHECKPOINT_EVENT } from '../ledger/ledger-record.js';
import type { Clock } from '../ledger/ports.js';
import type { Finding, Verdict } from './attestation.js';
import { checkAgainstWitness, type LedgerSource, ledgerFinding, scanPartition } from './partition-scan.js';
import { verdictOf } from './product-verifier.js';
import { eventRowDifference, type ProductStateRow, productStateDifference, type ReadModelSource } from './read-model-check.js';
import type { Witness } from './witness.js';

/** How far a running audit got. */
export interface AuditProgress {
  readonly partition: number;
  readonly partitions: number;
  /** Records read from the partition so far. */
  readonly recordsRead: number;
  /** Records verified in every partition so far. */
  readonly recordsVerified: number;
}

export interface PartitionAudit {
  readonly partition: number;
  readonly recordsRead: number;
  readonly recordsVerified: number;
  readonly checkpoints: number;
  readonly genesisHash: string | null;
  readonly lastCheckpoint: { readonly treeSize: number; readonly rootHash: string; readonly time: string } | null;
  readonly witnessed: { readonly treeSize: number; readonly rootHash: string } | null;
  readonly eventsCompared: number;
  readonly productsCompared: number;
}

/** docs/attestation-format.md §6. */
export interface AuditReport {
  readonly ledgerId: string;
  readonly verdict: Verdict;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly partitions: PartitionAudit[];
  /** At most `maxFindings` findings, the first of each partition and kind first. */
  readonly findings: Finding[];
  readonly findingsOmitted: number;
  /** The same, for people. */
  readonly summary: string;
}

export interface LedgerAuditOptions {
  readonly source: LedgerSource;
  readonly witness: Witness | null;
  readonly readModel: ReadModelSource | null;
  readonly stateModel: EntityStateModel;
  readonly clock: Clock;
  readonly maxFindings?: number;
}

const COMPARE_BATCH = 2_000;

/**
 * The full audit (docs/attestation-format.md §6): every partition read from genesis and
 * verified (every record, link and checkpoint; each checkpoint's tree is recomputed over the
 * records before it, so consecutive checkpoints are prefixes of one tree), held against the
 * witness, and the whole read model held against the records: every custody_events row, and
 * every product's current state folded from its records.
 */
export class LedgerAudit {
  constructor(private readonly options: LedgerAuditOptions) {}

  async run(onProgress: (progress: AuditProgress) => void = () => undefined): Promise<AuditReport> {
    const { source, readModel, stateModel } = this.options;
    const maxFindings = this.options.maxFindings ?? 100;
    const started = this.options.clock.now();
    const t0 = performance.now();
    const findings: Finding[] = [];
    let omitted = 0;
    const note = (finding: Finding) => {
      if (findings.length < maxFindings) findings.push(finding);
      else omitted += 1;
    };
    const partitions: PartitionAudit[] = [];
    let verifiedSoFar = 0;

    for (let partition = 0; partition < source.partitions; partition++) {
      let checkpoints = 0;
      let eventsCompared = 0;
      let batch: StoredRecord[] = [];
      const states = new Map<string, unknown>();
      const lastRecord = new Map<string, StoredRecord>();
      const projectedTo = readModel ? await readModel.projectedTo(partition) : 0;

      const compare = async () => {
        if (!readModel || batch.length === 0) return;
        const from = batch[0]?.record.sequence as number;
        const to = (batch.at(-1)?.record.sequence as number) + 1;
        const rows = new Map(
          (await readModel.events(partition, from, Math.min(to, projectedTo))).map((row) => [row.sequence, row]),
        );
        for (const stored of batch) {
          if (stored.record.sequence >= projectedTo) break;
          const row = rows.get(stored.record.sequence);
          rows.delete(stored.record.sequence);
          eventsCompared += 1;
          const difference = row
            ? eventRowDifference(stored, row)
            : {
                source: 'read-model' as const,
                kind: 'read-model',
                partition,
                offset: stored.offset,
                sequence: stored.record.sequence,
                field: 'custody_events',
                expected: stored.hash,
                found: '(no row)',
                message: 'the read model lacks this step',
              };
          if (difference) note(difference);
        }
        for (const row of rows.values()) {
          note({
            source: 'read-model',
            kind: 'read-model',
            partition,
            offset: row.kafka_offset,
            sequence: row.sequence,
            field: 'custody_events',
            expected: '(no row)',
            found: row.record_hash,
            message: 'the read model shows a step the ledger does not hold at this sequence',
          });
        }
        batch = [];
      };

      const scan = await scanPartition(
        source,
        partition,
        async (stored) => {
          verifiedSoFar += 1;
          if (stored.record.eventType === CHECKPOINT_EVENT) checkpoints += 1;
          if (stored.record.entities.length === 0) return;
          for (const entity of stored.record.entities) {
            states.set(entity.id, stateModel.evolve(states.get(entity.id), stored.record, entity.id));
            lastRecord.set(entity.id, stored);
          }
          batch.push(stored);
          if (batch.length >= COMPARE_BATCH) await compare();
        },
        (recordsRead) => {
          onProgress({ partition, partitions: source.partitions, recordsRead, recordsVerified: verifiedSoFar });
        },
      );
      await compare();
      if (scan.problem) note(ledgerFinding(scan.problem));
      const witness = await checkAgainstWitness(this.options.witness, source, scan);
      for (const finding of witness.findings) note(finding);

      let productsCompared = 0;
      if (readModel && !scan.problem) {
        const rows = await readModel.products(partition);
        for (const [id, state] of states) {
          const last = lastRecord.get(id) as StoredRecord;
          if ((state as { kind?: string } | undefined)?.kind !== 'product' || last.record.sequence >= projectedTo) continue;
          productsCompared += 1;
          const difference = productStateDifference(id, last, state as ProductStateRow, rows.get(id));
          if (difference) note(difference);
          rows.delete(id);
        }
        for (const id of rows.keys()) {
          if (states.has(id)) continue;
          note({
            source: 'read-model',
            kind: 'read-model',
            partition,
            offset: null,
            sequence: null,
            entityId: id,
            field: 'products',
            expected: '(no row)',
            found: 'a row',
            message: 'the read model shows a product the ledger has no record of',
          });
        }
      }
      const head = scan.verifier.head();
      partitions.push({
        partition,
        recordsRead: scan.recordsRead,
        recordsVerified: scan.proofs.length,
        checkpoints,
        genesisHash: head.genesisHash,
        lastCheckpoint: head.lastCheckpoint && {
          treeSize: head.lastCheckpoint.treeSize,
          rootHash: head.lastCheckpoint.rootHash,
          time: head.lastCheckpoint.time,
        },
        witnessed: witness.witnessed,
        eventsCompared,
        productsCompared,
      });
    }

    const seconds = (performance.now() - t0) / 1000;
    const verified = partitions.reduce((sum, p) => sum + p.recordsVerified, 0);
    const report = {
      ledgerId: source.ledgerId,
      verdict: verdictOf(findings),
      startedAt: started.toISOString(),
      finishedAt: this.options.clock.now().toISOString(),
      seconds: Math.round(seconds * 1000) / 1000,
      recordsPerSecond: Math.round(verified / Math.max(seconds, 0.001)),
      partitions,
      findings,
      findingsOmitted: omitted,
    };
    return { ...report, summary: auditSummary(report) };
  }
}

/** The report for people: one line per partition, then the findings. */
export function auditSummary(report: Omit<AuditReport, 'summary'>): string {
  const lines = [
    `Ledger ${report.ledgerId}: ${report.verdict.toUpperCase()} (audited ${report.startedAt} in ${report.seconds} s, ${report.recordsPerSecond} records/s)`,
  ];
  for (const p of report.partitions) {
    const checkpoint = p.lastCheckpoint
      ? `last checkpoint: tree size ${p.lastCheckpoint.treeSize}, root ${p.lastCheckpoint.rootHash}`
      : 'no checkpoint';
    const witnessed = p.witnessed ? `; extends the witnessed tree of size ${p.witnessed.treeSize}` : '';
    lines.push(
      `  partition ${p.partition}: ${p.recordsVerified} of ${p.recordsRead} records verified, ${p.checkpoints} checkpoints; ${checkpoint}${witnessed}; read model: ${p.eventsCompared} steps and ${p.productsCompared} products compared`,
    );
  }
  for (const f of report.findings) {
    const place = `partition ${f.partition}, offset ${f.offset ?? '-'}, sequence ${f.sequence ?? '-'}${f.entityId ? `, entity ${f.entityId}` : ''}${f.field ? `, ${f.field}` : ''}`;
    const diff = f.expected !== undefined ? ` (expected ${f.expected}, found ${f.found ?? '?'})` : '';
    lines.push(`  ${f.source} ${f.kind} at ${place}: ${f.message}${diff}`);
  }
  if (report.findingsOmitted > 0) lines.push(`  … and ${report.findingsOmitted} more findings`);
  return `${lines.join('\n')}\n`;
}

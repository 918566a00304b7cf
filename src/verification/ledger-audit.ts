import type { EntityStateModel, StoredRecord } from '../ledger/ledger-record.js';
import { CHECKPOINT_EVENT } from '../ledger/ledger-record.js';
import type { Clock } from '../ledger/ports.js';
import type { Finding, Verdict } from './attestation.js';
import { checkAgainstWitness, readWitness, type LedgerSource, ledgerFinding, scanPartition } from './partition-scan.js';
import { verdictOf } from './product-verifier.js';
import { historyRowsOf } from '../projection/read-model-changes.js';
import {
  eventRowDifference,
  historyRowDifference,
  ProductFacts,
  productDifference,
  type ReadModelSource,
} from './read-model-check.js';
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
      const facts = new Map<string, ProductFacts>();
      const witnessed = await readWitness(this.options.witness, source, partition);
      const projectedTo = readModel ? await readModel.projectedTo(partition) : 0;
      // Rows are read in contiguous ranges of sequences, [comparedTo, upTo), so that a row at a
      // sequence no custody record holds (a checkpoint's, say) is seen as well.
      let comparedTo = 0;
      const extra = (row: { sequence: number; kafka_offset?: string }, field: string, found: string, entityId?: string) => {
        note({
          source: 'read-model',
          kind: 'read-model',
          partition,
          offset: row.kafka_offset ?? null,
          sequence: row.sequence,
          ...(entityId === undefined ? {} : { entityId }),
          field,
          expected: '(no row)',
          found,
          message: 'the read model shows a step the ledger does not hold',
        });
      };

      const compare = async (upTo: number) => {
        if (!readModel) return;
        upTo = Math.min(upTo, projectedTo);
        if (upTo <= comparedTo) return;
        const rows = new Map((await readModel.events(partition, comparedTo, upTo)).map((row) => [row.sequence, row]));
        const history = new Map(
          (await readModel.historyRows(partition, comparedTo, upTo)).map((row) => [`${row.entity_id}\n${row.sequence}`, row]),
        );
        for (const stored of batch) {
          const sequence = stored.record.sequence;
          if (sequence >= upTo) break;
          const row = rows.get(sequence);
          rows.delete(sequence);
          eventsCompared += 1;
          const difference = row
            ? eventRowDifference(stored, row)
            : {
                source: 'read-model' as const,
                kind: 'read-model',
                partition,
                offset: stored.offset,
                sequence,
                field: 'custody_events',
                expected: stored.hash,
                found: '(no row)',
                message: 'the read model lacks this step',
              };
          if (difference) note(difference);
          for (const expected of historyRowsOf(stored.record)) {
            const key = `${expected.entity_id}\n${sequence}`;
            const found = historyRowDifference(stored, expected, history.get(key));
            history.delete(key);
            if (found) note(found);
          }
        }
        for (const row of rows.values()) extra(row, 'custody_events', row.record_hash ?? '(a row)');
        for (const row of history.values()) extra(row, 'entity_history', row.event_type, row.entity_id);
        batch = batch.filter((stored) => stored.record.sequence >= upTo);
        comparedTo = upTo;
      };

      const scan = await scanPartition(
        source,
        partition,
        async (stored) => {
          verifiedSoFar += 1;
          if (stored.record.eventType === CHECKPOINT_EVENT) checkpoints += 1;
          if (stored.record.entities.length === 0) return;
          for (const entity of stored.record.entities) {
            let known = facts.get(entity.id);
            if (!known) facts.set(entity.id, (known = new ProductFacts(entity.id, stateModel)));
            known.observe(stored);
          }
          batch.push(stored);
          if (batch.length >= COMPARE_BATCH) await compare(stored.record.sequence + 1);
        },
        (recordsRead) => {
          onProgress({ partition, partitions: source.partitions, recordsRead, recordsVerified: verifiedSoFar });
        },
      );
      const readTo = scan.proofs.length;
      if (!scan.problem) await compare(readTo);
      if (scan.problem) note(ledgerFinding(scan.problem));
      const witness = checkAgainstWitness(witnessed, scan);
      for (const finding of witness.findings) note(finding);

      let productsCompared = 0;
      if (readModel && !scan.problem) {
        const rows = await readModel.products(partition);
        for (const [id, known] of facts) {
          const row = rows.get(id);
          rows.delete(id);
          if (!known.isProduct || (known.last?.record.sequence ?? readTo) >= projectedTo) continue;
          productsCompared += 1;
          const difference = productDifference(known, row, readTo);
          if (difference) note(difference);
        }
        for (const [id, row] of rows) {
          if (row.last_sequence >= Math.min(readTo, projectedTo)) continue;
          note({
            source: 'read-model',
            kind: 'read-model',
            partition,
            offset: null,
            sequence: row.last_sequence,
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

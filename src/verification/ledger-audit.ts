import type { StoredRecord } from '../ledger/ledger-record.js';
import { CHECKPOINT_EVENT } from '../ledger/ledger-record.js';
import { MerkleTree } from '../ledger/merkle-tree.js';
import type { Clock } from '../ledger/ports.js';
import type { Finding, Verdict } from './attestation.js';
import {
  checkAgainstWitness,
  readWitness,
  type LedgerSource,
  ledgerFinding,
  type PartitionScan,
  scanPartition,
} from './partition-scan.js';
import { verdictOf } from './product-verifier.js';
import type { ProjectionPosition } from './read-model-check.js';
import type { ReadModelReplay } from './read-model-replay.js';
import { RecordDecodePool } from '../ledger/adapters/record-decode-pool.js';
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
  /** The read models compared: the projection's position, and the rows of each table the ledger's records make up to it. */
  readonly readModel: { readonly projectedTo: number; readonly rowsCompared: Record<string, number> } | null;
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
  /** Starts the replay the read models are held against (none: the ledger alone is audited). */
  readonly readModel: (() => Promise<ReadModelReplay>) | null;
  readonly clock: Clock;
  readonly maxFindings?: number;
  /** Worker threads that decode and hash records while the audit's thread reads and walks the chain (default 0: none). */
  readonly threads?: number;
}

const REPLAY_BATCH = 2_000;

/**
 * The full audit (docs/attestation-format.md §6): every partition read from genesis and
 * verified (every record, link and checkpoint; each checkpoint's tree is recomputed over the
 * records before it, so consecutive checkpoints are prefixes of one tree), held against the
 * witness, and the read models held against the records: the ledger is replayed through the
 * projector's own fold up to the projection's position, and every row of every table compared.
 */
export class LedgerAudit {
  constructor(private readonly options: LedgerAuditOptions) {}

  async run(onProgress: (progress: AuditProgress) => void = () => undefined): Promise<AuditReport> {
    const { source } = this.options;
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
    const threads = this.options.threads ?? 0;
    // Before the replay's transaction opens: a pool that cannot start leaves nothing open.
    const pool = threads > 0 ? RecordDecodePool.start(threads) : null;
    const replay = this.options.readModel ? await this.options.readModel() : null;
    let broken = false;

    try {
      for (let partition = 0; partition < source.partitions; partition++) {
        const position = replay?.position(partition) ?? null;
        const projectedTo = position?.nextSequence ?? 0;
        let checkpoints = 0;
        let batch: StoredRecord[] = [];
        const witnessed = await readWitness(this.options.witness, source, partition);
        const scan = await scanPartition(
          source,
          partition,
          async (stored) => {
            verifiedSoFar += 1;
            if (stored.record.eventType === CHECKPOINT_EVENT) checkpoints += 1;
            if (!replay || stored.record.sequence >= projectedTo) return;
            batch.push(stored);
            if (batch.length >= REPLAY_BATCH) {
              await replay.replay(partition, batch);
              batch = [];
            }
          },
          {
            onProgress: (recordsRead) => {
              onProgress({ partition, partitions: source.partitions, recordsRead, recordsVerified: verifiedSoFar });
            },
            pool,
          },
        );
        await replay?.replay(partition, batch);
        if (scan.problem) {
          broken = true;
          note(ledgerFinding(scan.problem));
        }
        const witness = checkAgainstWitness(witnessed, scan);
        for (const finding of witness.findings) note(finding);
        if (replay && !scan.problem) for (const finding of positionFindings(partition, position, scan)) note(finding);
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
          readModel: replay ? { projectedTo, rowsCompared: await replay.rowsReplayed(partition) } : null,
        });
      }
      // A ledger that does not verify is the finding; the read models are compared only with a ledger that does.
      if (replay && !broken) {
        const compared = await replay.compare(maxFindings);
        for (const finding of compared.findings) note(finding);
        omitted += compared.omitted;
      }
    } finally {
      await pool?.close();
      await replay?.end();
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

/**
 * The projection's position must be a place in the verified chain: not past its end, with the
 * hash of the record before it and the Merkle tree of the records before it (the projector
 * resumes verifying from there).
 */
function positionFindings(partition: number, position: ProjectionPosition | null, scan: PartitionScan): Finding[] {
  if (!position) return [];
  const at = (field: string, expected: string, found: string, message: string): Finding => ({
    source: 'read-model',
    kind: 'read-model',
    partition,
    offset: null,
    sequence: position.nextSequence,
    field: `projection_position.${field}`,
    expected,
    found,
    message,
  });
  const size = scan.proofs.length;
  if (position.nextSequence > size) {
    return [
      at(
        'next_sequence',
        `at most ${size}`,
        String(position.nextSequence),
        'the projection claims records past the end of the verified ledger',
      ),
    ];
  }
  const headHash = position.nextSequence > 0 ? scan.verifier.recordHashes.at(position.nextSequence - 1) : null;
  if (position.headHash !== (headHash ?? null)) {
    return [
      at(
        'head_hash',
        String(headHash),
        String(position.headHash),
        "the projection's head is not the ledger's record before its position",
      ),
    ];
  }
  let root: string;
  try {
    root = MerkleTree.fromCompactRange(position.treeSize, position.treeNodes).root();
  } catch (error) {
    return [at('tree_nodes', 'a compact range', (error as Error).message, "the projection's Merkle tree is not well-formed")];
  }
  const expectedRoot = scan.proofs.root(position.nextSequence);
  return position.treeSize !== position.nextSequence || root !== expectedRoot
    ? [at('tree_nodes', expectedRoot, root, "the projection's Merkle tree is not that of the records before its position")]
    : [];
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
      `  partition ${p.partition}: ${p.recordsVerified} of ${p.recordsRead} records verified, ${p.checkpoints} checkpoints; ${checkpoint}${witnessed}; ${readModelSummary(p.readModel)}`,
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

function readModelSummary(readModel: PartitionAudit['readModel']): string {
  if (!readModel) return 'read model not audited';
  const rows = Object.entries(readModel.rowsCompared)
    .filter(([, count]) => count > 0)
    .map(([table, count]) => `${count} ${table}`)
    .join(', ');
  return `read model at sequence ${readModel.projectedTo}: ${rows || 'no rows'} compared`;
}

import { encodeRecord } from '../ledger/record-codec.js';
import type { CheckpointSigner } from '../ledger/checkpoint-note.js';
import type { StoredRecord } from '../ledger/ledger-record.js';
import { partitionOf } from '../ledger/partitioning.js';
import type { Clock } from '../ledger/ports.js';
import {
  ATTESTATION_VERSION,
  type Attestation,
  type Finding,
  type SignedAttestation,
  signAttestation,
  type Verdict,
} from './attestation.js';
import { BUNDLE_VERSION, type BundleConsistency, type BundleRecord, type EvidenceBundle } from './evidence-bundle.js';
import type { LedgerFollower, WantedProofs } from './ledger-follower.js';
import {
  checkAgainstWitness,
  type LedgerReading,
  type LedgerSource,
  ledgerFinding,
  readWitness,
  scanPartition,
} from './partition-scan.js';
import { expectedProductRows, type ReadModelSource, rowFindings } from './read-model-check.js';
import type { ReadModelTableName } from '../projection/index.js';
import type { Witness } from './witness.js';
import { PhaseTimings } from './phase-timings.js';

/** Findings of these kinds leave the history unproven rather than disproven. */
const INCOMPLETE_KINDS = new Set(['read-model-behind', 'read-model-unavailable', 'witness-unreachable']);

/** Too many attestations wait already: they are rationed (a full read of a partition is costly). */
export class VerifierBusyError extends Error {
  override name = 'VerifierBusyError';
}

export function verdictOf(findings: readonly Finding[]): Verdict {
  if (findings.some((finding) => !INCOMPLETE_KINDS.has(finding.kind))) return 'tampered';
  return findings.length > 0 ? 'incomplete' : 'verified';
}

/** The ledger holds no record of the entity (and the partition verifies). */
export class UnknownSubjectError extends Error {
  override name = 'UnknownSubjectError';
}

/** An earlier tree size the caller asked a consistency proof from, which the ledger cannot give. */
export class BadConsistencyRequestError extends Error {
  override name = 'BadConsistencyRequestError';
}

export interface ProductVerifierOptions {
  readonly source: LedgerSource;
  readonly signer: CheckpointSigner;
  readonly witness: Witness | null;
  readonly readModel: ReadModelSource | null;
  readonly clock: Clock;
  /** How long to wait for the projector to reach the ledger's end before comparing. */
  readonly readModelWaitMs: number;
  /**
   * A verified view of the ledger kept by following it: when it reaches the topic's end in time,
   * an attestation reads only the tail written since instead of the whole partition.
   */
  readonly follower?: LedgerFollower | null;
  /** Verifications that run at once (default 2), and that may wait for a turn (default 32). */
  readonly maxConcurrent?: number;
  readonly maxWaiting?: number;
}

export interface VerifyRequest {
  /** Build the evidence bundle too. */
  readonly evidence: boolean;
  /** A tree size the auditor holds a checkpoint of: the bundle proves the ledger only grew since. */
  readonly since?: number;
}

export interface ProductVerification {
  readonly attestation: SignedAttestation;
  readonly bundle: EvidenceBundle | null;
  /** How the ledger was read: the follower's verified view and its tail, or the whole partition. */
  readonly ledgerRead: 'followed' | 'full';
  /** Where its time went (the answer's `Server-Timing` header). */
  readonly phases: PhaseTimings;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Readings of the ledger and the read model an attestation takes at most while the product keeps changing. */
const MAX_ROUNDS = 3;

/**
 * Verifies one product's full history against the ledger topic, the truth
 * (docs/attestation-format.md §1): reads its partition from genesis, verifying every record,
 * link and checkpoint; keeps the records in the product's own chain (a shipment's steps name
 * every product packed in it, so those are in it); checks the ledger against the witness; holds
 * the read model against the records; and signs what it found.
 */
export class ProductVerifier {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: ProductVerifierOptions) {}

  /** Verifies the product's history; throws VerifierBusyError when too many wait already. */
  async verify(subject: string, request: VerifyRequest): Promise<ProductVerification> {
    const phases = new PhaseTimings();
    const queued = performance.now();
    if (this.running >= (this.options.maxConcurrent ?? 2)) {
      if (this.waiting.length >= (this.options.maxWaiting ?? 32)) {
        throw new VerifierBusyError(`${this.running} verifications run and ${this.waiting.length} wait; try again shortly`);
      }
      // Woken by a verification that ends: it hands its place over (running stays the same).
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running += 1;
    phases.add('queue', performance.now() - queued);
    try {
      return await this.verifyNow(subject, request, phases);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }

  private async verifyNow(subject: string, request: VerifyRequest, phases: PhaseTimings): Promise<ProductVerification> {
    const { source } = this.options;
    const partition = partitionOf(subject, source.partitions);
    const witnessed = await phases.time('witness', () => readWitness(this.options.witness, source, partition));
    let reading: LedgerReading;
    let ledgerRead: 'followed' | 'full';
    let findings: Finding[];
    let witness: ReturnType<typeof checkAgainstWitness>;
    // The read model is held against the ledger in a snapshot that the ledger read must reach.
    // A step of the product recorded between the two moves that moment on: read again (a few
    // times at most; then the newest steps are reported as not projected yet).
    // The proofs the attestation gives (a follower reading from a snapshot checks them first):
    // inclusion for evidence, consistency from a witness's tree size and a requested one.
    const wanted: WantedProofs = {
      inclusion: request.evidence,
      fromSizes: [
        ...('held' in witnessed && witnessed.held ? [witnessed.held.treeSize] : []),
        ...(request.evidence && request.since !== undefined ? [request.since] : []),
      ],
    };
    for (let round = 1; ; round += 1) {
      ({ reading, ledgerRead } = await this.read(partition, subject, wanted, phases));
      findings = reading.problem ? [ledgerFinding(reading.problem)] : [];
      if (!reading.problem && reading.history.length === 0)
        throw new UnknownSubjectError(`the ledger holds no record of ${subject}`);
      witness = checkAgainstWitness(witnessed, reading);
      findings.push(...witness.findings);
      if (findings.length > 0) break;
      let check: ReadModelCheck;
      try {
        check = await this.readModelFindings(subject, partition, reading, round === MAX_ROUNDS, wanted, phases);
      } catch (error) {
        findings.push({
          source: 'read-model',
          kind: 'read-model-unavailable',
          partition,
          offset: null,
          sequence: null,
          entityId: subject,
          message: `the read model could not be read: ${(error as Error).message}`,
        });
        break;
      }
      if (check.newer) continue;
      if (check.reading) reading = check.reading;
      findings.push(...check.findings);
      break;
    }
    const { history } = reading;

    const checkpoint = reading.checkpoint;
    const attestation: Attestation = {
      attestationVersion: ATTESTATION_VERSION,
      ledgerId: source.ledgerId,
      partition,
      subject,
      verdict: verdictOf(findings),
      findings,
      steps: history.length,
      firstRecordHash: history[0]?.hash ?? null,
      lastRecordHash: history.at(-1)?.hash ?? null,
      genesisHash: reading.genesis?.hash ?? null,
      checkpoint,
      witnessed: witness.witnessed,
      verifiedAt: this.options.clock.now().toISOString(),
      verifierKeyName: this.options.signer.keyName,
      verifierKeyId: this.options.signer.keyId,
    };
    const signed = phases.timeSync('sign', () => signAttestation(attestation, this.options.signer));
    if (!request.evidence) return { attestation: signed, bundle: null, ledgerRead, phases };
    const t0 = performance.now();

    const size = checkpoint?.treeSize ?? 0;
    const evidence = (stored: StoredRecord): BundleRecord => ({
      offset: stored.offset,
      record: Buffer.from(encodeRecord(stored.record).bytes).toString('utf8'),
      inclusionProof: stored.record.sequence < size ? reading.proofs.inclusionProof(stored.record.sequence, size) : [],
    });
    const consistency: BundleConsistency[] = [];
    const proofFrom = (reason: BundleConsistency['reason'], fromTreeSize: number): BundleConsistency => ({
      reason,
      fromTreeSize,
      fromRootHash: reading.proofs.root(fromTreeSize),
      proof: reading.proofs.consistencyProof(fromTreeSize, size),
    });
    if (witness.witnessed && witness.witnessed.treeSize <= size)
      consistency.push(proofFrom('witness', witness.witnessed.treeSize));
    if (request.since !== undefined) {
      if (request.since < 1 || request.since > size) {
        throw new BadConsistencyRequestError(`since: a tree size between 1 and ${size}, the size of the latest checkpoint`);
      }
      consistency.push(proofFrom('requested', request.since));
    }
    const bundle: EvidenceBundle = {
      bundleVersion: BUNDLE_VERSION,
      attestation: signed,
      genesis: reading.genesis ? evidence(reading.genesis) : null,
      records: history.map(evidence),
      consistency,
    };
    phases.add('evidence', performance.now() - t0);
    return { attestation: signed, bundle, ledgerRead, phases };
  }

  /** The partition as the follower verified it to its end now, or else read from Kafka from offset 0. */
  private async read(
    partition: number,
    subject: string,
    wanted: WantedProofs,
    phases: PhaseTimings,
  ): Promise<{ reading: LedgerReading; ledgerRead: 'followed' | 'full' }> {
    const followed = (await this.options.follower?.reading(partition, subject, wanted, phases)) ?? null;
    return followed
      ? { reading: followed, ledgerRead: 'followed' }
      : { reading: await phases.time('full-read', () => this.readPartition(partition, subject)), ledgerRead: 'full' };
  }

  /** The partition read from Kafka from offset 0 and verified, keeping the subject's records. */
  private async readPartition(partition: number, subject: string): Promise<LedgerReading> {
    const history: StoredRecord[] = [];
    // A holder: TypeScript cannot see the callback assign a local.
    const first: { genesis: StoredRecord | null } = { genesis: null };
    const scan = await scanPartition(this.options.source, partition, (stored) => {
      if (stored.record.sequence === 0) first.genesis = stored;
      if (stored.record.entities.some((entity) => entity.id === subject)) history.push(stored);
    });
    return { ...scan, genesis: first.genesis, history };
  }

  /**
   * Every read-model row that concerns the product, held against what its verified records fold
   * to: custody_events, entity_history, products, containment and lineage. The rows are read in
   * one snapshot with the projection's position, after waiting for the projector to reach the
   * ledger's end; the records compared are those before that position. When the projector is
   * further on than the ledger read (it projected steps written since), the ledger is read again
   * to reach it; a step of the product past the snapshot is `newer` (the caller reads again).
   */
  private async readModelFindings(
    subject: string,
    partition: number,
    first: LedgerReading,
    lastRound: boolean,
    wanted: WantedProofs,
    phases: PhaseTimings,
  ): Promise<ReadModelCheck> {
    const readModel = this.options.readModel;
    if (!readModel) return { findings: [], newer: false };
    const deadline = Date.now() + this.options.readModelWaitMs;
    const sequences = first.history.map((stored) => stored.record.sequence);
    const rows = () => phases.time('rows', () => readModel.productSnapshot(subject, partition, sequences));
    // The snapshot carries the projection's position: when the projector has reached the
    // ledger's end already (as at rest), one round trip; else wait for it, then read the rows.
    let snapshot = await rows();
    if (snapshot.position < first.size) {
      await phases.time('projected', async () => {
        let projectedTo = await readModel.projectedTo(partition);
        while (projectedTo < first.size && Date.now() < deadline) {
          await sleep(50);
          projectedTo = await readModel.projectedTo(partition);
        }
      });
      snapshot = await rows();
    }
    const position = snapshot.position;
    let reading = first;
    if (position > reading.size) {
      reading = (await this.read(partition, subject, wanted, phases)).reading;
      if (reading.problem || reading.size < position) {
        throw new Error(`the projection stands at sequence ${position}, past the ledger read to ${reading.size}`);
      }
    }
    const before = reading.history.filter((stored) => stored.record.sequence < position);
    const after = reading.history.find((stored) => stored.record.sequence >= position);
    const recordAt = (sequence: number) => reading.history.find((stored) => stored.record.sequence === sequence);
    const expected = phases.timeSync('fold', () => expectedProductRows(subject, before));
    const findings = phases.timeSync('check', () =>
      (Object.keys(expected) as ReadModelTableName[]).flatMap((table) =>
        rowFindings(table, expected[table] ?? [], snapshot.rows[table] ?? [], {
          partition,
          position,
          entityId: subject,
          recordAt,
        }),
      ),
    );
    if (after && findings.length === 0) {
      if (position >= first.size && !lastRound) return { findings: [], newer: true, reading };
      findings.push({
        source: 'read-model',
        kind: 'read-model-behind',
        partition,
        offset: after.offset,
        sequence: after.record.sequence,
        entityId: subject,
        expected: `projected past sequence ${after.record.sequence}`,
        found: `projected up to sequence ${position - 1}`,
        message: 'the read model has not projected this step yet',
      });
    }
    return { findings, newer: false, reading };
  }
}

/** What holding the read model against a reading of the ledger found. */
interface ReadModelCheck {
  readonly findings: Finding[];
  /** The product has a step newer than the read model's snapshot: read both again. */
  readonly newer: boolean;
  /** The reading the snapshot was compared with, when the ledger had to be read again to reach it. */
  readonly reading?: LedgerReading;
}

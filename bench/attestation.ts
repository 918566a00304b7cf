/**
 * Attestation latency, evidence bundle sizes and full-audit speed, in one run
 * (`npm run bench -- --only attestation`).
 *
 * Writes a ledger through the Kafka writer: `background` records of other entities, with three
 * products of 10, 100 and 1,000 steps spread through it. Then measures, against the real
 * broker: attestations of each product (ProductVerifier, which reads and verifies the
 * product's whole partition from Kafka), with and without the evidence bundle; the offline
 * check of each bundle (what custodian-verify does); and a full audit of the ledger (no read
 * model). Baselines in the same run: reading the partition from Kafka without verifying it,
 * and the raw SHA-256 rate of @noble/hashes and node:crypto on inputs of the ledger's mean
 * record size.
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafkaLedgerWriter } from '../src/ledger/adapters/kafka-ledger-writer.js';
import { readPartition } from '../src/ledger/adapters/kafka-partition-reader.js';
import { CheckpointSigner, CheckpointVerifier } from '../src/ledger/checkpoint-note.js';
import { defaultAuditThreads } from '../src/infrastructure/config/config.js';
import { systemClock } from '../src/ledger/ports.js';
import { checkEvidenceBundle } from '../src/verification/evidence-bundle.js';
import { LedgerAudit } from '../src/verification/ledger-audit.js';
import type { LedgerSource } from '../src/verification/partition-scan.js';
import type { LedgerFollower } from '../src/verification/ledger-follower.js';
import { ProductVerifier, type VerifyRequest } from '../src/verification/product-verifier.js';
import { kafkaLedgerFollower } from '../src/verification/verification-parts.js';
import { MemoryGenesisPins } from '../test/support/memory-ledger.js';
import { sha256Rates, typicalStep } from './cpu.js';
import { closeSettled, createBenchTopic } from './support/kafka.js';
import {
  type BenchContext,
  type Benchmark,
  measure,
  median,
  ms,
  percentile,
  ratio,
  rateWithSpread,
  type Measured,
  whole,
} from './support/suite.js';

export const attestation: Benchmark = {
  id: 'attestation',
  title: 'Attestations, evidence bundles and the full audit',
  run: measureAttestations,
};

async function measureAttestations({ quick, kafka, progress }: BenchContext): Promise<Measured> {
  const background = quick ? 2_000 : 20_000;
  const followedRuns = quick ? 20 : 200;
  const fullRuns = quick ? 3 : 10;
  const fixed = (n: number, digits = 1) => n.toFixed(digits);
  const topic = `bench.attestation.${randomUUID().slice(0, 8)}`;
  const ledgerId = `bench-${randomUUID().slice(0, 8)}`;
  await createBenchTopic(kafka, topic);
  const ledgerSigner = new CheckpointSigner(`custodian/${ledgerId}`, CheckpointSigner.generateSecretKey());
  const attestationSigner = new CheckpointSigner(`custodian-verifier/${ledgerId}`, CheckpointSigner.generateSecretKey());
  const ledgerKey = new CheckpointVerifier(ledgerSigner.keyName, ledgerSigner.publicKey);
  const newWriter = () =>
    createKafkaLedgerWriter({ kafka, topic, ledgerId, partitions: 1, signer: ledgerSigner, pins: new MemoryGenesisPins() });
  const writer = newWriter();
  await writer.start();

  // The three products' steps are spread evenly through the background records.
  const sizes = [10, 100, 1000];
  const steps = sizes.flatMap((size) =>
    Array.from({ length: size }, (_, i) => ({ product: `/01/09506000134352/21/P${size}`, i, size })),
  );
  const total = background + steps.length;
  const every = Math.max(1, Math.floor(total / steps.length));
  const started = performance.now();
  let written = 0;
  let next = 0;
  const order = [...steps].sort((a, b) => a.i / a.size - b.i / b.size);
  while (written < total) {
    const batch: Promise<unknown>[] = [];
    for (let k = 0; k < 500 && written < total; k++, written++) {
      const step = written % every === 0 ? order[next++] : undefined;
      batch.push(
        writer.append({
          eventId: randomUUID(),
          eventType: step ? 'custody.handover' : 'custody.inspect',
          entityIds: [step ? step.product : `/01/09506000134352/21/B${written}`],
          occurredAt: new Date(Date.UTC(2026, 0, 1) + written * 1000).toISOString(),
          actor: 'bench',
          payload: { party: '4012345000009', location: '4012345000016', note: 'bench record with a payload of typical size' },
        }),
      );
    }
    await Promise.all(batch);
  }
  // Steps the even spread did not place yet.
  for (; next < order.length; next++) {
    const step = order[next]!;
    await writer.append({
      eventId: randomUUID(),
      eventType: 'custody.handover',
      entityIds: [step.product],
      occurredAt: '2026-06-01T00:00:00Z',
      actor: 'bench',
      payload: { party: '4012345000009', location: '4012345000016', note: 'bench record with a payload of typical size' },
    });
  }
  await closeSettled(writer, kafka, topic);
  progress(`wrote ${total} records in ${fixed((performance.now() - started) / 1000)} s`);

  const source: LedgerSource = {
    ledgerId,
    partitions: 1,
    ledgerKey,
    genesisPin: () => Promise.resolve(null),
    read: (partition) => readPartition(kafka, topic, partition),
  };
  const verifierWith = (follower: LedgerFollower | null) =>
    new ProductVerifier({
      source,
      signer: attestationSigner,
      witness: null,
      readModel: null,
      clock: systemClock,
      readModelWaitMs: 0,
      follower,
    });
  const full = verifierWith(null);
  // The follower reads the partition from offset 0 once (timed: its verification rate), then
  // each attestation waits only for the tail.
  const follower = kafkaLedgerFollower(kafka, topic, source, {
    spillDir: join(tmpdir(), 'custodian-bench-follower'),
    catchUpWaitMs: 120_000,
  });
  const followStart = performance.now();
  await follower.start();
  const followed = verifierWith(follower);
  await followed.verify('/01/09506000134352/21/P10', { evidence: false });
  const followSeconds = (performance.now() - followStart) / 1000;

  // Baseline: the partition read from Kafka without verification.
  let bytes = 0;
  let records = 0;
  const readTimes: number[] = [];
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    bytes = 0;
    records = 0;
    for await (const entry of readPartition(kafka, topic, 0)) {
      bytes += entry.value.length;
      records += 1;
    }
    readTimes.push(performance.now() - t0);
  }
  const meanRecord = Math.round(bytes / records);

  const attestations: {
    steps: number;
    p50: number;
    p99: number;
    evidenceP50: number;
    evidenceP99: number;
    fullP50: number;
    fullP99: number;
    bundleBytes: number;
    checkMs: number;
  }[] = [];
  const attestationKey = new CheckpointVerifier(attestationSigner.keyName, attestationSigner.publicKey);
  const timed = async (verifier: ProductVerifier, product: string, size: number, request: VerifyRequest, times: number[]) => {
    const t0 = performance.now();
    const result = await verifier.verify(product, request);
    times.push(performance.now() - t0);
    const { verdict, steps } = result.attestation.attestation;
    if (verdict !== 'verified' || steps !== size) throw new Error(`P${size}: ${verdict}, ${steps} steps`);
    if (result.ledgerRead !== (verifier === full ? 'full' : 'followed')) throw new Error(`P${size}: read ${result.ledgerRead}`);
    return result;
  };
  for (const size of sizes) {
    const product = `/01/09506000134352/21/P${size}`;
    const plain: number[] = [];
    const withEvidence: number[] = [];
    const fullRead: number[] = [];
    let bundleBytes = 0;
    let checkMs = 0;
    for (let run = 0; run < followedRuns; run++) {
      await timed(followed, product, size, { evidence: false }, plain);
      const { bundle } = await timed(followed, product, size, { evidence: true, since: 1 }, withEvidence);
      const text = JSON.stringify(bundle);
      bundleBytes = Buffer.byteLength(text);
      const t0 = performance.now();
      const check = checkEvidenceBundle(JSON.parse(text), { ledgerKey, attestationKey });
      checkMs = performance.now() - t0;
      if (check.failures.length > 0) throw new Error(check.failures.join('; '));
    }
    for (let run = 0; run < fullRuns; run++) await timed(full, product, size, { evidence: false }, fullRead);
    attestations.push({
      steps: size,
      p50: percentile(plain, 50),
      p99: percentile(plain, 99),
      evidenceP50: percentile(withEvidence, 50),
      evidenceP99: percentile(withEvidence, 99),
      fullP50: percentile(fullRead, 50),
      fullP99: percentile(fullRead, 99),
      bundleBytes,
      checkMs,
    });
    progress(`P${size}: followed p50 ${fixed(percentile(plain, 50))} ms, full read p50 ${fixed(percentile(fullRead, 50))} ms`);
  }

  const recoveries: number[] = [];
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    const recovered = newWriter();
    await recovered.start();
    recoveries.push(records / ((performance.now() - t0) / 1000));
    await recovered.close();
  }
  progress(`writer recovery ${Math.round(median(recoveries))} records/s`);

  // The audit as `npm run audit` runs it (AUDIT_THREADS' default), and on its own thread alone,
  // alternated: the second is what every audit did before it decoded in worker threads.
  const auditThreads = defaultAuditThreads();
  const audits: number[] = [];
  const auditsAlone: number[] = [];
  for (let run = 0; run < 3; run++) {
    for (const [threads, rates] of [
      [auditThreads, audits],
      [0, auditsAlone],
    ] as const) {
      const report = await new LedgerAudit({ source, witness: null, readModel: null, clock: systemClock, threads }).run();
      if (report.verdict !== 'verified') throw new Error(report.summary);
      rates.push(report.partitions[0]!.recordsVerified / report.seconds);
    }
  }
  progress(
    `audit ${Math.round(median(audits))} records/s with ${auditThreads} thread(s), ${Math.round(median(auditsAlone))} alone`,
  );

  // Raw SHA-256 over inputs of the mean record size: the hashing a verifier cannot avoid.
  const { noble, openssl } = sha256Rates(meanRecord, 5);

  // The 100-step product again while a writer appends to the partition (16 callers): each
  // attestation then waits for the tail the follower has not verified yet.
  const busy = newWriter();
  await busy.start();
  const load = { writing: true, appended: 0 };
  const appenders = Array.from({ length: 16 }, async (_, caller) => {
    for (let n = 0; load.writing; n++) {
      await busy.append({
        eventId: randomUUID(),
        entityIds: [`/01/09506000134352/21/W${caller}-${n % 100}`],
        occurredAt: '2026-06-01T00:00:00Z',
        actor: 'bench',
        ...typicalStep(),
      });
      load.appended += 1;
    }
  });
  const whileWriting: number[] = [];
  const writingStart = performance.now();
  try {
    for (let run = 0; run < followedRuns; run++) {
      await timed(followed, '/01/09506000134352/21/P100', 100, { evidence: false }, whileWriting);
    }
  } finally {
    load.writing = false;
    await Promise.all(appenders);
    await busy.close();
    await follower.stop();
  }
  const writeRate = load.appended / ((performance.now() - writingStart) / 1000);
  progress(`P100 while writing ${Math.round(writeRate)} appends/s: p99 ${fixed(percentile(whileWriting, 99))} ms`);
  const read = readTimes.map((ms) => records / (ms / 1000));

  const nobleRate = measure(noble);
  const rateRow = (what: string, rates: number[]) => [
    what,
    rateWithSpread(measure(rates)),
    ratio(median(rates) / nobleRate.median),
  ];
  const figures: Record<string, number> = {
    ledgerRecords: records,
    recordBytes: meanRecord,
    nobleSha256PerSecond: nobleRate.median,
    nodeSha256PerSecond: median(openssl),
    rawReadPerSecond: median(read),
    recoveryPerSecond: median(recoveries),
    auditPerSecond: median(audits),
    auditThreads,
    auditAlonePerSecond: median(auditsAlone),
  };
  for (const a of attestations) {
    figures[`attestation${a.steps}P50Ms`] = a.p50;
    figures[`attestation${a.steps}P99Ms`] = a.p99;
    figures[`evidence${a.steps}P99Ms`] = a.evidenceP99;
    figures[`fullRead${a.steps}P50Ms`] = a.fullP50;
    figures[`bundle${a.steps}Bytes`] = a.bundleBytes;
  }
  figures.attestation100WritingP50Ms = percentile(whileWriting, 50);
  figures.attestation100WritingP99Ms = percentile(whileWriting, 99);
  figures.writingPerSecond = writeRate;
  return {
    about:
      'How long an attestation of a product takes (`ProductVerifier`, as `GET …/attestation` runs it, without a read model), ' +
      'with and without its evidence bundle, for products of 10, 100 and 1,000 steps spread through a ledger of other ' +
      "records: from the ledger follower's verified view (the default, `VERIFIER_FOLLOW`), and by a full read of the " +
      'partition from offset 0 (the fallback, and what every attestation cost before the follower). How large the bundles are ' +
      "and how long `custodian-verify`'s offline check takes. Then how fast the full " +
      'audit verifies the whole partition from Kafka, and a writer recovers its head from it, against the raw SHA-256 rate ' +
      "of `@noble/hashes` on inputs of the ledger's mean record size, with reading the partition from Kafka without " +
      'verifying it as a second baseline. The audit decodes and hashes records in worker threads (`AUDIT_THREADS`, by ' +
      'default one fewer than the cores, at least one) while its own thread reads and walks the chain; it is measured ' +
      'that way and on its own thread alone, alternated.',
    setting: `ledger of ${records} records (${meanRecord} bytes on average), one partition; ${followedRuns} attestations of each product from the follower's view, ${fullRuns} by a full read`,
    tables: [
      {
        head: [
          'product steps',
          'attestation p50 / p99 ms',
          'with evidence p50 / p99 ms',
          'full read p50 / p99 ms',
          'bundle bytes',
          'bytes per step',
          'offline check ms',
        ],
        align: ['r', 'r', 'r', 'r', 'r', 'r', 'r'],
        rows: attestations.map((a) => [
          String(a.steps),
          `${ms(a.p50)} / ${ms(a.p99)}`,
          `${ms(a.evidenceP50)} / ${ms(a.evidenceP99)}`,
          `${ms(a.fullP50)} / ${ms(a.fullP99)}`,
          whole(a.bundleBytes),
          whole(a.bundleBytes / a.steps),
          ms(a.checkMs),
        ]),
      },
      {
        head: ['the 100-step product while a writer appends (16 callers)', 'appends/s', 'attestation p50 / p99 ms'],
        align: ['l', 'r', 'r'],
        rows: [
          [
            `followed view, ${followedRuns} attestations`,
            whole(writeRate),
            `${ms(percentile(whileWriting, 50))} / ${ms(percentile(whileWriting, 99))}`,
          ],
        ],
      },
      {
        head: ['what', 'records/s (spread)', 'ratio to @noble SHA-256'],
        align: ['l', 'r', 'r'],
        rows: [
          rateRow(`raw SHA-256, @noble/hashes, ${meanRecord}-byte inputs`, noble),
          rateRow(`raw SHA-256, node:crypto (OpenSSL), ${meanRecord}-byte inputs`, openssl),
          rateRow('read the partition from Kafka, no verification', read),
          rateRow('writer recovery (fence, read and verify the partition)', recoveries),
          rateRow('ledger follower: start, read and verify the partition, first attestation (one run)', [
            records / followSeconds,
          ]),
          rateRow(
            `full audit (read, verify every record, link and checkpoint), decoding in ${auditThreads} worker thread(s)`,
            audits,
          ),
          rateRow('the same on the audit’s own thread alone (AUDIT_THREADS=0)', auditsAlone),
        ],
      },
    ],
    figures,
  };
}

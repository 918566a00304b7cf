import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Kafka } from 'kafkajs';
import { readPartition } from '../../src/ledger/adapters/kafka-partition-reader.js';
import { canonicalBytes } from '../../src/ledger/canonical-json.js';
import { CheckpointVerifier, checkpointOrigin, type SignedCheckpoint } from '../../src/ledger/checkpoint-note.js';
import type { LedgerRecord } from '../../src/ledger/ledger-record.js';
import { decodeRecord, encodeRecord } from '../../src/ledger/record-codec.js';
import type { Attestation } from '../../src/verification/attestation.js';
import { checkEvidenceBundle, type EvidenceBundle } from '../../src/verification/evidence-bundle.js';
import type { LedgerFollower } from '../../src/verification/ledger-follower.js';
import { kafkaLedgerFollower } from '../../src/verification/verification-parts.js';
import { RecordDecodePool } from '../../src/ledger/adapters/record-decode-pool.js';
import type { LedgerSource } from '../../src/verification/partition-scan.js';
import { ProductVerifier } from '../../src/verification/product-verifier.js';
import { DirectoryWitness } from '../../src/verification/witness.js';
import { uniqueName } from '../support/environment.js';
import {
  createTopic,
  type KafkaLedger,
  produceRaw,
  rawValues,
  settled,
  startKafkaLedger,
  testSigner,
} from '../support/ledger-harness.js';

/*
 * Attestations of a product on tampered copies of a real ledger. Kafka cannot change a record
 * in place, so each tampering is a copy of the ledger into a second topic with one change,
 * written by a plain producer as an outsider would; a rewrite or a fork is written by a second
 * writer that holds the (leaked) key. The verdict must name the exact place.
 */
const PRODUCT = 'p1';

describe('product attestations on tampered copies of a real ledger', () => {
  let ledger: KafkaLedger;
  let kafka: Kafka;
  let original: Uint8Array[];
  let latest: SignedCheckpoint;
  let genesisHash: string;
  let witnessDir: string;
  const record = (i: number): LedgerRecord => decodeRecord(original[i]!).record;
  const hashAt = (i: number): string => decodeRecord(original[i]!).hash;

  async function step(target: KafkaLedger, entityIds: string[], n: number): Promise<void> {
    await target.writer.append({
      eventId: crypto.randomUUID(),
      eventType: 'custody.handover',
      entityIds,
      occurredAt: '2026-11-26T08:00:00Z',
      actor: 'dock-3',
      payload: { n, note: 'Lieferschein ✓' },
    });
  }

  /** Each case runs twice: the verifier reading the whole partition, and the ledger follower's view. */
  let reading: 'full' | 'followed' = 'full';
  const followers: LedgerFollower[] = [];
  afterEach(async () => {
    for (const follower of followers.splice(0)) await follower.stop();
  });

  async function verifierFor(
    topic: string,
    options: { pin?: string | null; witness?: boolean | string; key?: CheckpointVerifier } = {},
  ): Promise<{ verify: ProductVerifier['verify'] }> {
    const signer = testSigner();
    const source: LedgerSource = {
      read: (partition) => readPartition(kafka, topic, partition),
      ledgerId: ledger.ledgerId,
      partitions: 1,
      ledgerKey: options.key ?? new CheckpointVerifier(signer.keyName, signer.publicKey),
      genesisPin: () => Promise.resolve(options.pin === undefined ? genesisHash : options.pin),
    };
    let follower: LedgerFollower | null = null;
    if (reading === 'followed') {
      follower = kafkaLedgerFollower(kafka, topic, source, {
        spillDir: join(tmpdir(), 'custodian-follower-test'),
        catchUpWaitMs: 30_000,
        // Decoding in a worker thread, as the application's follower does by default (READER_THREADS).
        reader: RecordDecodePool.start(1),
      });
      await follower.start();
      followers.push(follower);
    }
    const verifier = new ProductVerifier({
      follower,
      source,
      signer: testSigner(7),
      witness:
        options.witness === false
          ? null
          : new DirectoryWitness(
              typeof options.witness === 'string' ? options.witness : witnessDir,
              ledger.ledgerId,
              source.ledgerKey,
            ),
      readModel: null,
      clock: { now: () => new Date('2026-11-26T12:00:00Z') },
      readModelWaitMs: 0,
    });
    return {
      // Every answer must come from the way this run of the cases reads the ledger.
      verify: async (subject, request) => {
        const result = await verifier.verify(subject, request);
        expect(result.ledgerRead).toBe(reading);
        return result;
      },
    };
  }

  async function copyOf(values: readonly Uint8Array[]): Promise<string> {
    const topic = uniqueName('ledger-tampered');
    await createTopic(kafka, topic);
    await produceRaw(kafka, topic, values);
    return topic;
  }

  async function attest(topic: string, options: Parameters<typeof verifierFor>[1] = {}): Promise<Attestation> {
    return (await (await verifierFor(topic, options)).verify(PRODUCT, { evidence: false })).attestation.attestation;
  }

  beforeAll(async () => {
    ledger = await startKafkaLedger();
    kafka = ledger.kafka;
    // One batch per step: genesis + cp (0,1) | p1 (2,3) | p2 (4,5) | p1 (6,7) | p1 p2 (8,9) | p1 (10,11) | p3 (12,13)
    for (const [n, ids] of [[PRODUCT], ['p2'], [PRODUCT], [PRODUCT, 'p2'], [PRODUCT], ['p3']].entries()) {
      await step(ledger, ids, n);
    }
    await settled(ledger);
    latest = ledger.writer.heads()[0]!.lastCheckpoint!;
    await ledger.writer.close();
    original = await rawValues(kafka, ledger.topic);
    genesisHash = decodeRecord(original[0]!).hash;
    witnessDir = mkdtempSync(join(tmpdir(), 'custodian-witness-'));
    const signer = testSigner();
    await new DirectoryWitness(witnessDir, ledger.ledgerId, new CheckpointVerifier(signer.keyName, signer.publicKey)).publish(
      0,
      latest,
    );
  }, 120_000);

  describe.each(['full', 'followed'] as const)('reading the ledger %s', (mode) => {
    beforeAll(() => {
      reading = mode;
    });

    it('verifies the untouched ledger, and its bundle checks out offline, so every verdict below is the tampering', async () => {
      expect(original).toHaveLength(14);
      const topic = await copyOf(original);
      const { attestation, bundle } = await (await verifierFor(topic)).verify(PRODUCT, { evidence: true, since: 5 });
      expect(attestation.attestation).toMatchObject({
        verdict: 'verified',
        findings: [],
        steps: 4,
        firstRecordHash: hashAt(2),
        lastRecordHash: hashAt(10),
        genesisHash,
        checkpoint: latest,
        witnessed: { treeSize: latest.treeSize, rootHash: latest.rootHash },
      });
      const signer = testSigner();
      const check = checkEvidenceBundle(bundle, {
        ledgerKey: new CheckpointVerifier(signer.keyName, signer.publicKey),
        attestationKey: new CheckpointVerifier(testSigner(7).keyName, testSigner(7).publicKey),
        genesisHash,
      });
      expect(check.failures).toEqual([]);
      expect(bundle!.consistency.map((item) => item.fromTreeSize)).toEqual([13, 5]);
    });

    it('proves the ledger extends an earlier witnessed checkpoint, and refuses a witnessed checkpoint of another partition', async () => {
      const signer = testSigner();
      const key = new CheckpointVerifier(signer.keyName, signer.publicKey);
      const earlier = mkdtempSync(join(tmpdir(), 'custodian-witness-'));
      const checkpoint9 = record(9).payload as unknown as SignedCheckpoint;
      await new DirectoryWitness(earlier, ledger.ledgerId, key).publish(0, checkpoint9);
      const topic = await copyOf(original);
      const { attestation, bundle } = await (await verifierFor(topic, { witness: earlier })).verify(PRODUCT, { evidence: true });
      expect(attestation.attestation).toMatchObject({
        verdict: 'verified',
        witnessed: { treeSize: 9, rootHash: checkpoint9.rootHash },
      });
      expect(bundle!.consistency).toEqual([expect.objectContaining({ reason: 'witness', fromTreeSize: 9 })]);
      expect(bundle!.consistency[0]!.proof.length).toBeGreaterThan(0);
      const attestationKey = new CheckpointVerifier(testSigner(7).keyName, testSigner(7).publicKey);
      expect(checkEvidenceBundle(bundle, { ledgerKey: key, attestationKey }).failures).toEqual([]);
      const bent = JSON.parse(JSON.stringify(bundle)) as { consistency: { proof: string[] }[] };
      bent.consistency[0]!.proof[0] = '0'.repeat(64);
      expect(checkEvidenceBundle(bent, { ledgerKey: key, attestationKey }).failures).toEqual([
        expect.stringContaining('consistency[0]: the tree of size 9'),
      ]);

      // Checkpoints are public: one of another partition, put where partition 0's belongs, is refused.
      const foreign = mkdtempSync(join(tmpdir(), 'custodian-witness-'));
      mkdirSync(join(foreign, ledger.ledgerId, '0'), { recursive: true });
      const other = signer.sign({ ...checkpoint9, origin: checkpointOrigin(ledger.ledgerId, 1) });
      writeFileSync(join(foreign, ledger.ledgerId, '0', 'latest.json'), JSON.stringify(other));
      const refused = await attest(topic, { witness: foreign });
      expect(refused.verdict).toBe('tampered');
      expect(refused.findings[0]).toMatchObject({
        source: 'witness',
        kind: 'checkpoint',
        message: expect.stringContaining('/1, not'),
      });
    });

    it('names a modified record with the hash the chain links to and the one found', async () => {
      const values = [...original];
      const changed = encodeRecord({ ...record(6), payload: { ...record(6).payload, note: 'Lieferschein ✗' } });
      values[6] = changed.bytes;
      const attestation = await attest(await copyOf(values));
      expect(attestation.verdict).toBe('tampered');
      expect(attestation.findings[0]).toMatchObject({
        source: 'ledger',
        kind: 'modified',
        partition: 0,
        offset: '6',
        sequence: 6,
        expected: hashAt(6),
        found: changed.hash,
      });
    });

    it('names a deleted record', async () => {
      const values = [...original];
      values.splice(6, 1);
      expect((await attest(await copyOf(values))).findings[0]).toMatchObject({
        kind: 'missing',
        offset: '6',
        sequence: 7,
        expected: hashAt(6),
      });
    });

    it('names two swapped records', async () => {
      const values = [...original];
      [values[8], values[9]] = [values[9]!, values[8]!];
      expect((await attest(await copyOf(values))).findings[0]).toMatchObject({ kind: 'out-of-order', offset: '8', sequence: 9 });
    });

    it('names a duplicated record', async () => {
      const values = [...original];
      values.splice(7, 0, original[6]!);
      expect((await attest(await copyOf(values))).findings[0]).toMatchObject({ kind: 'duplicate', offset: '7', sequence: 6 });
    });

    it('names a record a raw producer injected with a correct-looking link', async () => {
      // Between the writer's batches, linked to the checkpoint before it and to p1's last record.
      const forgery: LedgerRecord = {
        ...record(10),
        eventId: crypto.randomUUID(),
        sequence: 12,
        previousHash: hashAt(11),
        entities: [{ id: PRODUCT, previousHash: hashAt(10) }],
        payload: { forged: true },
      };
      const forged = encodeRecord(forgery);
      const values = [...original.slice(0, 12), forged.bytes, ...original.slice(12)];
      const attestation = await attest(await copyOf(values));
      expect(attestation.verdict).toBe('tampered');
      expect(attestation.findings[0]).toMatchObject({ kind: 'injected', offset: '12', sequence: 12 });
      // At the end of the topic, with no checkpoint after it, it is not part of the ledger either.
      const atEnd = encodeRecord({ ...forgery, sequence: 14, previousHash: hashAt(13) });
      expect((await attest(await copyOf([...original, atEnd.bytes]))).findings[0]).toMatchObject({
        kind: 'uncovered',
        offset: '14',
        sequence: 14,
      });
    });

    it('names a checkpoint with a bad signature', async () => {
      const values = [...original];
      const checkpoint = record(7);
      values[7] = canonicalBytes({ ...checkpoint, payload: { ...checkpoint.payload, rootHash: '0'.repeat(64) } });
      expect((await attest(await copyOf(values))).findings[0]).toMatchObject({ kind: 'checkpoint', offset: '7', sequence: 7 });
    });

    it('catches the tail truncated back to an earlier checkpoint through the witness (the shorter ledger verifies alone)', async () => {
      const topic = await copyOf(original.slice(0, 10));
      const alone = await attest(topic, { witness: false });
      expect(alone.verdict).toBe('verified');
      const attestation = await attest(topic);
      expect(attestation.verdict).toBe('tampered');
      expect(attestation.findings[0]).toMatchObject({
        source: 'witness',
        kind: 'truncated',
        sequence: 10,
        expected: expect.stringContaining(`tree of size ${latest.treeSize}`),
      });
    });

    it('catches the topic rewritten from genesis: by the key with a new key, by the pin and by the witness with the leaked key', async () => {
      // One after the other: writers of one ledger id share a transactional id and fence each other.
      const rewrite = async (seed: number): Promise<KafkaLedger> => {
        const rewritten = await startKafkaLedger({ ledgerId: ledger.ledgerId, signer: testSigner(seed) });
        for (let n = 0; n < 7; n++) await step(rewritten, [PRODUCT], n);
        await settled(rewritten);
        await rewritten.writer.close();
        return rewritten;
      };
      const withNewKey = await rewrite(99);
      const withLeakedKey = await rewrite(42);
      expect((await attest(withNewKey.topic)).findings[0]).toMatchObject({ source: 'ledger', kind: 'checkpoint', offset: '1' });
      const rewrittenGenesis = decodeRecord((await rawValues(kafka, withLeakedKey.topic))[0]!).hash;
      expect((await attest(withLeakedKey.topic)).findings[0]).toMatchObject({
        source: 'ledger',
        kind: 'genesis',
        offset: '0',
        expected: genesisHash,
        found: rewrittenGenesis,
      });
      // With no pin at hand, the witness still catches it: the first 13 records have another root.
      const unpinned = await attest(withLeakedKey.topic, { pin: null });
      expect(unpinned.findings).toEqual([
        expect.objectContaining({ source: 'witness', kind: 'fork', sequence: latest.treeSize - 1, expected: latest.rootHash }),
      ]);
    });

    it('catches a chain forked by a second writer with the leaked key: in its own topic by the witness, in the same topic as injected', async () => {
      // The fork shares the ledger up to the checkpoint at sequence 9, then goes its own way.
      const forkTopic = await copyOf(original.slice(0, 10));
      const fork = await startKafkaLedger({ topic: forkTopic, ledgerId: ledger.ledgerId, signer: testSigner() });
      for (let n = 0; n < 3; n++) await step(fork, [PRODUCT], 100 + n);
      await settled(fork);
      const forkCheckpoint = fork.writer.heads()[0]!.lastCheckpoint!;
      await fork.writer.close();
      const forked = await attest(forkTopic);
      expect(forked.verdict).toBe('tampered');
      expect(forked.findings[0]).toMatchObject({ source: 'witness', kind: 'fork', expected: latest.rootHash });

      const branch = (await rawValues(kafka, forkTopic)).slice(10);
      const both = await attest(await copyOf([...original, ...branch]));
      expect(both.findings[0]).toMatchObject({ kind: 'injected', offset: '14', sequence: 10, expected: hashAt(10) });

      // Two signed checkpoints that are not consistent: an auditor holding the fork's checkpoint
      // of size 11 checks the real ledger's bundle against it and is told so.
      const original11 = decodeRecord(original[11]!).record.payload as unknown as SignedCheckpoint;
      const forkCheckpoint11 = decodeRecord((await rawValues(kafka, forkTopic))[11]!).record
        .payload as unknown as SignedCheckpoint;
      expect(forkCheckpoint11.treeSize).toBe(11);
      expect(forkCheckpoint11.rootHash).not.toBe(original11.rootHash);
      const { bundle } = await (await verifierFor(await copyOf(original))).verify(PRODUCT, { evidence: true, since: 11 });
      const signer = testSigner();
      const keys = {
        ledgerKey: new CheckpointVerifier(signer.keyName, signer.publicKey),
        attestationKey: new CheckpointVerifier(testSigner(7).keyName, testSigner(7).publicKey),
      };
      expect(checkEvidenceBundle(bundle, { ...keys, knownCheckpoint: original11 }).failures).toEqual([]);
      expect(checkEvidenceBundle(bundle, { ...keys, knownCheckpoint: forkCheckpoint11 }).failures).toEqual([
        expect.stringContaining('no proof that the known checkpoint of tree size 11'),
      ]);
      expect(checkEvidenceBundle(bundle, { ...keys, knownCheckpoint: forkCheckpoint }).failures).toEqual([
        expect.stringMatching(/known checkpoint: of tree size 15, larger than the attestation's 13: the ledger was truncated/),
      ]);
      // And a bundle whose consistency proof is bent to the fork's root does not pass either.
      const bent = JSON.parse(JSON.stringify(bundle)) as EvidenceBundle & { consistency: { fromRootHash: string }[] };
      bent.consistency[1]!.fromRootHash = forkCheckpoint11.rootHash;
      expect(checkEvidenceBundle(bent, { ...keys, knownCheckpoint: forkCheckpoint11 }).failures).toEqual([
        expect.stringContaining('consistency[1]: the tree of size 11'),
      ]);
    });
  });
});

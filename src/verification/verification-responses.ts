import { Type } from '@sinclair/typebox';
import { nullable, Sha256HexSchema } from '../infrastructure/http/api-schemas.js';

/**
 * What the verification routes answer, for the OpenAPI document. The attestation and the
 * evidence bundle are contracts of their own (docs/attestation-format.md, attestation.ts,
 * evidence-bundle.ts); these schemas describe them, they do not define them.
 */
const VERDICT = Type.Union([Type.Literal('verified'), Type.Literal('tampered'), Type.Literal('incomplete')]);

const FindingSchema = Type.Object({
  source: Type.Union([Type.Literal('ledger'), Type.Literal('witness'), Type.Literal('read-model')]),
  kind: Type.String(),
  partition: Type.Integer(),
  offset: nullable(Type.String()),
  sequence: nullable(Type.Integer()),
  entityId: Type.Optional(Type.String()),
  field: Type.Optional(Type.String()),
  expected: Type.Optional(Type.String()),
  found: Type.Optional(Type.String()),
  message: Type.String(),
});

const SignedCheckpointSchema = Type.Object(
  {
    origin: Type.String(),
    treeSize: Type.Integer(),
    rootHash: Sha256HexSchema,
    headHash: Sha256HexSchema,
    time: Type.String(),
    keyName: Type.String(),
    keyId: Type.String(),
    signature: Type.String({ description: 'base64 Ed25519 signature' }),
    note: Type.String({ description: 'the whole signed note' }),
  },
  { description: 'a signed checkpoint (docs/ledger-format.md)' },
);

const TreeHead = Type.Object({ treeSize: Type.Integer(), rootHash: Sha256HexSchema });

export const SignedAttestationSchema = Type.Object(
  {
    attestation: Type.Object({
      attestationVersion: Type.Literal(1),
      ledgerId: Type.String(),
      partition: Type.Integer(),
      subject: Type.String(),
      verdict: VERDICT,
      findings: Type.Array(FindingSchema),
      steps: Type.Integer(),
      firstRecordHash: nullable(Sha256HexSchema),
      lastRecordHash: nullable(Sha256HexSchema),
      genesisHash: nullable(Sha256HexSchema),
      checkpoint: nullable(SignedCheckpointSchema),
      witnessed: nullable(TreeHead),
      verifiedAt: Type.String(),
      verifierKeyName: Type.String(),
      verifierKeyId: Type.String(),
    }),
    signature: Type.Object({
      algorithm: Type.Literal('ed25519'),
      keyName: Type.String(),
      keyId: Type.String(),
      value: Type.String({ description: 'base64 Ed25519 signature over the domain and the canonical attestation' }),
    }),
  },
  { title: 'SignedAttestation', description: 'docs/attestation-format.md §2' },
);

const BundleRecordSchema = Type.Object({
  offset: Type.String(),
  record: Type.String({ description: "the record's canonical JSON text, as stored" }),
  inclusionProof: Type.Array(Sha256HexSchema),
});

export const EvidenceBundleSchema = Type.Object(
  {
    bundleVersion: Type.Literal(1),
    attestation: SignedAttestationSchema,
    genesis: nullable(BundleRecordSchema),
    records: Type.Array(BundleRecordSchema),
    consistency: Type.Array(
      Type.Object({
        reason: Type.Union([Type.Literal('witness'), Type.Literal('requested')]),
        fromTreeSize: Type.Integer(),
        fromRootHash: Sha256HexSchema,
        proof: Type.Array(Sha256HexSchema),
      }),
    ),
  },
  { title: 'EvidenceBundle', description: 'docs/attestation-format.md §3' },
);

export const AttestationAnswerSchema = Type.Union([SignedAttestationSchema, EvidenceBundleSchema], {
  description: 'the signed attestation; with evidence=true or since, the evidence bundle that carries it',
});

export const VerificationKeysSchema = Type.Object({
  ledgerKey: Type.String({ description: 'the verifier key of the checkpoints' }),
  attestationKey: Type.String({ description: 'the verifier key of the attestations' }),
});

const AuditReportSchema = Type.Object(
  {
    ledgerId: Type.String(),
    verdict: VERDICT,
    startedAt: Type.String(),
    finishedAt: Type.String(),
    seconds: Type.Number(),
    recordsPerSecond: Type.Number(),
    partitions: Type.Array(
      Type.Object({
        partition: Type.Integer(),
        recordsRead: Type.Integer(),
        recordsVerified: Type.Integer(),
        checkpoints: Type.Integer(),
        genesisHash: nullable(Sha256HexSchema),
        lastCheckpoint: nullable(Type.Object({ treeSize: Type.Integer(), rootHash: Sha256HexSchema, time: Type.String() })),
        witnessed: nullable(TreeHead),
        readModel: nullable(
          Type.Object({
            projectedTo: Type.Integer({ description: "the projection's position the read models were compared at" }),
            rowsCompared: Type.Record(Type.String(), Type.Integer(), {
              description: "per table, the rows the ledger's records make up to that position",
            }),
          }),
        ),
      }),
    ),
    findings: Type.Array(FindingSchema),
    findingsOmitted: Type.Integer(),
    summary: Type.String(),
  },
  { description: 'docs/attestation-format.md §6' },
);

export const AuditJobSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  status: Type.Union([Type.Literal('running'), Type.Literal('finished'), Type.Literal('failed')]),
  startedAt: Type.String(),
  progress: nullable(
    Type.Object({
      partition: Type.Integer(),
      partitions: Type.Integer(),
      recordsRead: Type.Integer(),
      recordsVerified: Type.Integer(),
    }),
  ),
  report: nullable(AuditReportSchema),
  error: nullable(Type.String({ description: 'why a failed audit could not finish' })),
});

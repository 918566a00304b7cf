import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import { AccessFor } from '../infrastructure/auth/access.js';
import { type Answer, ApiAnswer, nullable, Sha256HexSchema } from '../infrastructure/http/api-schemas.js';
import { CheckpointSigner } from '../ledger/checkpoint-note.js';
import { LedgerWriter } from '../ledger/ledger-writer.js';

const PublicKeySchema = Type.Object({
  algorithm: Type.Literal('Ed25519'),
  keyName: Type.String({ description: 'the signed-note key name checkpoints are signed under' }),
  keyId: Type.String({ description: 'the signed-note key id, 8 hex digits' }),
  publicKey: Type.String({ description: 'the 32-byte Ed25519 public key, base64' }),
  verifierKey: Type.String({ description: 'the signed-note verifier key: name+id+key, as custodian-verify takes it' }),
});
/** docs/api.md, "Ledger". */
const HeadsSchema = Type.Array(
  Type.Object({
    partition: Type.Integer(),
    status: Type.String({ description: "the writer's state: open, unavailable, fenced, failed or closed" }),
    reason: nullable(Type.String({ description: 'why the writer takes no appends (null while open)' })),
    genesisHash: nullable(Sha256HexSchema),
    nextSequence: nullable(Type.Integer({ description: "the sequence of the writer's next record" })),
    headHash: nullable(Sha256HexSchema),
  }),
  {
    description:
      'one element per partition, in partition order; a writer that found its partition broken at start holds no head (null hashes and sequence)',
  },
);

@ApiTags('ledger')
@Controller('ledger')
export class LedgerController {
  constructor(
    private readonly signer: CheckpointSigner,
    private readonly writer: LedgerWriter,
  ) {}

  /** The key that signs checkpoints: what an auditor needs to verify offline. */
  @AccessFor('public')
  @Get('public-key')
  @ApiOperation({ summary: 'The key that signs checkpoints (docs/ledger-format.md)' })
  @ApiAnswer(200, 'the checkpoint key', PublicKeySchema)
  publicKey(): Answer<typeof PublicKeySchema> {
    return {
      algorithm: 'Ed25519',
      keyName: this.signer.keyName,
      keyId: this.signer.keyId,
      publicKey: Buffer.from(this.signer.publicKey).toString('base64'),
      verifierKey: this.signer.verifierKey,
    };
  }

  /**
   * Each partition's genesis and head, for operators (the genesis can be pinned in config), and
   * why its writer takes no appends when it does not. A partition that failed to verify at start
   * has no head (null fields).
   */
  @AccessFor('read')
  @Get('heads')
  @ApiOperation({ summary: "Each partition's genesis and head, and why its writer takes no appends when it does not" })
  @ApiAnswer(200, 'one entry per partition', HeadsSchema)
  heads(): Answer<typeof HeadsSchema> {
    const statuses = this.writer.describe();
    return this.writer.heads().map((head, partition) => ({
      partition,
      status: statuses[partition]?.state ?? 'unknown',
      reason: statuses[partition]?.reason ?? null,
      genesisHash: head?.genesisHash ?? null,
      nextSequence: head?.nextSequence ?? null,
      headHash: head?.headHash ?? null,
    }));
  }
}

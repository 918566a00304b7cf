import { join } from 'node:path';
import type { CustodianConfig } from '../../infrastructure/config/config.js';
import { CheckpointSigner } from '../checkpoint-note.js';
import { loadSigningKey } from './signing-key-file.js';

/** The file the ledger's checkpoint key lives in when it is not configured. */
export function signingKeyFile(config: CustodianConfig): string {
  return join(config.dataDir, 'keys', `ledger-${config.ledger.id}.ed25519`);
}

/** The checkpoint signer of the configured ledger (LEDGER_SIGNING_KEY, or the key file). */
export async function ledgerSigner(config: CustodianConfig): Promise<{ signer: CheckpointSigner; source: string }> {
  const { seed, source } = await loadSigningKey({ configured: config.ledger.signingKey, file: signingKeyFile(config) });
  return { signer: new CheckpointSigner(`custodian/${config.ledger.id}`, seed), source };
}

import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CheckpointSigner } from '../checkpoint-note.js';

export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
}

function decodeSeed(text: string, where: string): Uint8Array {
  const seed = new Uint8Array(Buffer.from(text.trim(), 'base64'));
  if (seed.length !== 32) throw new SigningKeyError(`${where}: an Ed25519 secret key is 32 bytes, base64-encoded`);
  return seed;
}

/**
 * The writer's Ed25519 secret key: from configuration when given, else from the key file in
 * the data directory, generated there (mode 0600) on first start. Never in git.
 */
export async function loadSigningKey(options: {
  configured?: string;
  /** The configuration variable the configured key comes from, for messages. */
  variable?: string;
  file: string;
}): Promise<{ seed: Uint8Array; source: string }> {
  const variable = options.variable ?? 'LEDGER_SIGNING_KEY';
  if (options.configured) return { seed: decodeSeed(options.configured, variable), source: variable };
  try {
    return { seed: decodeSeed(await readFile(options.file, 'utf8'), options.file), source: options.file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(options.file), { recursive: true, mode: 0o700 });
  const seed = CheckpointSigner.generateSecretKey();
  try {
    // 'wx': if another process created the key meanwhile, keep theirs.
    await writeFile(options.file, `${Buffer.from(seed).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { seed: decodeSeed(await readFile(options.file, 'utf8'), options.file), source: options.file };
  }
  await chmod(options.file, 0o600);
  return { seed, source: `${options.file} (generated)` };
}

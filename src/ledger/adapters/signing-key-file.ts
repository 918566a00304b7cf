import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
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
  // Written whole to a file of its own, then linked into place: the key file appears complete or
  // not at all, so a process (or another part of this one) that loads it at the same moment never
  // reads it half written; link() fails if the file exists, and then the key already there wins.
  const written = `${options.file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(written, `${Buffer.from(seed).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(written, options.file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { seed: decodeSeed(await readFile(options.file, 'utf8'), options.file), source: options.file };
  } finally {
    await unlink(written);
  }
  return { seed, source: `${options.file} (generated)` };
}

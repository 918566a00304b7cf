#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CheckpointVerifier, type SignedCheckpoint } from '../ledger/checkpoint-note.js';
import { HASH_PATTERN } from '../ledger/hashing.js';
import { checkEvidenceBundle } from '../verification/evidence-bundle.js';

/*
 * custodian-verify: checks an evidence bundle offline (docs/attestation-format.md §4), with no
 * network and no database, using the same ledger code as the server. Exit status: 0 the bundle
 * verifies, 1 it does not (each reason printed), 2 the command was used wrongly.
 */

const USAGE = `usage: custodian-verify <bundle.json | -> --public-key <key or file> [--public-key ...]
                        [--subject <product id>] [--max-age <seconds>]
                        [--known-checkpoint <file>] [--genesis <hash>] [--json]

  --public-key        a verifier key (<name>+<key id>+<base64 key>), or a file holding such keys,
                      one per line, or the JSON of GET /verification/keys. Needed: the ledger's
                      checkpoint key (custodian/<ledger>) and the attestation key
                      (custodian-verifier/<ledger>).
  --known-checkpoint  a signed checkpoint you hold from before (JSON; an earlier attestation or
                      bundle will do): the bundle must prove the ledger only grew since.
  --subject           the product you asked about (its Digital Link path, /01/<gtin>/21/<serial>):
                      the bundle must be about it.
  --max-age           how many seconds old the attestation may be.
  --genesis           the partition's genesis hash as you pinned it.
  --json              print the result as JSON.`;

class UsageError extends Error {}

function readText(path: string): string {
  return path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
}

/** Keys given inline, as key files (one per line) or as the JSON of GET /verification/keys. */
function loadKeys(values: readonly string[]): CheckpointVerifier[] {
  const keys: CheckpointVerifier[] = [];
  for (const value of values) {
    const texts: string[] = [];
    if (/^[^\s+]+\+[0-9a-f]{8}\+/.test(value)) texts.push(value);
    else {
      let content: string;
      try {
        content = readText(value);
      } catch (error) {
        throw new UsageError(`--public-key ${value}: neither a verifier key nor a readable file (${(error as Error).message})`);
      }
      try {
        const parsed = JSON.parse(content) as Record<string, unknown>;
        texts.push(...Object.values(parsed).filter((item): item is string => typeof item === 'string'));
      } catch {
        texts.push(
          ...content
            .split('\n')
            .map((line) => line.trim())
            .filter((line) => line !== '' && !line.startsWith('#')),
        );
      }
    }
    for (const text of texts) {
      try {
        keys.push(CheckpointVerifier.fromVerifierKey(text));
      } catch (error) {
        throw new UsageError(`--public-key: ${JSON.stringify(text)} is not a verifier key: ${(error as Error).message}`);
      }
    }
  }
  return keys;
}

/** A signed checkpoint from a file: the checkpoint itself, or an attestation or bundle holding one. */
function loadCheckpoint(path: string): SignedCheckpoint {
  let value: unknown;
  try {
    value = JSON.parse(readText(path));
  } catch (error) {
    throw new UsageError(`--known-checkpoint ${path}: not a JSON file (${(error as Error).message})`);
  }
  for (let depth = 0; depth < 3 && typeof value === 'object' && value !== null && !('note' in value); depth++) {
    const holder = value as Record<string, unknown>;
    value = holder.checkpoint ?? holder.attestation;
  }
  if (typeof value !== 'object' || value === null || !('note' in value)) {
    throw new UsageError(`--known-checkpoint ${path}: holds no signed checkpoint`);
  }
  return value as SignedCheckpoint;
}

function main(argv: string[]): number {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'public-key': { type: 'string', multiple: true },
        'known-checkpoint': { type: 'string' },
        genesis: { type: 'string' },
        subject: { type: 'string' },
        'max-age': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    const [path, ...rest] = args.positionals;
    if (!path || rest.length > 0) throw new UsageError('name exactly one bundle file');
    const keys = loadKeys(args.values['public-key'] ?? []);
    if (args.values.genesis !== undefined && !HASH_PATTERN.test(args.values.genesis)) {
      throw new UsageError('--genesis: 64 lowercase hex digits');
    }
    const maxAge = args.values['max-age'];
    if (maxAge !== undefined && !/^\d{1,10}$/.test(maxAge)) throw new UsageError('--max-age: a number of seconds');
    const knownCheckpoint = args.values['known-checkpoint'] ? loadCheckpoint(args.values['known-checkpoint']) : undefined;

    let text: string;
    try {
      text = readText(path);
    } catch (error) {
      throw new UsageError(`${path}: cannot be read (${(error as Error).message})`);
    }
    let bundle: unknown;
    let failures: string[];
    let checked: string[] = [];
    try {
      bundle = JSON.parse(text);
      const ledgerId = ((bundle as { attestation?: { attestation?: { ledgerId?: unknown } } }).attestation?.attestation
        ?.ledgerId ?? '') as string;
      const ledgerKey = keys.find((key) => key.keyName === `custodian/${ledgerId}`);
      const attestationKey = keys.find((key) => key.keyName === `custodian-verifier/${ledgerId}`);
      if (!ledgerKey || !attestationKey) {
        throw new UsageError(
          `--public-key: give the keys custodian/${ledgerId} and custodian-verifier/${ledgerId} (have: ${keys.map((key) => key.keyName).join(', ') || 'none'})`,
        );
      }
      ({ failures, checked } = checkEvidenceBundle(bundle, {
        ledgerKey,
        attestationKey,
        knownCheckpoint,
        genesisHash: args.values.genesis,
        subject: args.values.subject,
        ...(maxAge === undefined ? {} : { maxAgeMs: Number(maxAge) * 1000 }),
      }));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      failures = [`${path}: not a JSON evidence bundle (${(error as Error).message})`];
    }
    const attestation = (bundle as { attestation?: { attestation?: Record<string, unknown> } } | undefined)?.attestation
      ?.attestation;
    if (args.values.json) {
      const about =
        attestation === undefined
          ? {}
          : {
              subject: attestation.subject,
              ledgerId: attestation.ledgerId,
              partition: attestation.partition,
              steps: attestation.steps,
              verdict: attestation.verdict,
              verifiedAt: attestation.verifiedAt,
              treeSize: (attestation.checkpoint as { treeSize?: unknown } | null)?.treeSize,
            };
      process.stdout.write(`${JSON.stringify({ verified: failures.length === 0, ...about, failures, checked }, null, 2)}\n`);
    } else if (failures.length === 0) {
      process.stdout.write(
        `VERIFIED: ${String(attestation?.subject)}, ${String(attestation?.steps)} steps, ledger ${String(attestation?.ledgerId)} partition ${String(attestation?.partition)}, attested ${String(attestation?.verifiedAt)}\n${checked.map((line) => `  ok  ${line}`).join('\n')}\n`,
      );
    } else {
      process.stderr.write(`NOT VERIFIED: ${path}\n${failures.map((line) => `  FAIL  ${line}`).join('\n')}\n`);
    }
    return failures.length === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`custodian-verify: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));

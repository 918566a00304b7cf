/**
 * Creates an API key: prints it once, and stores only its SHA-256 in the key file.
 *
 *   npm run api-key -- --name acme-dock-1 --role operator --party 4012345000009
 *   npm run api-key -- --name audit-firm --role auditor [--file path/to/api-keys.json]
 *
 * The file defaults to API_KEYS_FILE, else CUSTODIAN_DATA_DIR/api-keys.json (as the server reads it).
 * A running server picks the new key up by itself: it watches the file (and reloads it on SIGHUP).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { type ApiKeyEntry, hashApiKey, newApiKey, parseApiKeyFile, type Role } from '../infrastructure/auth/api-keys.js';
import { loadApiKeysFile } from '../infrastructure/config/config.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      name: { type: 'string' },
      role: { type: 'string' },
      party: { type: 'string' },
      file: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.name || !values.role) {
    console.log('usage: npm run api-key -- --name NAME --role operator|auditor|consumer [--party GLN] [--file FILE]');
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const file = values.file ?? loadApiKeysFile(process.env);
  let existing: unknown = { keys: [] };
  try {
    existing = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = newApiKey();
  const entry = { name: values.name, role: values.role as Role, party: values.party ?? null, sha256: hashApiKey(key) };
  // Checks the new entry with the old ones (a name used twice, a bad GLN) before writing anything.
  const keys: ApiKeyEntry[] = parseApiKeyFile({ keys: [...parseApiKeyFile(existing), entry] });
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(`${file}.tmp`, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
  console.log(
    `API key for ${entry.name} (${entry.role}${entry.party ? `, party ${entry.party}` : ''}), shown once:\n\n  ${key}\n`,
  );
  console.log(`Its hash is in ${file}; a running server takes it at once. Send it as "Authorization: Bearer <key>".`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});

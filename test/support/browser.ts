/**
 * Headless Chromium for the consumer page's tests and benchmark: Debian's package (installed when
 * missing by scripts/chromium.sh, which `npm test` runs first), driven by playwright-core.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** The project's root, from test/support/ or from its build in dist/test/support/ (the benchmark's). */
function projectRoot(): string {
  let directory = import.meta.dirname;
  while (!existsSync(join(directory, 'package.json')) && dirname(directory) !== directory) directory = dirname(directory);
  return directory;
}

/**
 * The flags it runs with: without the background-networking ones, Chromium's own connections
 * (component updates, sync) are refused on a machine without the internet and slow it down.
 */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  const executablePath = execFileSync('bash', [join(projectRoot(), 'scripts/chromium.sh'), 'ensure'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
  }).trim();
  // Playwright gives each launch a fresh profile directory (--user-data-dir) of its own.
  return chromium.launch({ executablePath, headless: true, args: FLAGS });
}

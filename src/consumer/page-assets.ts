import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The page's script and stylesheet, as scripts/build-browser.mjs bundles them into dist/browser/
 * (the build, the start and the test setup run it): names that carry a digest of their content,
 * so a browser may keep them for good, and a manifest naming the current two.
 */
export interface PageAssets {
  readonly script: string;
  readonly stylesheet: string;
  /** An asset by its name, or undefined for a name that is not one of the current two. */
  get(name: string): { readonly body: Buffer; readonly type: string } | undefined;
}

export class MissingBrowserBundleError extends Error {
  override name = 'MissingBrowserBundleError';
}

/** The project's root: the nearest directory above this module with a package.json (src/ or dist/src/ alike). */
function projectRoot(): string {
  let directory = import.meta.dirname;
  while (!existsSync(join(directory, 'package.json'))) {
    const parent = dirname(directory);
    if (parent === directory) throw new MissingBrowserBundleError('no package.json above the consumer module');
    directory = parent;
  }
  return directory;
}

export function loadPageAssets(directory = join(projectRoot(), 'dist', 'browser')): PageAssets {
  const manifestFile = join(directory, 'manifest.json');
  if (!existsSync(manifestFile)) {
    throw new MissingBrowserBundleError(
      `the consumer page's browser bundle is missing (${manifestFile}): run \`node scripts/build-browser.mjs\` (npm run build does)`,
    );
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { script: string; stylesheet: string };
  const files = new Map([
    [manifest.script, { body: readFileSync(join(directory, manifest.script)), type: 'text/javascript; charset=utf-8' }],
    [manifest.stylesheet, { body: readFileSync(join(directory, manifest.stylesheet)), type: 'text/css; charset=utf-8' }],
  ]);
  return { script: manifest.script, stylesheet: manifest.stylesheet, get: (name) => files.get(name) };
}

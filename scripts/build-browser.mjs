// Bundles the consumer page's script and stylesheet for the browser (docs/consumer-page.md):
//
//   node scripts/build-browser.mjs [--out dist/browser]
//
// The script is src/consumer/browser/verify-page.ts with everything it imports: the offline
// checker of evidence bundles (src/verification/evidence-bundle.ts) and the ledger core under it,
// on @noble/hashes and @noble/curves. The ledger core's two platform modules use node:crypto on
// the server; here each is replaced by its `.browser.ts` twin (platform.spec.ts holds the two to
// the same bytes). The bundle must hold no Node built-in: esbuild's browser platform refuses one,
// and test/unit/browser-bundle.spec.ts checks the output. Names carry a digest of the content
// (served as immutable); manifest.json names the current two. It takes well under a second, so
// every build, start and test setup runs it.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SCRIPT_ENTRY = join(ROOT, 'src/consumer/browser/verify-page.ts');
export const STYLESHEET_ENTRY = join(ROOT, 'src/consumer/browser/page.css');

/** The ledger core's server platform modules (node:crypto), each swapped for its browser twin. */
export const browserPlatform = {
  name: 'browser-platform',
  setup(build) {
    build.onResolve({ filter: /\/platform\/(sha256|ed25519)\.js$/ }, (args) => ({
      path: join(args.resolveDir, args.path.replace(/\.js$/, '.browser.ts')),
    }));
  },
};

/** Bundles both files in memory: { script, stylesheet } bytes, and the inputs of the script. */
export async function bundleBrowserAssets() {
  const common = {
    bundle: true,
    minify: true,
    write: false,
    target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
    logLevel: 'silent',
  };
  const script = await esbuild.build({
    ...common,
    entryPoints: [SCRIPT_ENTRY],
    format: 'esm',
    platform: 'browser',
    plugins: [browserPlatform],
    metafile: true,
    legalComments: 'eof',
  });
  const stylesheet = await esbuild.build({ ...common, entryPoints: [STYLESHEET_ENTRY], loader: { '.css': 'css' } });
  return {
    script: script.outputFiles[0].contents,
    stylesheet: stylesheet.outputFiles[0].contents,
    inputs: Object.keys(script.metafile.inputs),
  };
}

const digest = (text) => createHash('sha256').update(text).digest('hex').slice(0, 12);

export async function buildBrowserAssets(outDir = join(ROOT, 'dist/browser')) {
  const { script, stylesheet } = await bundleBrowserAssets();
  const manifest = { script: `verify.${digest(script)}.js`, stylesheet: `page.${digest(stylesheet)}.css` };
  mkdirSync(outDir, { recursive: true });
  for (const name of readdirSync(outDir)) rmSync(join(outDir, name), { force: true });
  writeFileSync(join(outDir, manifest.script), script);
  writeFileSync(join(outDir, manifest.stylesheet), stylesheet);
  writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { ...manifest, scriptBytes: script.length, stylesheetBytes: stylesheet.length };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv.indexOf('--out');
  const built = await buildBrowserAssets(out > 0 ? resolve(process.argv[out + 1]) : undefined);
  process.stderr.write(
    `[build-browser] ${built.script} (${built.scriptBytes} bytes), ${built.stylesheet} (${built.stylesheetBytes} bytes)\n`,
  );
}

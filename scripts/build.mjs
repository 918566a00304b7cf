// Compiles a TypeScript project only when its sources changed since its last build.
//
//   node scripts/build.mjs [tsconfig.build.json] [--force]
//
// The stamp is a SHA-256 over the content of every input: the files the project includes
// (its `include` and `exclude`, through `extends`), its tsconfig files, package.json and
// package-lock.json (the types of the dependencies). It is written to dist/ after a build that
// succeeded, and removed before a build starts, so a failed or interrupted build never passes
// for a fresh one. Content, not times: a checkout or a `touch` that changes nothing builds
// nothing. Shared by `npm start`, `npm run api-key` and the other commands that run from dist/.
// The consumer page's browser bundle (scripts/build-browser.mjs) is built on every run: it is quick.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBrowserAssets } from './build-browser.mjs';

const TSC = fileURLToPath(import.meta.resolve('typescript/bin/tsc'));
const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist', '.data', '.git']);

/** A tsconfig glob (`**` any directories, `*` any name part) as a regular expression on a relative path. */
function globPattern(glob) {
  const source = glob
    .split('**/')
    .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
    .join('(?:.*/)?');
  return new RegExp(`^${source}$`);
}

/** The project's tsconfig files (through `extends`), its root, include and exclude. */
function readProject(tsconfig) {
  const files = [];
  let include;
  let exclude;
  let outDir;
  for (let current = resolve(tsconfig); current;) {
    files.push(current);
    const config = JSON.parse(readFileSync(current, 'utf8'));
    include ??= config.include?.map((path) => resolve(dirname(current), path));
    exclude ??= config.exclude;
    outDir ??= config.compilerOptions?.outDir && resolve(dirname(current), config.compilerOptions.outDir);
    current = config.extends ? resolve(dirname(current), config.extends) : undefined;
  }
  const root = dirname(resolve(tsconfig));
  return { root, files, include: include ?? [root], exclude: (exclude ?? []).map(globPattern), outDir: outDir ?? root };
}

function listFiles(path, root, exclude, into) {
  if (!existsSync(path)) return into;
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) {
      if (!SKIPPED_DIRECTORIES.has(entry)) listFiles(join(path, entry), root, exclude, into);
    }
  } else if (!exclude.some((pattern) => pattern.test(relative(root, path)))) {
    into.push(path);
  }
  return into;
}

/** The digest of every input of the project. */
export function sourceDigest(tsconfig) {
  const project = readProject(tsconfig);
  const inputs = project.include.flatMap((path) => listFiles(path, project.root, project.exclude, []));
  for (const file of [...project.files, join(project.root, 'package.json'), join(project.root, 'package-lock.json')]) {
    if (existsSync(file)) inputs.push(file);
  }
  const digest = createHash('sha256');
  for (const file of [...new Set(inputs)].sort()) {
    digest.update(`${relative(project.root, file)}\0${createHash('sha256').update(readFileSync(file)).digest('hex')}\n`);
  }
  return {
    digest: digest.digest('hex'),
    files: inputs.length,
    stamp: join(project.outDir, `.build-${basename(tsconfig)}.sha256`),
  };
}

async function main() {
  const args = process.argv.slice(2);
  const tsconfig = args.find((arg) => !arg.startsWith('--')) ?? 'tsconfig.build.json';
  // The consumer page's browser bundle is built every time: it takes a fraction of a second.
  await buildBrowserAssets();
  const { digest, files, stamp } = sourceDigest(tsconfig);
  if (!args.includes('--force') && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest) return 0;
  process.stderr.write(`[build] compiling ${tsconfig}: its sources (${files} files) changed since the last build\n`);
  rmSync(stamp, { force: true });
  const started = Date.now();
  const tsc = spawnSync(process.execPath, [TSC, '-p', tsconfig], { stdio: 'inherit' });
  if (tsc.status !== 0) return tsc.status ?? 1;
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, `${digest}\n`);
  process.stderr.write(`[build] ${tsconfig} compiled in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main();

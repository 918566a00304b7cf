import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../support/test-stack.mjs';

const run = promisify(execFile);
const BUILD = join(ROOT, 'scripts/build.mjs');

/** Runs the build script on a project; its exit code and what it said. */
async function build(project: string): Promise<{ code: number; said: string }> {
  try {
    const { stderr } = await run(process.execPath, [BUILD, join(project, 'tsconfig.build.json')], { cwd: project });
    return { code: 0, said: stderr };
  } catch (error) {
    const failed = error as { code: number; stderr: string; stdout: string };
    return { code: failed.code, said: failed.stderr + failed.stdout };
  }
}

// scripts/build.mjs: what `npm start`, `npm run api-key` and the other commands run before they run dist/.
describe('the build stamp', () => {
  it('compiles when the sources changed, and only then', async () => {
    const project = mkdtempSync(join(tmpdir(), 'custodian-build-'));
    try {
      mkdirSync(join(project, 'src'));
      writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module' }));
      // A small lib keeps each compile short.
      const options = { module: 'NodeNext', strict: true, rootDir: '.', outDir: 'dist', types: [], lib: ['es5'] };
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: options }));
      writeFileSync(
        join(project, 'tsconfig.build.json'),
        JSON.stringify({ extends: './tsconfig.json', include: ['src'], exclude: ['**/*.spec.ts'] }),
      );
      const source = join(project, 'src/answer.ts');
      const output = join(project, 'dist/src/answer.js');
      writeFileSync(source, 'export const answer: number = 41;\n');

      expect(await build(project)).toEqual({ code: 0, said: expect.stringContaining('compiling') });
      expect(readFileSync(output, 'utf8')).toContain('41');
      const built = statSync(output).mtimeMs;

      // Nothing changed; a file touched but not changed; a file the project excludes: no build.
      expect(await build(project)).toEqual({ code: 0, said: '' });
      utimesSync(source, new Date(), new Date(Date.now() + 60_000));
      writeFileSync(join(project, 'src/answer.spec.ts'), 'export {};\n');
      expect(await build(project)).toEqual({ code: 0, said: '' });
      expect(statSync(output).mtimeMs).toBe(built);

      // A changed source, and a changed compiler option, build again.
      writeFileSync(source, 'export const answer: number = 42;\n');
      expect((await build(project)).said).toContain('compiling');
      expect(readFileSync(output, 'utf8')).toContain('42');
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...options, sourceMap: true } }));
      expect((await build(project)).said).toContain('compiling');
      expect(existsSync(`${output}.map`)).toBe(true);

      // A build that fails leaves no stamp: the next command compiles again, and says why it failed.
      writeFileSync(source, 'export const answer: number = "42";\n');
      const failed = await build(project);
      expect(failed.code).not.toBe(0);
      expect(failed.said).toContain('TS2322');
      expect((await build(project)).code).not.toBe(0);
      writeFileSync(source, 'export const answer: number = 43;\n');
      expect(await build(project)).toEqual({ code: 0, said: expect.stringContaining('compiling') });
      expect(await build(project)).toEqual({ code: 0, said: '' });
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  }, 120_000);
});

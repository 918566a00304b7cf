/**
 * The dependency rules (.dependency-cruiser.cjs) hold for the project, and each of them fails on
 * a tree that breaks it: a rule that cannot fail would let a wrong import through lint.
 */
import { describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';

const ROOT = resolve(import.meta.dirname, '../..');

async function violations(baseDir: string): Promise<[string, string, string][]> {
  const options = await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.cjs'));
  const result = await cruise(['src'], { ...options, baseDir, tsConfig: { fileName: join(baseDir, 'tsconfig.json') } });
  const output = result.output as ICruiseResult;
  return output.summary.violations.map((violation) => [violation.rule.name, violation.from, violation.to]);
}

/** A tree of files (path: the modules it imports), cruised with the project's rules. */
async function violationsOf(files: Record<string, string[]>): Promise<[string, string, string][]> {
  const base = mkdtempSync(join(tmpdir(), 'custodian-architecture-'));
  try {
    copyFileSync(join(ROOT, 'tsconfig.json'), join(base, 'tsconfig.json'));
    for (const [path, imports] of Object.entries(files)) {
      mkdirSync(dirname(join(base, path)), { recursive: true });
      const lines = imports.map((target, i) => `import * as m${i} from '${target}';\nexport const u${i} = m${i};`);
      writeFileSync(join(base, path), `${lines.join('\n')}\nexport const value = 1;\n`);
    }
    return await violations(base);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

describe('the dependency rules', () => {
  it('hold for the project as it is', async () => {
    expect(await violations(ROOT)).toEqual([]);
  });

  it.each<[string, Record<string, string[]>, [string, string]]>([
    [
      'ledger-core-is-self-contained',
      { 'src/ledger/record.ts': ['../infrastructure/config/config.js'], 'src/infrastructure/config/config.ts': [] },
      ['src/ledger/record.ts', 'src/infrastructure/config/config.ts'],
    ],
    ['ledger-core-is-self-contained', { 'src/ledger/writer.ts': ['@nestjs/common'] }, ['src/ledger/writer.ts', '@nestjs/common']],
    [
      'ledger-adapters-stay-in-the-ledger',
      { 'src/ledger/adapters/log.ts': ['../../custody/steps.js'], 'src/custody/steps.ts': [] },
      ['src/ledger/adapters/log.ts', 'src/custody/steps.ts'],
    ],
    [
      'gs1-is-self-contained',
      { 'src/gs1/keys.ts': ['../ledger/hashing.js'], 'src/ledger/hashing.ts': [] },
      ['src/gs1/keys.ts', 'src/ledger/hashing.ts'],
    ],
    [
      'infrastructure-knows-no-capability',
      { 'src/infrastructure/http/problems.ts': ['../../custody/decider.js'], 'src/custody/decider.ts': [] },
      ['src/infrastructure/http/problems.ts', 'src/custody/decider.ts'],
    ],
    [
      'capabilities-do-not-reach-the-edge',
      { 'src/custody/recorder.ts': ['../tools/audit.js'], 'src/tools/audit.ts': [] },
      ['src/custody/recorder.ts', 'src/tools/audit.ts'],
    ],
    [
      'data-flows-one-way',
      { 'src/custody/recorder.ts': ['../projection/projector.js'], 'src/projection/projector.ts': [] },
      ['src/custody/recorder.ts', 'src/projection/projector.ts'],
    ],
    [
      'readers-do-not-reach-each-other',
      { 'src/provenance/queries.ts': ['../verification/audit.js'], 'src/verification/audit.ts': [] },
      ['src/provenance/queries.ts', 'src/verification/audit.ts'],
    ],
    [
      'projection-does-not-reach-its-readers',
      { 'src/projection/projector.ts': ['../provenance/queries.js'], 'src/provenance/queries.ts': [] },
      ['src/projection/projector.ts', 'src/provenance/queries.ts'],
    ],
    [
      'capabilities-use-each-others-public-api',
      { 'src/verification/audit.ts': ['../projection/postgres-read-models.js'], 'src/projection/postgres-read-models.ts': [] },
      ['src/verification/audit.ts', 'src/projection/postgres-read-models.ts'],
    ],
    [
      'capabilities-use-each-others-public-api',
      { 'src/consumer/page.ts': ['../verification/product-verifier.js'], 'src/verification/product-verifier.ts': [] },
      ['src/consumer/page.ts', 'src/verification/product-verifier.ts'],
    ],
    [
      'nothing-depends-on-the-consumer-page',
      { 'src/verification/audit.ts': ['../consumer/party-registry.js'], 'src/consumer/party-registry.ts': [] },
      ['src/verification/audit.ts', 'src/consumer/party-registry.ts'],
    ],
    [
      'the-browser-script-runs-in-a-browser',
      { 'src/consumer/browser/check.ts': ['../../ledger/adapters/key-file.js'], 'src/ledger/adapters/key-file.ts': [] },
      ['src/consumer/browser/check.ts', 'src/ledger/adapters/key-file.ts'],
    ],
    [
      'the-browser-script-runs-in-a-browser',
      { 'src/consumer/browser/check.ts': ['node:fs'] },
      ['src/consumer/browser/check.ts', 'fs'],
    ],
    [
      'the-browser-script-is-a-build-input',
      { 'src/consumer/page.ts': ['./browser/check.js'], 'src/consumer/browser/check.ts': [] },
      ['src/consumer/page.ts', 'src/consumer/browser/check.ts'],
    ],
    [
      'no-module-cycles',
      { 'src/custody/a.ts': ['./b.js'], 'src/custody/b.ts': ['./a.js'] },
      ['src/custody/a.ts', 'src/custody/b.ts'],
    ],
    [
      'no-test-code-in-src',
      { 'src/custody/recorder.ts': ['../../test/support/fake.js'], 'test/support/fake.ts': [] },
      ['src/custody/recorder.ts', 'test/support/fake.ts'],
    ],
  ])('%s fails on a tree that breaks it', async (rule, files, [from, to]) => {
    expect(await violationsOf(files)).toContainEqual([rule, from, to]);
  });

  it("lets a capability import another's public API", async () => {
    expect(
      await violationsOf({
        'src/verification/audit.ts': ['../projection/index.js'],
        'src/projection/index.ts': ['./postgres-read-models.js'],
        'src/projection/postgres-read-models.ts': [],
      }),
    ).toEqual([]);
  });

  it('lets the browser script import the offline bundle checker, which no server capability may', async () => {
    expect(
      await violationsOf({
        'src/consumer/browser/check.ts': ['../../verification/evidence-bundle.js', '../step-view.js'],
        'src/consumer/step-view.ts': [],
        'src/verification/evidence-bundle.ts': [],
      }),
    ).toEqual([]);
  });

  it('no-folder-cycles fails on two folders that depend on each other, with no file cycle', async () => {
    const found = await violationsOf({
      'src/custody/a.ts': ['../ledger-module/b.js'],
      'src/ledger-module/b.ts': ['../custody/c.js'],
      'src/custody/c.ts': [],
    });
    expect(found.map(([rule]) => rule)).toContain('no-folder-cycles');
    expect(found.map(([rule]) => rule)).not.toContain('no-module-cycles');
  });
});

import { describe, expect, it } from '@jest/globals';
import { bundleBrowserAssets } from '../../scripts/build-browser.mjs';

/**
 * The consumer page's script runs the offline checker of evidence bundles in a browser: it must
 * build with the ledger core's @noble platform modules and carry nothing of Node.
 */
describe("the consumer page's browser bundle", () => {
  it('builds from the bundle checker with the browser platform modules, and holds no Node built-in', async () => {
    const { script, inputs } = await bundleBrowserAssets();
    const text = new TextDecoder().decode(script);
    expect(inputs).toEqual(
      expect.arrayContaining([
        'src/verification/evidence-bundle.ts',
        'src/ledger/record-codec.ts',
        'src/ledger/merkle-tree.ts',
        'src/ledger/checkpoint-note.ts',
        'src/ledger/platform/sha256.browser.ts',
        'src/ledger/platform/ed25519.browser.ts',
      ]),
    );
    expect(inputs).not.toContain('src/ledger/platform/sha256.ts');
    expect(inputs).not.toContain('src/ledger/platform/ed25519.ts');
    expect(inputs.filter((input) => !input.startsWith('src/') && !input.startsWith('node_modules/@noble/'))).toEqual([]);
    expect(text).not.toMatch(/\bnode:/);
    expect(text).not.toMatch(/(?<![A-Za-z])Buffer\b|\bprocess\.|\brequire\(/);
  });
});

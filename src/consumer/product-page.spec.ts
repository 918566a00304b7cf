import { describe, expect, it } from '@jest/globals';
import { PAGE_DATA_ID, type ProductPageModel, renderProductPage } from './product-page.js';

const HOSTILE = '</script><script>alert(1)</script><!--';

const model = (change: Partial<ProductPageModel> = {}): ProductPageModel => ({
  subject: '/01/09506000134352/21/A',
  product: {
    gtin: '09506000134352',
    serial: 'A',
    lot: null,
    name: HOSTILE,
    status: 'active',
    reason: null,
    holder: '4012345000009',
    location: '4012345000016',
    quantity: null,
    uom: null,
  },
  steps: [
    {
      eventType: 'product.commissioned',
      occurredAt: '2026-11-26T09:30:00Z',
      payload: { name: HOSTILE, owner: '4012345000009', location: '4012345000016' },
      via: null,
      hash: 'a'.repeat(64),
      sequence: 2,
    },
  ],
  stepsOmitted: false,
  inputs: [],
  directory: { parties: { '4012345000009': { name: HOSTILE, role: 'manufacturer', country: 'DE' } }, places: {} },
  keys: {
    ledgerKey: 'custodian/x+00000000+AAAA',
    attestationKey: 'custodian-verifier/x+00000000+AAAA',
    ledgerFingerprint: 'ab12',
  },
  assets: { script: 'verify.1.js', stylesheet: 'page.1.css' },
  ...change,
});

describe('the consumer page as HTML', () => {
  it('escapes every value it shows, and its data block cannot be closed by what it carries', () => {
    const html = renderProductPage(model());
    expect(html).not.toContain('<script>alert(1)');
    expect(html.match(/<\/script>/g)).toHaveLength(2); // the page's script element and its data block, nothing more
    const data = new RegExp(`<script type="application/json" id="${PAGE_DATA_ID}">(.*)</script>`).exec(html)?.[1];
    expect(JSON.parse(data!)).toMatchObject({
      subject: '/01/09506000134352/21/A',
      evidence: '/01/09506000134352/21/A?linkType=custodian%3Aevidence',
    });
  });

  it('names the language, the viewport and one script and stylesheet of its own, and marks the steps for the check', () => {
    const html = renderProductPage(model());
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('<script type="module" src="/assets/verify.1.js"></script>');
    expect(html).toContain(`<li class="step" id="step-1" data-hash="${'a'.repeat(64)}" data-sequence="2">`);
    expect(html).toContain('<h2 id="journey-title">Journey: 1 step</h2>');
    expect(html).not.toMatch(/https?:\/\//);
  });
});

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axe from 'axe-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { decodeRecord, encodeRecord } from '../../src/ledger/record-codec.js';
import { launchChromium } from '../support/browser.js';
import {
  type CustodyApp,
  gln,
  gtin,
  type RecordedStep,
  sgtin,
  shipmentId,
  sscc,
  startCustodyApp,
} from '../support/custody-api.js';
import { produceRaw, rawValues } from '../support/ledger-harness.js';
import { openDatabase } from '../support/projection-harness.js';

/*
 * The consumer page in a real browser (headless Chromium): a product's ten-step journey shown and
 * its evidence checked by the page's own script until it says "Verified in your browser"; the
 * same page after the evidence, the read model and the ledger were tampered with, each failure
 * named at its step; and the page read with JavaScript off. Screenshots go to test-results/.
 */
const SCREENSHOTS = resolve(import.meta.dirname, '../../test-results/consumer-page');

const MAKER = gln(71);
const PLANT = gln(72);
const MAKER_WAREHOUSE = gln(73);
const DC = gln(74, '409876');
const DC_SITE = gln(75, '409876');
const PHARMACY = gln(76, '405555');
const SHOP = gln(77, '405555');
const G = gtin(7171);
const SERIAL = 'VX-0001';
const PRODUCT = sgtin(G, SERIAL);
const PALLET = sscc(7171);
const BULK = gtin(7172);
const BLEND = gtin(7173);
const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 8, minute)).toISOString().replace('.000Z', '+00:00');

describe('the consumer page in a browser', () => {
  let app: CustodyApp;
  let browser: Browser;
  let db: DataSource;
  let handover: RecordedStep;

  const record = async (path: string, key: string, body: unknown): Promise<RecordedStep> => {
    const response = await app.client.post(path, key, body);
    expect(response.status === 201 ? 201 : response.body).toBe(201);
    return response.body;
  };

  /** Opens the product's page as a phone would, and waits for the check to reach a verdict. */
  async function openPage(context: BrowserContext, path = `/01/${G}/21/${SERIAL}`): Promise<Page> {
    const page = await context.newPage();
    const response = await page.goto(app.client.url + path);
    expect(response?.status()).toBe(200);
    await page.waitForSelector('#verdict[data-state="verified"], #verdict[data-state="failed"]', { timeout: 30_000 });
    return page;
  }

  /** The ids of the steps the check marked as failed. */
  const failedSteps = async (page: Page) =>
    Promise.all((await page.locator('li.step.failed').all()).map((step) => step.getAttribute('id')));

  const phone = () => browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    app = await startCustodyApp(
      [
        { name: 'maker', role: 'operator', party: MAKER },
        { name: 'dc', role: 'operator', party: DC },
        { name: 'pharmacy', role: 'operator', party: PHARMACY },
      ],
      { CONSUMER_RATE_LIMIT_PER_MINUTE: '1000' },
    );
    browser = await launchChromium();
    const { keys, client } = app;
    // The registry: names for every party and place, the maker's warehouse kept internal.
    const put = async (path: string, key: string, body: unknown) => {
      const response = await client.request('PUT', path, { key, body });
      expect(response.status === 200 ? 200 : response.body).toBe(200);
    };
    await put(`/registry/parties/${MAKER}`, keys.maker!, { name: 'Acme Vaccines', role: 'manufacturer', country: 'DE' });
    await put(`/registry/locations/${PLANT}`, keys.maker!, {
      party: MAKER,
      name: 'Acme plant Mainz',
      country: 'DE',
      visibility: 'public',
    });
    await put(`/registry/locations/${MAKER_WAREHOUSE}`, keys.maker!, {
      party: MAKER,
      name: 'Acme secret warehouse',
      country: 'DE',
      visibility: 'internal',
    });
    await put(`/registry/parties/${DC}`, keys.dc!, { name: 'Alpine Pharma Logistics', role: 'distributor', country: 'CH' });
    await put(`/registry/locations/${DC_SITE}`, keys.dc!, {
      party: DC,
      name: 'Alpine DC Zurich',
      country: 'CH',
      visibility: 'public',
    });
    await put(`/registry/parties/${PHARMACY}`, keys.pharmacy!, { name: 'Apotheke am Markt', role: 'pharmacy', country: 'CH' });

    // Ten steps: made, inspected, packed, dispatched, received, unpacked, inspected, handed over, inspected, handed over.
    const pallet = shipmentId(PALLET);
    await record('/products', keys.maker!, {
      gtin: G,
      serial: SERIAL,
      name: 'Influenza vaccine, 10 doses',
      owner: MAKER,
      location: PLANT,
      occurredAt: at(0),
    });
    await record('/custody/inspect', keys.maker!, {
      subject: PRODUCT,
      party: MAKER,
      location: PLANT,
      result: 'passed',
      occurredAt: at(5),
    });
    await record('/shipments', keys.maker!, {
      sscc: PALLET,
      owner: MAKER,
      origin: MAKER_WAREHOUSE,
      destination: DC_SITE,
      consignee: DC,
      occurredAt: at(10),
    });
    await record('/shipments/pack', keys.maker!, {
      shipment: pallet,
      products: [PRODUCT],
      party: MAKER,
      location: MAKER_WAREHOUSE,
      occurredAt: at(11),
    });
    await record('/shipments/dispatch', keys.maker!, {
      shipment: pallet,
      party: MAKER,
      location: MAKER_WAREHOUSE,
      occurredAt: at(12),
    });
    await record('/shipments/receive', keys.dc!, { shipment: pallet, party: DC, location: DC_SITE, occurredAt: at(40) });
    await record('/shipments/unpack', keys.dc!, {
      shipment: pallet,
      products: [PRODUCT],
      party: DC,
      location: DC_SITE,
      occurredAt: at(41),
    });
    await record('/custody/inspect', keys.dc!, {
      subject: PRODUCT,
      party: DC,
      location: DC_SITE,
      result: 'passed',
      note: 'cold chain intact',
      occurredAt: at(42),
    });
    handover = await record('/custody/handover', keys.dc!, {
      subject: PRODUCT,
      from: DC,
      to: PHARMACY,
      location: DC_SITE,
      occurredAt: at(50),
    });
    await record('/custody/inspect', keys.pharmacy!, {
      subject: PRODUCT,
      party: PHARMACY,
      location: SHOP,
      result: 'passed',
      occurredAt: at(59),
    });
    const last = await record('/products/decommission', keys.pharmacy!, {
      product: PRODUCT,
      party: PHARMACY,
      location: SHOP,
      reason: 'consumed',
      occurredAt: at(59),
    });
    // A lot made from another: 500 kg of a bulk lot blended into a lot of its own.
    await record('/products', keys.maker!, {
      gtin: BULK,
      lot: 'BULK-1',
      name: 'Antigen concentrate',
      quantity: 2000,
      uom: 'KGM',
      owner: MAKER,
      location: PLANT,
      occurredAt: at(1),
    });
    await record('/custody/transform', keys.maker!, {
      party: MAKER,
      location: PLANT,
      inputs: [{ product: `/01/${BULK}/10/BULK-1`, quantity: 500, uom: 'KGM' }],
      outputs: [{ product: `/01/${BLEND}/10/BLEND-1`, quantity: 500, uom: 'KGM' }],
      occurredAt: at(2),
    });
    // The page reads the read models: wait until the projector has the last step.
    const projected = await client.request('GET', `/products/01/${G}/21/${SERIAL}?waitFor=0:${last.receipt.sequence}`, {
      key: keys.maker!,
    });
    expect(projected.status).toBe(200);
    db = await openDatabase(app.config.database.url);
  }, 180_000);

  afterAll(async () => {
    await browser.close();
    await db.destroy();
    await app.close();
  });

  it('shows the ten-step journey and reaches "Verified in your browser", with the ledger key fingerprint', async () => {
    const context = await phone();
    try {
      const page = await openPage(context);
      expect(await page.textContent('#verdict')).toMatch(/^✓ Verified in your browser \(\d+\.\d\d s\)$/);
      expect(await page.locator('#timeline > li').count()).toBe(10);
      expect(await page.textContent('h1')).toBe('Influenza vaccine, 10 doses');
      expect(await page.locator('#timeline > li .what').allTextContents()).toEqual([
        'Made and registered: Influenza vaccine, 10 doses',
        'Inspected: passed',
        'Packed for shipping',
        'Dispatched to Alpine DC Zurich, CH',
        'Received',
        'Unpacked',
        'Inspected: passed (cold chain intact)',
        'Handed over',
        'Inspected: passed',
        'Taken out of circulation (consumed)',
      ]);
      const step8 = page.locator('#step-8');
      expect(await step8.locator('.who').textContent()).toBe(
        'Alpine Pharma Logistics (distributor) → Apotheke am Markt (pharmacy)',
      );
      expect(await step8.locator('.where').textContent()).toBe('Alpine DC Zurich, CH');
      expect(await step8.locator('.when time').getAttribute('datetime')).toBe(at(50));
      // The internal warehouse is shown as the maker's site, its name nowhere in the page.
      expect(await page.locator('#step-3 .where').textContent()).toBe('a site of Acme Vaccines (manufacturer)');
      expect(await page.locator('#step-3 .shipment').textContent()).toBe(`SSCC ${PALLET}`);
      expect(await page.content()).not.toContain('secret warehouse');
      // The fingerprint is the SHA-256 of the ledger key GET /ledger/public-key publishes.
      const key = await app.client.request<{ publicKey: string }>('GET', '/ledger/public-key');
      const { createHash } = await import('node:crypto');
      const fingerprint = createHash('sha256').update(Buffer.from(key.body.publicKey, 'base64')).digest('hex');
      expect((await page.textContent('#fingerprint'))?.replace(/ /g, '')).toBe(fingerprint);
      await page.screenshot({ path: join(SCREENSHOTS, 'verified.png'), fullPage: true });
      // The verdict and the start of the journey, on a phone (docs/images/consumer-page.png is one of these).
      await page.screenshot({
        path: join(SCREENSHOTS, 'verified-phone.png'),
        fullPage: true,
        clip: { x: 0, y: 0, width: 390, height: 1500 },
      });
    } finally {
      await context.close();
    }
  }, 60_000);
  it('shows what a lot was made from, each input linked to its own page, and verifies it', async () => {
    const context = await phone();
    try {
      const page = await openPage(context, `/01/${BLEND}/10/BLEND-1`);
      expect(await page.textContent('#verdict')).toMatch(/^✓ Verified in your browser/);
      expect(await page.locator('#timeline .what').allTextContents()).toEqual(['Made from 1 input']);
      const input = page.locator('[data-input]');
      expect(await input.getAttribute('data-input')).toBe(`/01/${BULK}/10/BULK-1`);
      expect(await input.locator('a').textContent()).toBe('Antigen concentrate');
      await input.locator('a').click();
      await page.waitForSelector('#verdict[data-state="verified"]', { timeout: 30_000 });
      expect(await page.textContent('h1')).toBe('Antigen concentrate');
      expect(await page.locator('#timeline .what').allTextContents()).toEqual([
        'Made and registered: Antigen concentrate',
        'Used to make other products',
      ]);
    } finally {
      await context.close();
    }
  });

  it('reads without JavaScript: the product, its journey and a plain "not checked", never a verdict', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    try {
      const page = await context.newPage();
      expect((await page.goto(`${app.client.url}/01/${G}/21/${SERIAL}`))?.status()).toBe(200);
      expect(await page.textContent('h1')).toBe('Influenza vaccine, 10 doses');
      expect(await page.locator('#timeline > li').count()).toBe(10);
      expect(await page.locator('#verdict').getAttribute('data-state')).toBe('unchecked');
      expect(await page.textContent('#verdict')).toContain('Not checked');
      expect(await page.textContent('body')).not.toContain('Verified in your browser');
      await page.screenshot({ path: join(SCREENSHOTS, 'no-javascript.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('is accessible: no axe-core violations of WCAG 2 A and AA (contrast included), a skip link first, headings in order', async () => {
    // axe is injected by the test, which the page's Content-Security-Policy would refuse.
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 390, height: 844 } });
    try {
      const page = await openPage(context);
      await page.addScriptTag({ content: axe.source });
      const violations = await page.evaluate<string[]>(
        `axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
           .then((result) => result.violations.map((violation) => violation.id + ': ' + violation.nodes.length))`,
      );
      expect(violations).toEqual([]);
      await page.keyboard.press('Tab');
      expect(await page.locator(':focus').textContent()).toBe('Skip to the journey');
      await page.keyboard.press('Enter');
      // The fragment navigation commits after the key press returns: wait for it (it fails after 5 s if the link goes nowhere).
      await page.waitForURL((url) => url.hash === '#journey', { timeout: 5_000 });
      expect(new URL(page.url()).hash).toBe('#journey');
      const headings = await page.locator('h1, h2').allTextContents();
      expect(headings).toEqual(['Influenza vaccine, 10 doses', 'Is this history genuine?', 'Journey: 10 steps', 'Made from']);
    } finally {
      await context.close();
    }
  });

  it('names the failure and its step when the evidence is changed on its way to the browser', async () => {
    const context = await phone();
    try {
      // One digit of the receiving site inside the fifth record's text, as a lying server or a proxy would send it.
      await context.route('**/*linkType=custodian%3Aevidence', async (route) => {
        const response = await route.fetch();
        const bundle = (await response.json()) as { records: { record: string }[] };
        const changed = bundle.records[4]!.record.replace(
          DC_SITE,
          DC_SITE.slice(0, -1) + String((Number(DC_SITE.at(-1)) + 1) % 10),
        );
        expect(changed).not.toBe(bundle.records[4]!.record);
        bundle.records[4] = { ...bundle.records[4]!, record: changed };
        await route.fulfill({ response, json: bundle });
      });
      const page = await openPage(context);
      expect(await page.locator('#verdict').getAttribute('data-state')).toBe('failed');
      expect(await page.textContent('#verdict')).toMatch(/^✗ Not verified/);
      const details = await page.locator('#check-details li').allTextContents();
      expect(details).toContainEqual(
        expect.stringMatching(
          /^records\[4\]: record [0-9a-f]{64} \(sequence \d+\) is not included in the checkpoint's tree.* \(step 5\)$/,
        ),
      );
      // The changed record no longer hashes to what the sixth record links to: that link fails too.
      expect(details).toContainEqual(
        expect.stringMatching(/^records\[5\]\.record: links to [0-9a-f]{64}, but the product's previous record .* \(step 6\)$/),
      );
      expect(await failedSteps(page)).toEqual(['step-5', 'step-6']);
      expect(await page.textContent('#step-5 .step-check')).toContain('Not verified');
      expect(await page.textContent('body')).not.toContain('Verified in your browser');
      await page.screenshot({ path: join(SCREENSHOTS, 'tampered-in-transit.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('names the failure and its step when a step is changed in the read model the page is rendered from', async () => {
    const forged = gln(99);
    await db.query(
      `UPDATE custody_events SET payload = jsonb_set(payload, '{location}', to_jsonb($1::text)) WHERE event_id = $2`,
      [forged, handover.eventId],
    );
    const context = await phone();
    try {
      const page = await openPage(context);
      expect(await page.locator('#step-8 .where').textContent()).toBe(`GLN ${forged}`);
      expect(await page.locator('#verdict').getAttribute('data-state')).toBe('failed');
      const details = await page.locator('#check-details li').allTextContents();
      // The verifier's own finding, signed, and the browser's comparison of the page with the record.
      expect(details).toContainEqual(
        expect.stringMatching(/^attestation\.verdict: the verifier found the history tampered: read-model at .* \(step 8\)$/),
      );
      expect(details).toContainEqual(
        `step 8: the page says where "GLN ${forged}", the ledger record says "Alpine DC Zurich, CH" (step 8)`,
      );
      expect(await failedSteps(page)).toEqual(['step-8']);
      await page.locator('#step-8').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SCREENSHOTS, 'tampered-read-model.png'), fullPage: true });
    } finally {
      await context.close();
      await db.query(
        `UPDATE custody_events SET payload = jsonb_set(payload, '{location}', to_jsonb($1::text)) WHERE event_id = $2`,
        [DC_SITE, handover.eventId],
      );
    }
  }, 60_000);

  it('names the failure when a record of the ledger itself is tampered with (a forged copy appended to the topic)', async () => {
    // As the projection's tampering test does: an outsider appends a changed copy of the commissioning.
    const values = await rawValues(app.kafka, app.config.ledger.topic);
    const original = values.map((value) => decodeRecord(value).record).find((item) => item.eventType === 'product.commissioned')!;
    await produceRaw(app.kafka, app.config.ledger.topic, [
      encodeRecord({ ...original, payload: { ...original.payload, location: gln(98) } }).bytes,
    ]);
    const context = await phone();
    try {
      const page = await openPage(context);
      expect(await page.locator('#verdict').getAttribute('data-state')).toBe('failed');
      const details = await page.locator('#check-details li').allTextContents();
      // The forged copy claims the sequence of the product's first record: the failure points at that step.
      expect(details).toContainEqual(
        expect.stringMatching(
          /^attestation\.verdict: the verifier found the history tampered: injected at partition 0, .*sequence 2.* \(step 1\)$/,
        ),
      );
      expect(await failedSteps(page)).toEqual(['step-1']);
      expect(await page.textContent('body')).not.toContain('Verified in your browser');
      await page.screenshot({ path: join(SCREENSHOTS, 'tampered-ledger.png'), fullPage: true });
    } finally {
      await context.close();
    }
  }, 60_000);
});

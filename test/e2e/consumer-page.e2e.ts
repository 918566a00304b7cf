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
    // The page reads the read models: wait until the projector has the last step.
    const projected = await client.request('GET', `/products/01/${G}/21/${SERIAL}?waitFor=0:${last.receipt.sequence}`, {
      key: keys.maker!,
    });
    expect(projected.status).toBe(200);
    db = await openDatabase(app.config.database.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await db?.destroy();
    await app?.close();
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
    } finally {
      await context.close();
    }
  }, 60_000);
});

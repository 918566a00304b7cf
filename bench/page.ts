/**
 * The consumer page (`npm run bench -- --only page`): what a phone downloads to read a product's
 * page, and how long until its own check says "Verified in your browser", for a product of 100
 * steps (and 10, to see what grows with the steps). Custodian runs as its own process; headless
 * Chromium (Debian's, through playwright-core) loads the page with an empty cache each run.
 */
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/support/browser.js';
import { type AppProcess, startAppProcess } from './support/app-process.js';
import { type BenchContext, type Benchmark, measure, type Measured, ms, whole } from './support/suite.js';

export const page: Benchmark = {
  id: 'page',
  title: 'Consumer page: weight and time until verified in the browser',
  run: measurePage,
};

const MAKER = '4012345000009';
const SITE = '4012345000016';
const GTIN = '09506000134352';

/** A product of `steps` steps: commissioned, then inspected, in one batch. */
async function recordProduct(app: AppProcess, serial: string, steps: number): Promise<void> {
  const at = '2026-11-26T08:00:00Z';
  const batch = [
    { type: 'commission', gtin: GTIN, serial, name: 'Bench product', owner: MAKER, location: SITE, occurredAt: at },
    ...Array.from({ length: steps - 1 }, () => ({
      type: 'inspect',
      subject: `/01/${GTIN}/21/${serial}`,
      party: MAKER,
      location: SITE,
      result: 'passed',
      occurredAt: at,
    })),
  ];
  const headers = { authorization: `Bearer ${app.keys.maker ?? ''}`, 'content-type': 'application/json' };
  const response = await fetch(`${app.url}/custody/batch`, { method: 'POST', headers, body: JSON.stringify({ steps: batch }) });
  if (response.status !== 201) throw new Error(`recording the product: ${response.status} ${await response.text()}`);
  const { steps: recorded } = (await response.json()) as { steps: { receipt: { partition: number; sequence: number } }[] };
  const last = recorded.at(-1)?.receipt;
  const projected = await fetch(
    `${app.url}/products/01/${GTIN}/21/${serial}?waitFor=${last?.partition ?? 0}:${last?.sequence ?? 0}`,
    {
      headers,
    },
  );
  if (projected.status !== 200) throw new Error(`the product was not projected: ${projected.status}`);
}

interface PageRun {
  readonly verifiedMs: number;
  readonly bytes: { html: number; script: number; stylesheet: number; evidence: number };
  /** What the page itself (HTML, script, stylesheet) would take gzipped, as a compressing proxy would send it. */
  readonly gzippedPageBytes: number;
}

/** One load of the page with an empty cache: the bytes of each response and when the verdict came. */
async function loadPage(newPage: () => Promise<Page>, url: string): Promise<PageRun> {
  const page = await newPage();
  const bytes = { html: 0, script: 0, stylesheet: 0, evidence: 0 };
  let gzippedPageBytes = 0;
  const bodies: Promise<void>[] = [];
  page.on('response', (response) => {
    const type = response.request().resourceType();
    const kind =
      type === 'document'
        ? 'html'
        : type === 'script'
          ? 'script'
          : type === 'stylesheet'
            ? 'stylesheet'
            : type === 'fetch'
              ? 'evidence'
              : null;
    if (!kind) return;
    bodies.push(
      response.body().then((body) => {
        bytes[kind] += body.length;
        if (kind !== 'evidence') gzippedPageBytes += gzipSync(body).length;
      }),
    );
  });
  await page.goto(url);
  const verdict = page.locator('#verdict[data-done-at]');
  await verdict.waitFor({ timeout: 60_000 });
  if ((await verdict.getAttribute('data-state')) !== 'verified') throw new Error(`not verified: ${await verdict.textContent()}`);
  const verifiedMs = Number(await verdict.getAttribute('data-done-at'));
  await Promise.all(bodies);
  await page.context().close();
  return { verifiedMs, bytes, gzippedPageBytes };
}

async function measurePage({ quick, databaseUrl, progress }: BenchContext): Promise<Measured> {
  const runs = quick ? 2 : 7;
  const sizes = [10, 100];
  const app = await startAppProcess({
    serverUrl: databaseUrl,
    brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
    keys: [{ name: 'maker', role: 'operator', party: MAKER }],
    env: { CONSUMER_RATE_LIMIT_PER_MINUTE: '100000' },
  });
  const browser = await launchChromium();
  const chromium = browser.version();
  const rows: string[][] = [];
  const figures: Record<string, number> = {};
  try {
    for (const steps of sizes) {
      const serial = `PAGE-${steps}`;
      progress(`a product of ${steps} steps, its page loaded ${runs} times`);
      await recordProduct(app, serial, steps);
      const url = `${app.url}/01/${GTIN}/21/${serial}`;
      // A first load warms the server (the verifier's view, the JIT); it is not counted.
      const newPage = async () => (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
      await loadPage(newPage, url);
      const loads: PageRun[] = [];
      for (let run = 0; run < runs; run++) loads.push(await loadPage(newPage, url));
      const time = measure(loads.map((load) => load.verifiedMs));
      const { bytes, gzippedPageBytes } = loads[0]!;
      const { html, script, stylesheet, evidence } = bytes;
      const weight = html + script + stylesheet;
      figures[`page${steps}StepsWeightBytes`] = weight;
      figures[`page${steps}StepsHtmlBytes`] = html;
      figures[`page${steps}StepsGzippedWeightBytes`] = gzippedPageBytes;
      figures[`page${steps}StepsEvidenceBytes`] = evidence;
      figures[`page${steps}StepsVerifiedMs`] = time.median;
      rows.push([
        whole(steps),
        whole(html),
        whole(script),
        whole(stylesheet),
        whole(weight),
        whole(gzippedPageBytes),
        whole(evidence),
        `${ms(time.median)} (${ms(time.min)}–${ms(time.max)})`,
      ]);
    }
  } finally {
    await browser.close();
    await app.stop();
  }
  return {
    about:
      "A product's consumer page (`GET /01/{gtin}/21/{serial}`, docs/consumer-page.md) loaded in headless Chromium with an " +
      'empty cache and a phone-sized window, from Custodian running as its own process on the same machine. **Page weight** is ' +
      'what the page itself takes: its HTML, the script (the bundled verifier: the offline checker of evidence bundles and the ' +
      'ledger core on @noble) and the stylesheet, as served, uncompressed (Custodian does not compress); beside it, what the ' +
      'three take gzipped, as a compressing proxy in front would send them (computed with zlib, not measured on the wire). ' +
      'The **evidence** the script fetches is counted apart: it grows with the ' +
      'steps (docs/attestation-format.md §3). **Time until verified** runs from the start of the navigation to the moment the ' +
      "page's own check reached its verdict: the HTML, the script, the evidence bundle (a verification on the server) and " +
      'the check in the browser (hashes, entity links, Merkle inclusion, two Ed25519 signatures and the page held to the ' +
      'records). A first load before the counted runs warms the server.',
    setting: `products of ${sizes.join(' and ')} steps (commissioned, then inspected), ${runs} loads each; Chromium ${chromium}`,
    tables: [
      {
        head: [
          'steps',
          'HTML bytes',
          'script bytes',
          'stylesheet bytes',
          'page weight bytes',
          'page weight gzipped (computed)',
          'evidence bytes',
          'time until verified, ms',
        ],
        align: ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
        rows,
      },
    ],
    figures,
  };
}

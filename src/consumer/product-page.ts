import { type Directory, describeStep, identityText, partyName, placeName, type StepSource } from './step-view.js';

/**
 * The consumer page of a product (docs/consumer-page.md), rendered on the server as plain HTML:
 * readable without JavaScript, one stylesheet and one script of the server's own (no CDN, so the
 * Content-Security-Policy allows nothing else). Every value is escaped here and only here.
 */
export interface PageStep extends StepSource {
  /** The ledger record's hash and sequence, which the browser finds the step's record by. */
  readonly hash: string;
  readonly sequence: number;
}

export interface PageInput {
  readonly id: string;
  readonly name: string | null;
  /** 1: made from it directly; more: an input of an input. */
  readonly depth: number;
}

export interface ProductPageModel {
  readonly subject: string;
  readonly product: {
    readonly gtin: string;
    readonly serial: string | null;
    readonly lot: string | null;
    readonly name: string | null;
    readonly status: string;
    readonly reason: string | null;
    readonly holder: string;
    readonly location: string;
    readonly quantity: number | null;
    readonly uom: string | null;
  };
  readonly steps: readonly PageStep[];
  /** Whether the product has more steps than the page shows. */
  readonly stepsOmitted: boolean;
  readonly inputs: readonly PageInput[];
  readonly directory: Directory;
  readonly keys: {
    readonly ledgerKey: string;
    readonly attestationKey: string;
    /** SHA-256 of the ledger key's 32 bytes, hex in groups of four. */
    readonly ledgerFingerprint: string;
  };
  readonly assets: { readonly script: string; readonly stylesheet: string };
}

/** What the page's script reads from the page: where the evidence is and what to check it with. */
export interface PageData {
  readonly subject: string;
  readonly evidence: string;
  readonly ledgerKey: string;
  readonly attestationKey: string;
  readonly directory: Directory;
  /** Whether the page shows only the first of the product's steps (the evidence holds them all). */
  readonly stepsOmitted: boolean;
}

export const PAGE_DATA_ID = 'custodian-page-data';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** JSON inside a <script> element: no "</script" or "<!--" can end or bend it. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/** A link to a Digital Link path of this server with a link type. */
export const linkTo = (subject: string, linkType: string) => `${subject}?linkType=${encodeURIComponent(linkType)}`;

function stepHtml(step: PageStep, index: number, model: ProductPageModel): string {
  const text = describeStep(step, model.subject, model.directory);
  return `<li class="step" id="step-${index + 1}" data-hash="${escapeHtml(step.hash)}" data-sequence="${step.sequence}">
<h3 class="what">${escapeHtml(text.what)}</h3>
<dl>
<div><dt>When</dt><dd class="when"><time datetime="${escapeHtml(step.occurredAt)}">${escapeHtml(text.when)}</time></dd></div>
<div><dt>Where</dt><dd class="where">${escapeHtml(text.where)}</dd></div>
<div><dt>Who</dt><dd class="who">${escapeHtml(text.who)}</dd></div>
${text.shipment ? `<div><dt>Shipment</dt><dd class="shipment">${escapeHtml(text.shipment)}</dd></div>` : ''}
</dl>
<p class="step-check" hidden></p>
</li>`;
}

function inputsHtml(model: ProductPageModel): string {
  if (model.inputs.length === 0) return '<p>It was not made from other products recorded in this ledger.</p>';
  const items = model.inputs.map(
    (input) =>
      `<li data-input="${escapeHtml(input.id)}" data-depth="${input.depth}"><a href="${escapeHtml(input.id)}">${escapeHtml(
        input.name ?? identityText(input.id),
      )}</a> <span class="muted">${escapeHtml(identityText(input.id))}${input.depth > 1 ? ', an input of an input' : ''}</span></li>`,
  );
  return `<ul class="inputs">${items.join('')}</ul>
<p class="muted">Each input has its own page, where its own history is checked.</p>`;
}

function factsHtml(model: ProductPageModel): string {
  const { product, directory } = model;
  const status =
    product.status === 'active' ? 'In circulation' : `Taken out of circulation${product.reason ? ` (${product.reason})` : ''}`;
  const facts: [string, string][] = [
    ['GTIN', product.gtin],
    product.serial !== null ? ['Serial number', product.serial] : ['Lot', product.lot ?? ''],
    ['Status', status],
    ['Now with', partyName(product.holder, directory)],
    ['Now at', placeName(product.location, directory)],
  ];
  if (product.quantity !== null) facts.push(['Quantity left', `${product.quantity}${product.uom ? ` ${product.uom}` : ''}`]);
  return facts.map(([term, value]) => `<div><dt>${escapeHtml(term)}</dt><dd>${escapeHtml(value)}</dd></div>`).join('');
}

export function renderProductPage(model: ProductPageModel): string {
  const title = model.product.name ?? identityText(model.subject);
  const data: PageData = {
    subject: model.subject,
    evidence: linkTo(model.subject, 'custodian:evidence'),
    ledgerKey: model.keys.ledgerKey,
    attestationKey: model.keys.attestationKey,
    directory: model.directory,
    stepsOmitted: model.stepsOmitted,
  };
  const steps = model.steps.map((step, index) => stepHtml(step, index, model)).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}: where it has been</title>
<link rel="stylesheet" href="/assets/${escapeHtml(model.assets.stylesheet)}">
<script type="module" src="/assets/${escapeHtml(model.assets.script)}"></script>
</head>
<body>
<a class="skip" href="#journey">Skip to the journey</a>
<header class="site"><p>Custodian · product provenance</p></header>
<main>
<h1 id="product-name">${escapeHtml(title)}</h1>
<p class="identity muted" id="product-identity">${escapeHtml(identityText(model.subject))}</p>
<dl class="facts">${factsHtml(model)}</dl>

<section class="check" aria-labelledby="check-title">
<h2 id="check-title">Is this history genuine?</h2>
<p id="verdict" class="verdict" data-state="unchecked" role="status">Not checked: with JavaScript on, your browser checks this history against the ledger's signed evidence itself.</p>
<ul id="check-details" class="check-details"></ul>
<p>Ledger key fingerprint (SHA-256): <code id="fingerprint">${escapeHtml(model.keys.ledgerFingerprint)}</code>.
Compare it with the one the ledger's operator publishes elsewhere: a page checked with another key proves nothing.</p>
<p><a href="${escapeHtml(linkTo(model.subject, 'custodian:evidence'))}">Download the evidence</a> to check it offline with <code>custodian-verify</code>.</p>
</section>

<section id="journey" aria-labelledby="journey-title">
<h2 id="journey-title">Journey: ${model.steps.length} step${model.steps.length === 1 ? '' : 's'}</h2>
${model.stepsOmitted ? '<p>Only the first steps are shown; the evidence holds them all.</p>' : ''}
<ol class="timeline" id="timeline">
${steps}
</ol>
</section>

<section aria-labelledby="inputs-title">
<h2 id="inputs-title">Made from</h2>
${inputsHtml(model)}
</section>
</main>
<footer class="site">
<p>Names of parties and places come from the party registry their owners keep; the ledger records their GLNs.</p>
<p><a href="${escapeHtml(linkTo(model.subject, 'custodian:qr'))}">QR code of this page</a> · <a href="${escapeHtml(
    linkTo(model.subject, 'gs1:traceability'),
  )}">This history as JSON</a> (an API key is needed)</p>
</footer>
<script type="application/json" id="${PAGE_DATA_ID}">${scriptJson(data)}</script>
</body>
</html>
`;
}

/** The page a browser gets for a product this server does not know. */
export function renderUnknownProductPage(subject: string, assets: ProductPageModel['assets']): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Product not found</title>
<link rel="stylesheet" href="/assets/${escapeHtml(assets.stylesheet)}">
</head>
<body>
<main>
<h1>No such product here</h1>
<p>No product ${escapeHtml(identityText(subject))} is recorded in this ledger. Check the code you scanned, or ask the seller.</p>
</main>
</body>
</html>
`;
}

import { CheckpointVerifier } from '../../ledger/checkpoint-note.js';
import { decodeRecord } from '../../ledger/record-codec.js';
import { checkEvidenceBundle, type EvidenceBundle } from '../../verification/evidence-bundle.js';
import { keyFingerprint } from '../key-fingerprint.js';
import { PAGE_DATA_ID, type PageData } from '../product-page.js';
import { describeStep, directInputsOf, identityText, type StepSource, type StepText, viaOf } from '../step-view.js';

/**
 * The consumer page's check, run in the reader's browser (docs/consumer-page.md §3): it fetches
 * the product's evidence bundle and checks it with the offline checker's own code
 * (src/verification/evidence-bundle.ts, on @noble instead of node:crypto), against the keys
 * pinned in the page; then it holds what the page shows to the verified records, step by step.
 * "Verified in your browser" is shown only when every check passed; otherwise each failure, with
 * a link to the step it concerns.
 */

interface Failure {
  readonly message: string;
  /** The page's step (1-based) the failure is about, when it is about one. */
  readonly step?: number;
}

const byId = (id: string) => document.getElementById(id);

function stepElements(): HTMLElement[] {
  return [...document.querySelectorAll<HTMLElement>('#timeline > li.step')];
}

/** Failures of the bundle check, with the step of the `records[i]` member each names. */
function bundleFailures(
  bundle: EvidenceBundle,
  data: PageData,
  keys: { ledger: CheckpointVerifier; attestation: CheckpointVerifier },
) {
  const { failures, checked } = checkEvidenceBundle(bundle, {
    ledgerKey: keys.ledger,
    attestationKey: keys.attestation,
    subject: data.subject,
  });
  const steps = stepElements();
  const stepOfSequence = (sequence: number | null) => {
    const index = steps.findIndex((element) => element.dataset.sequence === String(sequence));
    return index >= 0 ? index + 1 : undefined;
  };
  const found: Failure[] = failures.map((message) => {
    const record = /^records\[(\d+)\]/.exec(message);
    if (record) return { message, step: Number(record[1]) + 1 };
    // The verifier's own findings name a ledger sequence: the step of that record, if shown.
    const finding = message.startsWith('attestation.verdict')
      ? (bundle.attestation.attestation.findings as readonly { sequence?: number | null }[] | undefined)?.[0]
      : undefined;
    const step = finding ? stepOfSequence(finding.sequence ?? null) : undefined;
    return step === undefined ? { message } : { message, step };
  });
  return { failures: found, checked };
}

/** The page's text of each step and its product, held to the text the verified records give. */
function pageFailures(bundle: EvidenceBundle, data: PageData): { failures: Failure[]; checked: string[] } {
  const failures: Failure[] = [];
  const records = bundle.records.map((item) => decodeRecord(new TextEncoder().encode(item.record)));
  const sources: StepSource[] = records.map(({ record }) => ({
    eventType: record.eventType,
    occurredAt: record.occurredAt,
    payload: record.payload,
    via: viaOf(
      record.entities.map((entity) => entity.id),
      data.subject,
    ),
  }));
  const steps = stepElements();
  // A page of a very long history shows its first steps only: those must be the first records.
  if (data.stepsOmitted ? steps.length > records.length : steps.length !== records.length) {
    failures.push({ message: `the page shows ${steps.length} step(s), the evidence holds ${records.length}` });
  }
  const text = (element: Element, field: keyof StepText) => element.querySelector(`.${field}`)?.textContent ?? '';
  for (const [index, element] of steps.entries()) {
    const source = sources[index];
    const hash = records[index]?.hash;
    if (!source || element.dataset.hash !== hash) {
      failures.push({
        message: `step ${index + 1}: the evidence's record ${index + 1} hashes to ${hash ?? '(none)'}, not to the record the page shows (${element.dataset.hash ?? '?'})`,
        step: index + 1,
      });
      continue;
    }
    const expected = describeStep(source, data.subject, data.directory);
    for (const field of ['what', 'when', 'where', 'who', 'shipment'] as const) {
      if (text(element, field) !== expected[field]) {
        failures.push({
          message: `step ${index + 1}: the page says ${field} "${text(element, field)}", the ledger record says "${expected[field]}"`,
          step: index + 1,
        });
      }
    }
  }
  if (byId('product-identity')?.textContent !== identityText(data.subject)) {
    failures.push({ message: `the page names another product than the evidence (${identityText(data.subject)})` });
  }
  const first = records[0]?.record;
  const name = first?.eventType === 'product.commissioned' ? first.payload.name : undefined;
  if (typeof name === 'string' && byId('product-name')?.textContent !== name) {
    failures.push({ message: `the page names the product "${byId('product-name')?.textContent ?? ''}", the ledger "${name}"` });
  }
  const shownInputs = [...document.querySelectorAll<HTMLElement>('[data-input][data-depth="1"]')].map((li) => li.dataset.input);
  const recordedInputs = directInputsOf(sources, data.subject);
  if (shownInputs.join('\n') !== recordedInputs.join('\n')) {
    failures.push({
      message: `the page says it was made from ${shownInputs.length} product(s), the ledger's transformations name ${recordedInputs.length}`,
    });
  }
  return {
    failures,
    checked:
      failures.length > 0
        ? []
        : data.stepsOmitted
          ? [
              `the ${steps.length} steps shown are the first ${steps.length} of the ${records.length} records: what, when, where, who and shipment`,
            ]
          : ['every step shown is its ledger record: what, when, where, who and shipment'],
  };
}

function show(state: 'checking' | 'verified' | 'failed', headline: string, items: readonly Failure[] | readonly string[]): void {
  const verdict = byId('verdict');
  const details = byId('check-details');
  if (!verdict || !details) return;
  verdict.dataset.state = state;
  verdict.textContent = headline;
  details.replaceChildren(
    ...items.map((item) => {
      const li = document.createElement('li');
      if (typeof item === 'string') li.textContent = item;
      else {
        li.textContent = item.message;
        if (item.step !== undefined) {
          const link = document.createElement('a');
          link.href = `#step-${item.step}`;
          link.textContent = ` (step ${item.step})`;
          li.append(link);
        }
      }
      return li;
    }),
  );
  const byStep = new Map<number, string[]>();
  for (const item of items) {
    if (typeof item !== 'string' && item.step !== undefined)
      byStep.set(item.step, [...(byStep.get(item.step) ?? []), item.message]);
  }
  for (const [index, element] of stepElements().entries()) {
    const messages = byStep.get(index + 1);
    const note = element.querySelector<HTMLElement>('.step-check');
    element.classList.toggle('failed', messages !== undefined);
    if (!note) continue;
    note.hidden = messages === undefined;
    note.textContent = messages ? `Not verified: ${messages.join('; ')}` : '';
  }
}

async function check(): Promise<void> {
  const started = performance.now();
  const data = JSON.parse(byId(PAGE_DATA_ID)?.textContent ?? 'null') as PageData | null;
  if (!data) return;
  show('checking', 'Checking this history in your browser…', []);
  const failures: Failure[] = [];
  const checked: string[] = [];
  try {
    const keys = {
      ledger: CheckpointVerifier.fromVerifierKey(data.ledgerKey),
      attestation: CheckpointVerifier.fromVerifierKey(data.attestationKey),
    };
    if (byId('fingerprint')?.textContent !== keyFingerprint(data.ledgerKey)) {
      failures.push({ message: 'the fingerprint shown is not that of the ledger key the page checks with' });
    }
    const response = await fetch(data.evidence, { headers: { accept: 'application/json' } });
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({}))) as { detail?: string };
      failures.push({
        message: `the evidence could not be fetched: HTTP ${response.status}${problem.detail ? `, ${problem.detail}` : ''}`,
      });
    } else {
      const bundle = (await response.json()) as EvidenceBundle;
      const ofBundle = bundleFailures(bundle, data, keys);
      failures.push(...ofBundle.failures);
      checked.push(...ofBundle.checked);
      if (ofBundle.failures.every((failure) => !failure.message.startsWith('the bundle is malformed'))) {
        const ofPage = pageFailures(bundle, data);
        failures.push(...ofPage.failures);
        checked.push(...ofPage.checked);
      }
    }
  } catch (error) {
    failures.push({ message: `the check could not run: ${error instanceof Error ? error.message : String(error)}` });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  if (failures.length === 0) {
    show('verified', `✓ Verified in your browser (${seconds} s)`, checked);
  } else {
    show('failed', `✗ Not verified: ${failures.length} problem${failures.length === 1 ? '' : 's'} found`, failures);
  }
  // For the benchmark and the tests: when the verdict was reached, in ms since the navigation began.
  byId('verdict')?.setAttribute('data-done-at', String(Math.round(performance.now())));
}

void check();

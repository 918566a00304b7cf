/**
 * EPCIS 2.0 capture (issue 19, docs/epcis.md): documents of 1,000 commissioning ObjectEvents
 * through `POST /capture`, against batches of the same 1,000 commissionings through
 * `POST /custody/batch`, on one app process, the two phases alternating within each run.
 */
import { commission, GTIN, MAKER, SITE } from './support/commissioning.js';
import { startAppProcess } from './support/app-process.js';
import { load, type LoadResult } from './http-load.js';
import { type BenchContext, type Benchmark, measure, median, ms, rateWithSpread, type Measured, whole } from './support/suite.js';

const EVENTS = 1000;
const CONTEXT = ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'];

/** The EPCIS twin of `commission(tag)`: one commissioning ObjectEvent of the same item, at the same site. */
function commissioningEvent(tag: string): Record<string, unknown> {
  const step = commission(tag);
  return {
    type: 'ObjectEvent',
    eventTime: step.occurredAt,
    eventTimeZoneOffset: '+00:00',
    epcList: [`https://id.gs1.org/01/${GTIN}/21/${String(step.serial)}`],
    action: 'ADD',
    bizStep: 'commissioning',
    disposition: 'active',
    readPoint: { id: `https://id.gs1.org/414/${SITE}` },
    bizLocation: { id: `https://id.gs1.org/414/${SITE}` },
  };
}

function captureDocument(): Record<string, unknown> {
  return {
    '@context': CONTEXT,
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: new Date().toISOString(),
    epcisBody: { eventList: Array.from({ length: EVENTS }, () => commissioningEvent('epcis')) },
  };
}

export const epcisCapture: Benchmark = {
  id: 'epcis',
  title: 'EPCIS 2.0 capture against batch capture of the same steps',
  run: measureCapture,
};

async function measureCapture({ quick, kafka, databaseUrl, progress }: BenchContext): Promise<Measured> {
  const runs = quick ? 1 : 3;
  const seconds = quick ? 3 : 15;
  // As the HTTP section's batches: enough callers that the server, not a caller's wait, sets the pace.
  const connections = 4;
  const app = await startAppProcess({
    serverUrl: databaseUrl,
    brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
    keys: [{ name: 'bench-maker', role: 'operator', party: MAKER }],
  });
  const key = app.keys['bench-maker']!;
  const batches: LoadResult[] = [];
  const captures: LoadResult[] = [];
  const batch = (n: number) =>
    load(app.url, key, {
      path: '/custody/batch',
      body: () => ({ steps: Array.from({ length: n }, () => ({ type: 'commission', ...commission('batch') })) }),
      stepsPerRequest: n,
      connections,
      seconds: n === EVENTS ? seconds : 2,
    });
  const capture = () =>
    load(app.url, key, {
      path: '/capture',
      body: captureDocument,
      stepsPerRequest: EVENTS,
      connections,
      seconds,
      contentType: 'application/ld+json',
    });
  try {
    progress(`app pid ${app.pid} on ${app.url}; warming up`);
    await batch(EVENTS);
    await capture();
    for (let run = 1; run <= runs; run++) {
      batches.push(await batch(EVENTS));
      captures.push(await capture());
      const [b, c] = [batches.at(-1)!, captures.at(-1)!];
      progress(
        `run ${run}/${runs}: batches ${whole(b.steps / b.seconds)} steps/s (${b.errors} errors), ` +
          `capture ${whole(c.steps / c.seconds)} events/s (${c.errors} errors)`,
      );
    }
    const batchRate = measure(batches.map((r) => r.steps / r.seconds));
    const captureRate = measure(captures.map((r) => r.steps / r.seconds));
    const ratios = captures.map((c, i) => c.steps / c.seconds / (batches[i]!.steps / batches[i]!.seconds));
    const errors = [...batches, ...captures].reduce((n, r) => n + r.errors, 0);
    return {
      about:
        `EPCIS capture on the ledger, end to end: the app as its own process with the projector following, autocannon from the ` +
        `benchmark's process, ${connections} connections. Capture: \`POST /capture\` of EPCISDocuments of ${EVENTS} commissioning ` +
        'ObjectEvents (one item each, Digital Link EPCs), each checked against GS1’s JSON schema, given its Event Hash ID, mapped ' +
        'to its custody step and recorded with the event as captured, all in one Kafka transaction, with the capture job in ' +
        `PostgreSQL. Baseline in the same run: \`POST /custody/batch\` of ${EVENTS} commissionings of the same items (the HTTP ` +
        'section’s steps). The two alternate within each run; the ratio is per run, then the median.',
      setting: `${seconds} s per case, median of ${runs} run(s); ${EVENTS} events or steps per request`,
      tables: [
        {
          head: ['what', 'events or steps/s (spread)', 'p50 ms', 'p99 ms', 'errors'],
          align: ['l', 'r', 'r', 'r', 'r'],
          rows: [
            [
              `POST /custody/batch of ${EVENTS} commissionings`,
              rateWithSpread(batchRate),
              ms(median(batches.map((r) => r.p50))),
              ms(median(batches.map((r) => r.p99))),
              String(batches.reduce((n, r) => n + r.errors, 0)),
            ],
            [
              `POST /capture of ${EVENTS} commissioning events`,
              rateWithSpread(captureRate),
              ms(median(captures.map((r) => r.p50))),
              ms(median(captures.map((r) => r.p99))),
              String(captures.reduce((n, r) => n + r.errors, 0)),
            ],
            [
              '**capture as a ratio to batch capture**',
              `${median(ratios).toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(', ')})`,
              '',
              '',
              '',
            ],
          ],
        },
      ],
      figures: {
        batchPerSecond: batchRate.median,
        capturePerSecond: captureRate.median,
        captureRatio: median(ratios),
        captureP99Ms: median(captures.map((r) => r.p99)),
        errors,
      },
    };
  } finally {
    await app.stop();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [app.topic] }).finally(() => admin.disconnect());
  }
}

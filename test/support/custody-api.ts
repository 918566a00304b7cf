/**
 * Test helpers for the custody API over HTTP: valid GS1 keys, API keys written to the key
 * file the way `npm run api-key` writes them, a small client, and a look at the ledger topic.
 */
import type { Kafka } from 'kafkajs';
import { digitalLinkPath } from '../../src/gs1/digital-link.js';
import { gs1CheckDigit } from '../../src/gs1/gs1-keys.js';
import { readVerifiedPartition } from '../../src/ledger/adapters/kafka-ledger-reader.js';
import { CheckpointVerifier } from '../../src/ledger/checkpoint-note.js';
import type { StoredRecord } from '../../src/ledger/ledger-record.js';
import type { CustodianConfig } from '../../src/infrastructure/config/config.js';
import { type RunningApplication, startApplication } from './application.js';
import { type TestKey, writeApiKeys } from './api-key-file.js';
import { reserveTestDatabase, testConfig, testDataDir } from './environment.js';
import { testKafka } from './ledger-harness.js';

const withCheckDigit = (digits: string) => digits + String(gs1CheckDigit(digits));

/** A GLN with a valid check digit, from a company prefix and a number. */
export const gln = (n: number, prefix = '401234') => withCheckDigit(prefix + String(n).padStart(12 - prefix.length, '0'));
export const gtin = (n: number) => withCheckDigit(`0950600${String(n).padStart(6, '0')}`);
export const sscc = (n: number) => withCheckDigit(`1061414${String(n).padStart(10, '0')}`);
export const sgtin = (gtin14: string, serial: string) => digitalLinkPath({ kind: 'sgtin', gtin: gtin14, serial });
export const shipmentId = (sscc18: string) => digitalLinkPath({ kind: 'sscc', sscc: sscc18 });

export { type TestKey, writeApiKeys } from './api-key-file.js';

export interface ApiResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly contentType: string;
  readonly body: T;
  readonly headers: Headers;
}

export interface Receipt {
  readonly ledgerId: string;
  readonly partition: number;
  readonly offset: string;
  readonly sequence: number;
  readonly hash: string;
  readonly checkpointSize: number;
}

export interface RecordedStep {
  readonly eventId: string;
  readonly eventType: string;
  readonly subject: string;
  readonly receipt: Receipt;
}

export class CustodyClient {
  constructor(readonly url: string) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { key?: string; body?: unknown; rawBody?: string; contentType?: string; idempotencyKey?: string } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    let payload: string | undefined;
    if (options.rawBody !== undefined || options.body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      payload = options.rawBody ?? JSON.stringify(options.body);
    }
    const response = await fetch(this.url + path, { method, headers, body: payload });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON (the OpenAPI UI page): keep the text
    }
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      body: body as T,
      headers: response.headers,
    };
  }

  post<T = RecordedStep>(path: string, key: string, body: unknown, idempotencyKey?: string): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, { key, body, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) });
  }
}

/** The ledger topic read and verified as an auditor reads it, with only the public key the API publishes. */
export async function readLedger(kafka: Kafka, topic: string, ledgerId: string, client: CustodyClient): Promise<StoredRecord[]> {
  const { body } = await client.request<{ keyName: string; publicKey: string }>('GET', '/ledger/public-key');
  const verifier = new CheckpointVerifier(body.keyName, Uint8Array.from(Buffer.from(body.publicKey, 'base64')));
  // A receipt means committed; read_committed readers see it once Kafka wrote its markers.
  await topicEnd(kafka, topic);
  const records: StoredRecord[] = [];
  for await (const record of readVerifiedPartition(kafka, topic, { ledgerId, partition: 0, verifier })) records.push(record);
  return records;
}

/**
 * The end offset of partition 0 as read_committed readers see it, once it has settled: a
 * refused request must leave it where it was. Kafka writes a transaction's commit markers
 * just after the commit returns, so right after a write the end can still move; it is read
 * until two reads 100 ms apart agree.
 */
export async function topicEnd(kafka: Kafka, topic: string): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const read = async () => (await admin.fetchTopicOffsets(topic)).find((p) => p.partition === 0)?.high ?? '0';
    let last = await read();
    for (let i = 0; i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const now = await read();
      if (now === last) return now;
      last = now;
    }
    throw new Error(`the end of ${topic} did not settle`);
  } finally {
    await admin.disconnect();
  }
}

/** A Custodian under test, with API keys for the given parties, and what tests need to reach it. */
export interface CustodyApp {
  readonly config: CustodianConfig;
  readonly keys: Record<string, string>;
  readonly kafka: Kafka;
  running: RunningApplication;
  client: CustodyClient;
  /** Stops the application and starts it again on the same ledger, database and keys. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startCustodyApp(keys: readonly TestKey[], env: Record<string, string> = {}): Promise<CustodyApp> {
  const database = reserveTestDatabase();
  const dataDir = testDataDir();
  const apiKeys = writeApiKeys(dataDir, keys);
  const config = testConfig(database, { CUSTODIAN_DATA_DIR: dataDir, API_KEYS_FILE: apiKeys.file, ...env });
  const running = await startApplication(config);
  const app: CustodyApp = {
    config,
    keys: apiKeys.keys,
    // The application's own brokers: a test may give it a broker of its own (KAFKA_BROKERS).
    kafka: testKafka('custodian-test', config.kafka.brokers),
    running,
    client: new CustodyClient(running.url),
    async restart() {
      await app.running.close();
      app.running = await startApplication(config);
      app.client = new CustodyClient(app.running.url);
    },
    async close() {
      await app.running.close();
      await database.drop();
    },
  };
  return app;
}

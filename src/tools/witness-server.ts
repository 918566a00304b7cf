/**
 * A witness server (docs/attestation-format.md §5): run by a party other than the ledger's
 * operator, it keeps the latest checkpoint of each ledger partition it is told about, and only
 * ever moves forward. It checks each checkpoint's signature with the ledger keys it was given
 * and refuses (409) a smaller tree or another root for the same size.
 *
 *   node dist/src/tools/witness-server.js --directory /srv/witness --public-key <verifier key> [--port 8480]
 *
 *   POST /<ledgerId>/<partition>  a signed checkpoint (JSON)  → 204 kept, 409 refused, 400 bad
 *   GET  /<ledgerId>/<partition>                              → 200 the latest, 404 none
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { isSignedCheckpoint } from '../ledger/chain-verifier.js';
import { CheckpointVerifier } from '../ledger/checkpoint-note.js';
import { LEDGER_ID } from '../ledger/record-codec.js';
import { DirectoryWitness, WitnessRefusedError } from '../verification/witness.js';

const MAX_BODY = 64 * 1024;

interface Reply {
  readonly status: number;
  readonly body?: unknown;
}

const reply = (status: number, body?: unknown): Reply => ({ status, body });

function send(response: ServerResponse, { status, body }: Reply): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json' });
  response.end(text);
}

async function readBody(request: IncomingMessage): Promise<string | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The witness as an HTTP server over a directory; one ledger key per ledger id it accepts. */
export function createWitnessServer(directory: string, keys: readonly CheckpointVerifier[]): Server {
  const witnesses = new Map<string, DirectoryWitness>();
  for (const key of keys) {
    const ledgerId = key.keyName.replace(/^custodian\//, '');
    witnesses.set(ledgerId, new DirectoryWitness(directory, ledgerId, key));
  }
  // One publication at a time: it reads, checks and replaces the latest checkpoint. Bodies are
  // read before, so a slow client holds up no one.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  };
  const handle = async (request: IncomingMessage): Promise<Reply> => {
    try {
      const match = /^\/([^/]+)\/(\d{1,4})$/.exec(request.url ?? '');
      const ledgerId = match ? decodeURIComponent(match[1] as string) : '';
      const witness = witnesses.get(ledgerId);
      if (!match || !LEDGER_ID.test(ledgerId)) return reply(404, 'use /<ledgerId>/<partition>\n');
      if (!witness) return reply(404, `this witness holds no key for ledger ${ledgerId}\n`);
      const partition = Number(match[2]);
      if (request.method === 'GET') {
        const latest = await witness.latest(partition);
        return latest ? reply(200, latest) : reply(404, 'no checkpoint witnessed yet\n');
      }
      if (request.method !== 'POST') return reply(405, 'GET or POST\n');
      const body = await readBody(request);
      if (body === null) return reply(413, `at most ${MAX_BODY} bytes\n`);
      let checkpoint: unknown;
      try {
        checkpoint = JSON.parse(body);
      } catch {
        return reply(400, 'the body is not JSON\n');
      }
      if (!isSignedCheckpoint(checkpoint)) return reply(400, 'the body is not a signed checkpoint\n');
      await exclusive(() => witness.publish(partition, checkpoint));
      return reply(204);
    } catch (error) {
      if (error instanceof WitnessRefusedError) return reply(409, `${error.message}\n`);
      return reply(500, 'the witness failed\n');
    }
  };
  const server = createServer((request, response) => {
    void handle(request).then((answer) => {
      send(response, answer);
    });
  });
  server.requestTimeout = 10_000;
  return server;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      directory: { type: 'string' },
      'public-key': { type: 'string', multiple: true },
      port: { type: 'string', default: '8480' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  if (!values.directory || !values['public-key']?.length) {
    process.stderr.write('usage: witness-server --directory <dir> --public-key <ledger verifier key> [...] [--port 8480]\n');
    process.exitCode = 2;
    return;
  }
  const keys = values['public-key'].map((key) => CheckpointVerifier.fromVerifierKey(key));
  const server = createWitnessServer(values.directory, keys);
  server.listen(Number(values.port), values.host, () => {
    process.stdout.write(`witness for ${keys.map((key) => key.keyName).join(', ')} on http://${values.host}:${values.port}\n`);
  });
}

if (process.argv[1]?.endsWith('witness-server.js')) main();

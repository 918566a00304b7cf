import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CheckpointSigner, CheckpointVerifier, checkpointOrigin } from '../ledger/checkpoint-note.js';
import { createWitnessServer } from '../tools/witness-server.js';
import { DirectoryWitness, HttpWitness, type Witness, WitnessRefusedError } from './witness.js';

const signer = new CheckpointSigner('custodian/shop', new Uint8Array(32).fill(3));
const intruder = new CheckpointSigner('custodian/shop', new Uint8Array(32).fill(4));
const key = new CheckpointVerifier(signer.keyName, signer.publicKey);
const checkpoint = (treeSize: number, root: string, by = signer) =>
  by.sign({
    origin: checkpointOrigin('shop', 0),
    treeSize,
    rootHash: root.repeat(64),
    headHash: 'e'.repeat(64),
    time: '2026-11-26T08:00:00Z',
  });

function behaviour(name: string, make: () => Witness) {
  describe(name, () => {
    it('keeps the latest checkpoint and refuses one that would move it backwards or sideways', async () => {
      const witness = make();
      expect(await witness.latest(0)).toBeNull();
      await witness.publish(0, checkpoint(3, 'a'));
      await witness.publish(0, checkpoint(5, 'b'));
      await witness.publish(0, checkpoint(5, 'b')); // the same again: nothing changes
      expect((await witness.latest(0))?.treeSize).toBe(5);
      await expect(witness.publish(0, checkpoint(3, 'a'))).rejects.toThrow(WitnessRefusedError);
      await expect(witness.publish(0, checkpoint(5, 'c'))).rejects.toThrow(/another root than the witnessed one/);
      await expect(witness.publish(0, checkpoint(9, 'd', intruder))).rejects.toThrow(/does not verify/);
      const otherPartition = signer.sign({ ...checkpoint(9, 'd'), origin: checkpointOrigin('shop', 1) });
      await expect(witness.publish(0, otherPartition)).rejects.toThrow(/is of custodian\/shop\/1, not custodian\/shop\/0/);
      const tampered = { ...checkpoint(9, 'd'), treeSize: 10 };
      await expect(witness.publish(0, tampered)).rejects.toThrow(WitnessRefusedError);
      expect(await witness.latest(0)).toEqual(checkpoint(5, 'b'));
      expect(await witness.latest(1)).toBeNull();
    });
  });
}

const directory = mkdtempSync(join(tmpdir(), 'custodian-witness-'));
behaviour('a directory witness', () => new DirectoryWitness(mkdtempSync(join(directory, 'd-')), 'shop', key));

describe('the witness server', () => {
  const served = mkdtempSync(join(directory, 'http-'));
  const server = createWitnessServer(served, [key]);
  let url = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      server.listen(0, '127.0.0.1', resolve);
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  );

  behaviour('an HTTP witness', () => new HttpWitness(url, 'shop'));

  it('keeps its checkpoints in its directory, and answers other ledgers and bad bodies with 4xx', async () => {
    const history = readFileSync(join(served, 'shop', '0', 'history.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(history.map((line) => (JSON.parse(line) as { treeSize: number }).treeSize)).toEqual([3, 5]);
    expect((await fetch(`${url}/other/0`)).status).toBe(404);
    expect((await fetch(`${url}/shop/0`, { method: 'POST', body: '{' })).status).toBe(400);
    expect((await fetch(`${url}/shop/0`, { method: 'POST', body: 'x'.repeat(70_000) })).status).toBe(413);
    expect((await fetch(`${url}/shop/0`, { method: 'DELETE' })).status).toBe(405);
  });
});

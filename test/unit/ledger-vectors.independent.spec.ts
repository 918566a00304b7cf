/**
 * An independent check of the ledger format v1 test vectors: only node:crypto (OpenSSL) and
 * the definitions in docs/ledger-format.md and docs/attestation-format.md, no code from src/
 * (ledger-format.ts and ledger-verification.ts beside this file are written from the documents).
 * If this and the implementation's own vector tests both pass, the two agree on every hash and
 * signature, and on the first finding of every tampered partition.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createPublicKey, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  consistent,
  ed25519Pkcs8,
  ed25519Spki,
  fromCanonicalBase64,
  isTime,
  jcs,
  keyIdOf,
  leaf,
  mth,
  node,
  readVerifierKey,
  recordHash,
  sha256,
} from './ledger-format.js';
import { againstWitness, type Finding, type Partition, verifyPartition } from './ledger-verification.js';

interface Vectors {
  recordHash: { prefixHex: string };
  key: { secretKeyHex: string; keyName: string; keyId: string; publicKeyHex: string; verifierKey: string };
  canonicalization: { input: string; canonical: string }[];
  records: { canonical: string; hash: string }[];
  merkle: {
    leaves: string[];
    rootsBySize: string[];
    inclusion: { index: number; treeSize: number; proof: string[]; root: string };
  };
  checkpoint: { note: string };
}

const vectors = JSON.parse(readFileSync(new URL('../vectors/ledger-v1.json', import.meta.url), 'utf8')) as Vectors;

describe('ledger v1 vectors, checked with node:crypto alone', () => {
  it('canonical texts are JCS of their inputs', () => {
    for (const { input, canonical } of vectors.canonicalization) expect(jcs(JSON.parse(input))).toBe(canonical);
    for (const { canonical } of vectors.records) expect(jcs(JSON.parse(canonical))).toBe(canonical);
  });

  it('record hashes are SHA-256 of the prefix and the canonical UTF-8 bytes', () => {
    expect(Buffer.from(vectors.recordHash.prefixHex, 'hex').toString('latin1')).toBe('custodian.ledger.record.v1\0');
    for (const { canonical, hash } of vectors.records) {
      expect(sha256(Buffer.from(vectors.recordHash.prefixHex, 'hex'), Buffer.from(canonical, 'utf8')).toString('hex')).toBe(hash);
    }
    expect(vectors.merkle.leaves).toEqual(vectors.records.map((r) => r.hash));
  });

  it('Merkle roots follow RFC 9162 and the inclusion proof checks out', () => {
    const { leaves, rootsBySize, inclusion } = vectors.merkle;
    expect(leaves.map((_, i) => mth(leaves.slice(0, i + 1)))).toEqual(rootsBySize);
    // RFC 9162 section 2.1.3.2
    let fn = inclusion.index;
    let sn = inclusion.treeSize - 1;
    let r = leaf(leaves[inclusion.index]!);
    for (const p of inclusion.proof.map((h) => Buffer.from(h, 'hex'))) {
      if (fn % 2 === 1 || fn === sn) {
        r = node(p, r);
        while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn >> 1, sn >> 1];
      } else r = node(r, p);
      [fn, sn] = [fn >> 1, sn >> 1];
    }
    expect(sn).toBe(0);
    expect(r.toString('hex')).toBe(inclusion.root);
  });

  it('the key, its id and the checkpoint signature are Ed25519 as signed notes define them', () => {
    const { secretKeyHex, keyName, keyId, publicKeyHex, verifierKey } = vectors.key;
    const publicKey = createPublicKey(ed25519Pkcs8(Buffer.from(secretKeyHex, 'hex')))
      .export({ format: 'der', type: 'spki' })
      .subarray(12);
    expect(publicKey.toString('hex')).toBe(publicKeyHex);
    expect(keyIdOf(keyName, publicKey)).toBe(keyId);
    expect(verifierKey).toBe(`${keyName}+${keyId}+${Buffer.concat([Buffer.of(1), publicKey]).toString('base64')}`);

    const [text, signatures] = vectors.checkpoint.note.split('\n\n') as [string, string];
    const line = signatures.trim();
    expect(line.startsWith(`\u2014 ${keyName} `)).toBe(true);
    const blob = Buffer.from(line.slice(`\u2014 ${keyName} `.length), 'base64');
    expect(blob.subarray(0, 4).toString('hex')).toBe(keyId);
    const message = Buffer.from(`${text}\n`, 'utf8');
    expect(verify(null, message, ed25519Spki(publicKey), blob.subarray(4))).toBe(true);
    // Ed25519 is deterministic: OpenSSL signing with the test key gives the same signature.
    expect(sign(null, message, ed25519Pkcs8(Buffer.from(secretKeyHex, 'hex'))).equals(blob.subarray(4))).toBe(true);
    // The note's tree size and root are those of the records before the checkpoint.
    const [, size, root] = text.split('\n');
    expect(Buffer.from(root!, 'base64').toString('hex')).toBe(vectors.merkle.rootsBySize[Number(size) - 1]);
  });
});

interface AttestationVectors {
  signedMessagePrefixHex: string;
  keys: { ledgerKey: string; attestationKey: string; attestationSecretKeyHex: string; attestationPublicKeyHex: string };
  genesisHash: string;
  bundle: {
    attestation: {
      attestation: { subject: string; steps: number; checkpoint: { treeSize: number; rootHash: string; note: string } };
      signature: { value: string };
    };
    genesis: { record: string; inclusionProof: string[] };
    records: { record: string; inclusionProof: string[] }[];
  };
}

const attestationVectors = JSON.parse(
  readFileSync(new URL('../vectors/attestation-v1.json', import.meta.url), 'utf8'),
) as AttestationVectors;

/** RFC 9162 section 2.1.3.2, written again here on purpose. */
function rootFromProof(recordHash: string, index: number, treeSize: number, proof: string[]): string {
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf(recordHash);
  for (const p of proof.map((h) => Buffer.from(h, 'hex'))) {
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn >> 1, sn >> 1];
    } else r = node(r, p);
    [fn, sn] = [fn >> 1, sn >> 1];
  }
  return sn === 0 ? r.toString('hex') : 'proof too long';
}

describe('attestation v1 vectors, checked with node:crypto alone', () => {
  const { bundle, keys } = attestationVectors;
  const { attestation, signature } = bundle.attestation;

  it('the attestation signature is Ed25519 over the prefix and the JCS text of the attestation', () => {
    expect(Buffer.from(attestationVectors.signedMessagePrefixHex, 'hex').toString('latin1')).toBe('custodian.attestation.v1\0');
    const message = Buffer.concat([
      Buffer.from(attestationVectors.signedMessagePrefixHex, 'hex'),
      Buffer.from(jcs(attestation), 'utf8'),
    ]);
    const publicKey = Buffer.from(keys.attestationPublicKeyHex, 'hex');
    expect(keys.attestationKey.endsWith(Buffer.concat([Buffer.of(1), publicKey]).toString('base64'))).toBe(true);
    expect(verify(null, message, ed25519Spki(publicKey), Buffer.from(signature.value, 'base64'))).toBe(true);
    expect(sign(null, message, ed25519Pkcs8(Buffer.from(keys.attestationSecretKeyHex, 'hex'))).toString('base64')).toBe(
      signature.value,
    );
  });

  it('every record of the bundle hashes into the checkpoint root through its proof, and the product chain links up', () => {
    const prefix = Buffer.from(vectors.recordHash.prefixHex, 'hex');
    const { treeSize, rootHash } = attestation.checkpoint;
    let previous: string | null = null;
    for (const item of [bundle.genesis, ...bundle.records]) {
      expect(jcs(JSON.parse(item.record))).toBe(item.record);
      const hash = sha256(prefix, Buffer.from(item.record, 'utf8')).toString('hex');
      const record = JSON.parse(item.record) as { sequence: number; entities: { id: string; previousHash: string | null }[] };
      expect(rootFromProof(hash, record.sequence, treeSize, item.inclusionProof)).toBe(rootHash);
      if (item === bundle.genesis) {
        expect(hash).toBe(attestationVectors.genesisHash);
        continue;
      }
      expect(record.entities.find((entity) => entity.id === attestation.subject)?.previousHash).toBe(previous);
      previous = hash;
    }
    expect(bundle.records).toHaveLength(attestation.steps);
  });
});

type Entry = { offset: string; value: string } | { offset: string; valueBase64: string };

interface NegativeVectors {
  ledgerId: string;
  partition: number;
  key: { verifierKey: string };
  verifierKeys: { verifierKey: string; reads: { keyName: string; keyId: string; publicKeyHex: string } | null }[];
  honest: { genesisPin: string; entries: Entry[] };
  cases: { name: string; genesisPin: string | null; entries: Entry[]; firstFinding: Finding | null }[];
  witness: {
    checkpoint: unknown;
    ledgers: {
      name: string;
      genesisPin: string | null;
      entries: Entry[];
      firstFinding: Finding | null;
      witnessFinding: { kind: string; sequence: number } | null;
    }[];
    consistency: {
      why: string;
      fromTreeSize: number;
      fromRootHash: string;
      toTreeSize: number;
      toRootHash: string;
      proof: string[];
      valid: boolean;
    }[];
  };
}

const negative = JSON.parse(
  readFileSync(new URL('../vectors/ledger-v1-negative.json', import.meta.url), 'utf8'),
) as NegativeVectors;

const read = (entries: Entry[]) =>
  entries.map((entry) => ({
    offset: entry.offset,
    value: 'value' in entry ? Buffer.from(entry.value, 'utf8') : Buffer.from(entry.valueBase64, 'base64'),
  }));

function partitionOf(genesisPin: string | null): Partition {
  const key = readVerifierKey(negative.key.verifierKey);
  if (!key) throw new Error('the vectors key does not read');
  return { ledgerId: negative.ledgerId, partition: negative.partition, key, genesisPin };
}

describe('ledger v1 negative vectors, verified as docs/ledger-format.md §7 says, with node:crypto alone', () => {
  it('the honest partition verifies against its genesis pin', () => {
    expect(verifyPartition(read(negative.honest.entries), partitionOf(negative.honest.genesisPin)).finding).toBeNull();
  });

  it.each(negative.cases.map((item) => [item.name, item] as const))('%s ends with the first finding given', (_, item) => {
    expect(verifyPartition(read(item.entries), partitionOf(item.genesisPin)).finding).toEqual(item.firstFinding);
  });

  it('verifier keys split at their first two "+" and are refused unless name, key and key id agree', () => {
    for (const { verifierKey, reads } of negative.verifierKeys) {
      const key = readVerifierKey(verifierKey);
      expect(key && { keyName: key.name, keyId: key.id, publicKeyHex: key.publicKey.toString('hex') }).toEqual(
        reads ?? undefined,
      );
    }
  });
});

describe('witness vectors, checked as docs/attestation-format.md §5 says, with node:crypto alone', () => {
  it.each(negative.witness.ledgers.map((ledger) => [ledger.name, ledger] as const))(
    'the %s ledger verifies and stands against the witnessed checkpoint as given',
    (_, ledger) => {
      const partition = partitionOf(ledger.genesisPin);
      const { finding, verified } = verifyPartition(read(ledger.entries), partition);
      expect(finding).toEqual(ledger.firstFinding);
      expect(againstWitness(negative.witness.checkpoint, verified, partition)).toEqual(ledger.witnessFinding);
    },
  );

  it.each(negative.witness.consistency.map((item) => [item.why, item] as const))(
    'the consistency proof %s is valid or not as given',
    (_, { fromTreeSize, toTreeSize, fromRootHash, toRootHash, proof, valid }) => {
      expect(consistent(fromTreeSize, toTreeSize, fromRootHash, toRootHash, proof)).toBe(valid);
    },
  );
});

interface SnapshotVectors {
  snapshotHash: { domainHex: string };
  key: { secretKeyHex: string; verifierKey: string };
  records: { offset: string; canonical: string; hash: string }[];
  snapshot: {
    body: { treeSize: number; checkpointOffset: string; checkpointHash: string; frontier: string[]; stateRoot: string };
    canonical: string;
    hash: string;
    note: string;
  };
  stateTree: {
    root: string;
    entries: { kind: string; name: string; key: string; value: string }[];
    nodes: { path: string; node: string }[];
  };
  tiles: { level: number; index: number; hashes: string[] }[];
}

const snapshotVectors = JSON.parse(
  readFileSync(new URL('../vectors/snapshot-v1.json', import.meta.url), 'utf8'),
) as SnapshotVectors;

/** docs/ledger-format.md §11.2 written again: the nodes, by path, of the state tree of these entries. */
function stateTreeOf(entries: readonly { key: Buffer; value: Buffer }[]): { root: Buffer; nodes: Map<string, Buffer> } {
  const nodes = new Map<string, Buffer>();
  const nibble = (key: Buffer, depth: number): number => ((key[depth >> 1] ?? 0) >> (depth % 2 === 0 ? 4 : 0)) & 0x0f;
  const build = (path: string, group: readonly { key: Buffer; value: Buffer }[]): Buffer => {
    const [only] = group;
    let bytes: Buffer;
    if (group.length === 1 && only) bytes = Buffer.concat([Buffer.of(0), only.key, sha256(only.value)]);
    else {
      let bitmap = 0;
      const children: Buffer[] = [];
      for (let i = 0; i < 16; i++) {
        const below = group.filter((entry) => nibble(entry.key, path.length) === i);
        if (below.length === 0) continue;
        bitmap |= 1 << (15 - i);
        children.push(build(path + i.toString(16), below));
      }
      bytes = Buffer.concat([Buffer.of(1, bitmap >> 8, bitmap & 0xff), ...children]);
    }
    nodes.set(path, bytes);
    return sha256(bytes);
  };
  return { root: entries.length === 0 ? Buffer.alloc(32) : build('', entries), nodes };
}

describe('writer snapshot v1 vectors, checked as docs/ledger-format.md §11 says, with node:crypto alone', () => {
  const { body, canonical, hash, note } = snapshotVectors.snapshot;
  const checkpointRecord = snapshotVectors.records.find((record) => record.offset === body.checkpointOffset)!;

  it('the snapshot hash is SHA-256 of the domain and the JCS text of the body', () => {
    const domain = Buffer.from(snapshotVectors.snapshotHash.domainHex, 'hex');
    expect(domain.toString('latin1')).toBe('custodian.ledger.snapshot.v1\0');
    expect(jcs(body)).toBe(canonical);
    expect(sha256(domain, Buffer.from(canonical, 'utf8')).toString('hex')).toBe(hash);
  });

  it("the note is the checkpoint's note text and the snapshot line, signed once by the ledger key", () => {
    const record = JSON.parse(checkpointRecord.canonical) as { sequence: number; eventType: string; payload: { note: string } };
    expect(recordHash(Buffer.from(checkpointRecord.canonical, 'utf8'))).toBe(body.checkpointHash);
    expect(record.eventType).toBe('ledger.checkpoint');
    expect(record.sequence).toBe(body.treeSize);
    const text = `${record.payload.note.split('\n\n')[0]!}\nsnapshot ${hash}\n`;
    const key = readVerifierKey(snapshotVectors.key.verifierKey)!;
    const prefix = `${text}\n\u2014 ${key.name} `;
    expect(note.startsWith(prefix) && note.endsWith('\n')).toBe(true);
    const blob = fromCanonicalBase64(note.slice(prefix.length, -1))!;
    expect(blob.subarray(0, 4).toString('hex')).toBe(key.id);
    expect(verify(null, Buffer.from(text, 'utf8'), ed25519Spki(key.publicKey), blob.subarray(4))).toBe(true);
    expect(sign(null, Buffer.from(text, 'utf8'), ed25519Pkcs8(Buffer.from(snapshotVectors.key.secretKeyHex, 'hex')))).toEqual(
      blob.subarray(4),
    );
  });

  it('the frontier is the compact range of the tree the checkpoint signs, and folds to its root', () => {
    const hashes = snapshotVectors.records.slice(0, body.treeSize).map((record) => record.hash);
    const range: string[] = [];
    for (let from = 0, bit = 2 ** Math.floor(Math.log2(body.treeSize)); bit >= 1; bit /= 2) {
      if ((body.treeSize & bit) === 0) continue;
      range.push(mth(hashes.slice(from, from + bit)));
      from += bit;
    }
    expect(body.frontier).toEqual(range);
    const folded = range
      .map((hex): Buffer => Buffer.from(hex, 'hex'))
      .reduceRight((right: Buffer, left: Buffer) => node(left, right))
      .toString('base64');
    expect(note.split('\n')[2]).toBe(folded);
  });

  it('the state tree is the 16-ary radix tree of its entries, node for node, with the signed root', () => {
    const entries = snapshotVectors.stateTree.entries.map(({ kind, name, key, value }) => {
      expect(sha256(Buffer.from(`custodian.state.${kind}\0${name}`, 'utf8')).toString('hex')).toBe(key);
      expect(jcs(JSON.parse(value))).toBe(value);
      return { key: Buffer.from(key, 'hex'), value: Buffer.from(value, 'utf8') };
    });
    const { root, nodes } = stateTreeOf(entries);
    expect(root.toString('hex')).toBe(body.stateRoot);
    expect(snapshotVectors.stateTree.root).toBe(body.stateRoot);
    expect(new Map(snapshotVectors.stateTree.nodes.map(({ path, node: bytes }) => [path, bytes]))).toEqual(
      new Map([...nodes].map(([path, bytes]) => [path, bytes.toString('hex')])),
    );
  });

  it("the tiles hold the leaf hashes of the records up to the checkpoint record's own", () => {
    const leaves = snapshotVectors.records.slice(0, body.treeSize + 1).map((record) => leaf(record.hash).toString('hex'));
    expect(snapshotVectors.tiles).toEqual([{ level: 0, index: 0, hashes: leaves }]);
  });
});

describe('the time rule of docs/ledger-format.md §2.1', () => {
  it('accepts exactly the strings of its form that ECMAScript Date.parse accepts', () => {
    // Every field from 0 to a little past its largest value, so that both sides of each bound come up.
    const field = (largest: number, width = 2) =>
      fc.integer({ min: 0, max: largest + 2 }).map((n) => String(n).padStart(width, '0'));
    const fraction = fc
      .tuple(fc.integer({ min: 1, max: 9 }), fc.boolean())
      .chain(([length, zero]) =>
        zero
          ? fc.constant('0'.repeat(length))
          : fc.integer({ min: 0, max: 10 ** length - 1 }).map((n) => String(n).padStart(length, '0')),
      );
    const offset = fc.oneof(
      fc.constant('Z'),
      fc.tuple(fc.constantFrom('+', '-'), field(23), field(59)).map(([sign, hours, minutes]) => `${sign}${hours}:${minutes}`),
    );
    const time = fc
      .tuple(field(9997, 4), field(12), field(31), field(24), field(59), field(59), fc.option(fraction), offset)
      .map(([y, mo, d, h, mi, s, f, o]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${f === null ? '' : `.${f}`}${o}`);
    fc.assert(
      fc.property(time, (text) => {
        expect(isTime(text)).toBe(!Number.isNaN(Date.parse(text)));
      }),
      { numRuns: 5000 },
    );
    for (const text of ['2026-02-30T00:00:00Z', '2026-01-01T24:00:00.000+05:00', '2026-01-01T00:00:00.123456789-00:00']) {
      expect(isTime(text)).toBe(true);
    }
    for (const text of ['2026-01-01t00:00:00Z', '2026-01-01 00:00:00Z', '2026-01-01T24:00:00.001Z', '2026-01-01T23:59:60Z']) {
      expect(isTime(text)).toBe(false);
    }
  });
});

import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { ed25519Signer, type Ed25519Signer, ed25519Verifier, type Ed25519Verify, randomSeed } from './platform/ed25519.js';
import { sha256 } from './platform/sha256.js';
import type { Hash } from './hashing.js';

/**
 * Checkpoints in the form of a C2SP tlog-checkpoint carried in a C2SP signed note, signed
 * with Ed25519 (docs/ledger-format.md, "Checkpoints"):
 *
 *   <origin>\n<tree size>\n<base64 root hash>\nhead <hex head hash>\ntime <RFC 3339 time>\n
 *   \n
 *   — <key name> <base64(key id || signature)>\n
 *
 * The key id is the first four bytes of SHA-256(key name || 0x0A || 0x01 || public key), as
 * signed notes define it for Ed25519; the signature covers the note text above the blank line.
 */
export interface Checkpoint {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: Hash;
  readonly headHash: Hash;
  readonly time: string;
}

export interface SignedCheckpoint extends Checkpoint {
  readonly keyName: string;
  readonly keyId: string; // 8 hex digits
  readonly signature: string; // base64 of the 64-byte Ed25519 signature
  /** The whole signed note, text and signature line. */
  readonly note: string;
}

const ED25519 = 0x01;
const KEY_NAME = /^[^\s+]+$/;

export class CheckpointFormatError extends Error {
  override name = 'CheckpointFormatError';
}

/** Standard base64 (RFC 4648 §4) without Buffer, so the module also runs in a browser. */
function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new CheckpointFormatError(`not base64: ${text}`);
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

export function checkpointOrigin(ledgerId: string, partition: number): string {
  return `custodian/${ledgerId}/${partition}`;
}

/**
 * The event id of the record carrying a checkpoint, derived from what the checkpoint signs, so
 * that no member of that record is left unsigned (docs/ledger-format.md, "Checkpoints"): the
 * first 16 bytes of SHA-256("custodian.ledger.checkpoint.v1" || 0x00 || note text) as a UUID
 * with version 8 and the RFC 9562 variant.
 */
export function checkpointEventId(checkpoint: Checkpoint): string {
  const digest = sha256(utf8ToBytes('custodian.ledger.checkpoint.v1\0'), utf8ToBytes(noteText(checkpoint))).slice(0, 16);
  digest[6] = ((digest[6] ?? 0) & 0x0f) | 0x80;
  digest[8] = ((digest[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytesToHex(digest);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function noteText(checkpoint: Checkpoint): string {
  return (
    `${checkpoint.origin}\n${checkpoint.treeSize}\n${base64(hexToBytes(checkpoint.rootHash))}\n` +
    `head ${checkpoint.headHash}\ntime ${checkpoint.time}\n`
  );
}

export function keyIdOf(keyName: string, publicKey: Uint8Array): string {
  return bytesToHex(sha256(utf8ToBytes(keyName), Uint8Array.of(0x0a, ED25519), publicKey).slice(0, 4));
}

/** A writer's Ed25519 key: signs checkpoints. The secret never leaves this object. */
export class CheckpointSigner {
  readonly publicKey: Uint8Array;
  readonly keyId: string;
  private readonly signer: Ed25519Signer;

  constructor(
    readonly keyName: string,
    secretKey: Uint8Array,
  ) {
    if (!KEY_NAME.test(keyName)) throw new CheckpointFormatError(`key name ${JSON.stringify(keyName)} holds space or +`);
    if (secretKey.length !== 32) throw new CheckpointFormatError('an Ed25519 secret key is 32 bytes');
    this.signer = ed25519Signer(secretKey);
    this.publicKey = this.signer.publicKey;
    this.keyId = keyIdOf(keyName, this.publicKey);
  }

  static generateSecretKey(): Uint8Array {
    return randomSeed();
  }

  /** The verifier key in signed-note form: <name>+<hex key id>+<base64(0x01 || public key)>. */
  get verifierKey(): string {
    return `${this.keyName}+${this.keyId}+${base64(concatBytes(Uint8Array.of(ED25519), this.publicKey))}`;
  }

  /**
   * Signs other statements with this key (attestations). The caller puts a domain prefix in
   * front of the message, so that no such signature can pass for a checkpoint's (a note text
   * starts with its origin, `custodian/...`).
   */
  signMessage(message: Uint8Array): string {
    return base64(this.signer.sign(message));
  }

  sign(checkpoint: Checkpoint): SignedCheckpoint {
    const { note, signature } = this.signNote(noteText(checkpoint));
    return { ...checkpoint, keyName: this.keyName, keyId: this.keyId, signature, note };
  }

  /** A signed note of this text (which ends in a newline): the text, a blank line, this key's signature line. */
  signNote(text: string): { note: string; signature: string } {
    const signature = this.signer.sign(utf8ToBytes(text));
    const line = `\u2014 ${this.keyName} ${base64(concatBytes(hexToBytes(this.keyId), signature))}\n`;
    return { note: `${text}\n${line}`, signature: base64(signature) };
  }
}

/** Who may sign checkpoints: a key name and its Ed25519 public key. */
export class CheckpointVerifier {
  readonly keyId: string;
  private readonly verify: Ed25519Verify;

  constructor(
    readonly keyName: string,
    readonly publicKey: Uint8Array,
  ) {
    if (publicKey.length !== 32) throw new CheckpointFormatError('an Ed25519 public key is 32 bytes');
    this.keyId = keyIdOf(keyName, publicKey);
    try {
      this.verify = ed25519Verifier(publicKey);
    } catch (error) {
      throw new CheckpointFormatError(`not an Ed25519 public key: ${(error as Error).message}`);
    }
  }

  static fromVerifierKey(vkey: string): CheckpointVerifier {
    // Name and key id hold no '+'; the base64 key after them may.
    const first = vkey.indexOf('+');
    const second = vkey.indexOf('+', first + 1);
    const [name, id, key] = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
    if (first < 1 || second < 0 || !id || !key)
      throw new CheckpointFormatError('a verifier key reads <name>+<key id>+<base64 key>');
    const raw = fromBase64(key);
    if (raw.length !== 33 || raw[0] !== ED25519) throw new CheckpointFormatError('only Ed25519 verifier keys are supported');
    const verifier = new CheckpointVerifier(name, raw.slice(1));
    if (verifier.keyId !== id) throw new CheckpointFormatError(`key id ${id} does not match the key (${verifier.keyId})`);
    return verifier;
  }

  /** The key in signed-note form: <name>+<hex key id>+<base64(0x01 || public key)>. */
  get verifierKey(): string {
    return `${this.keyName}+${this.keyId}+${base64(concatBytes(Uint8Array.of(ED25519), this.publicKey))}`;
  }

  /** Checks a base64 Ed25519 signature made with CheckpointSigner.signMessage. */
  verifiesMessage(signature: string, message: Uint8Array): boolean {
    let raw: Uint8Array;
    try {
      raw = fromBase64(signature);
    } catch {
      return false;
    }
    if (raw.length !== 64 || base64(raw) !== signature) return false;
    return this.verify(raw, message);
  }

  /**
   * Checks that the note is well-formed, matches the structured fields, and carries a valid
   * signature by this key. Returns the reason when it does not, undefined when it does.
   */
  problemWith(checkpoint: SignedCheckpoint): string | undefined {
    const text = noteText(checkpoint);
    const parts = checkpoint.note.split('\n\n');
    if (parts.length !== 2 || `${parts[0] ?? ''}\n` !== text) {
      return 'the signed note text does not state the checkpoint fields';
    }
    if (checkpoint.keyName !== this.keyName) return `the checkpoint names key ${checkpoint.keyName}, not ${this.keyName}`;
    const signed = this.signatureOf(checkpoint.note, text);
    if (typeof signed !== 'object') return signed;
    if (base64(signed) !== checkpoint.signature || checkpoint.keyId !== this.keyId) {
      return 'the signature fields do not match the signature line';
    }
    return undefined;
  }

  /**
   * Checks a signed note of exactly this text (a writer snapshot's, docs/ledger-format.md §11):
   * the text, a blank line, and one signature line, this key's, that verifies. Returns the
   * reason when it does not, undefined when it does.
   */
  problemWithNote(note: string, text: string): string | undefined {
    const parts = note.split('\n\n');
    if (parts.length !== 2 || `${parts[0] ?? ''}\n` !== text) return 'the signed note text is not the one expected';
    const signed = this.signatureOf(note, text);
    return typeof signed === 'object' ? undefined : signed;
  }

  /** The verified signature of a note whose text is `text`, or why there is none. */
  private signatureOf(note: string, text: string): Uint8Array | string {
    // Exactly one signature line, ours, in canonical base64: nothing unsigned rides along.
    const line = note.slice(text.length + 1);
    const prefix = `\u2014 ${this.keyName} `;
    if (!line.startsWith(prefix) || !line.endsWith('\n') || line.indexOf('\n') !== line.length - 1) {
      return `the note must carry exactly one signature line, by key ${this.keyName}`;
    }
    const encoded = line.slice(prefix.length, -1);
    let blob: Uint8Array;
    try {
      blob = fromBase64(encoded);
    } catch {
      return 'the signature line is not base64';
    }
    if (base64(blob) !== encoded) return 'the signature line is not in canonical base64';
    if (blob.length !== 68 || bytesToHex(blob.slice(0, 4)) !== this.keyId) {
      return `the signature is not by key id ${this.keyId}`;
    }
    const signature = blob.slice(4);
    return this.verify(signature, utf8ToBytes(text)) ? signature : 'the Ed25519 signature does not verify';
  }
}

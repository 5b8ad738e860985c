/**
 * Signed audit checkpoints in the C2SP formats:
 * - signed note (https://c2sp.org/signed-note): a text ending in a newline, a blank line, then
 *   one or more lines `— <key name> <base64(key ID || signature)>`, with Ed25519 signatures
 *   (type 0x01) over the text and key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4];
 * - checkpoint (https://c2sp.org/tlog-checkpoint): a note whose text is
 *   `<origin>\n<tree size>\n<base64 RFC 6962 root hash>\n` (optionally followed by extension lines).
 * Verifier keys use the `<name>+<hex key ID>+<base64(0x01 || public key)>` form of the Go
 * reference implementation (golang.org/x/mod/sumdb/note).
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { StintError } from '../core/errors.js';

export { loadOrCreateAuditKey } from './audit-key.js';

/** Signature type byte of Ed25519 in the signed-note registry. */
const ED25519_TYPE = 0x01;
const ED25519_PUBLIC_KEY_BYTES = 32;
const KEY_ID_BYTES = 4;
const SIGNATURE_PREFIX = '\u2014 ';
/** The spec asks verifiers to cap signatures and to accept at least 16; the Go reference caps at 100. */
const MAX_SIGNATURES = 100;
const SHA256_BYTES = 32;

/** One signature line of a signed note. */
export interface NoteSignature {
  readonly name: string;
  /** The 4-byte key ID (big-endian uint32 in the spec). */
  readonly keyId: Uint8Array;
  readonly signature: Uint8Array;
}

/** A signed note split into its signed text and its signature lines. */
export interface SignedNote {
  /** The signed text, including its final newline but not the separating blank line. */
  readonly body: string;
  readonly signatures: readonly NoteSignature[];
}

/** The three mandatory lines of a checkpoint (c2sp.org/tlog-checkpoint). */
export interface Checkpoint {
  readonly origin: string;
  /** Number of leaves in the tree. */
  readonly size: number;
  /** RFC 6962 Merkle tree root (32 bytes). */
  readonly rootHash: Uint8Array;
}

/** Signs note texts with one Ed25519 key (c2sp.org/signed-note, signature type 0x01). */
export interface CheckpointSigner {
  /** Key name written in signature lines. */
  readonly name: string;
  /** 4-byte key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4]. */
  readonly keyId: Uint8Array;
  /** Public verifier key `<name>+<hex key ID>+<base64(0x01 || public key)>`, safe to publish. */
  readonly verifierKey: string;
  /** Signs `body` (a note text ending in a newline) and returns the full signed note. */
  sign(body: string): string;
}

/** A verifier key decoded from its `<name>+<hex key ID>+<base64 key>` text. */
export interface NoteVerifierKey {
  readonly name: string;
  readonly keyId: Uint8Array;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

function invalid(detail: string): StintError {
  return new StintError('checkpoint_invalid', detail);
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/** RFC 4648 section 4 base64 with padding, rejecting anything a strict decoder would not round-trip. */
function decodeBase64Strict(text: string): Uint8Array | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  // Non-zero padding bits decode, but are not the canonical encoding of any byte string.
  return bytes.toString('base64') === text ? new Uint8Array(bytes) : undefined;
}

/** Key names "MUST be non-empty and MUST NOT contain any Unicode spaces or plus (U+002B)". */
function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\p{White_Space}+]/u.test(name) && isNoteSafe(name);
}

/** Valid UTF-8 (no lone surrogates) without ASCII control characters other than newline. */
function isNoteSafe(text: string): boolean {
  if (/[\u0000-\u0009\u000B-\u001F]/.test(text)) return false;
  return Buffer.from(text, 'utf8').toString('utf8') === text;
}

/** Why `body` cannot be the signed text of a note, or undefined when it can. */
function noteTextProblem(body: string): string | undefined {
  if (body.length === 0 || body === '\n') return 'the note text is empty';
  if (!body.endsWith('\n')) return 'the note text does not end with a newline';
  if (body.endsWith('\n\n')) return 'the note text ends with a blank line';
  if (!isNoteSafe(body)) return 'the note contains control characters or invalid UTF-8';
  return undefined;
}

function keyIdFor(name: string, publicKey: Uint8Array): Uint8Array {
  const digest = createHash('sha256')
    .update(Buffer.from(name, 'utf8'))
    .update(Buffer.from([0x0a, ED25519_TYPE]))
    .update(publicKey)
    .digest();
  return new Uint8Array(digest.subarray(0, KEY_ID_BYTES));
}

function rawEd25519PublicKey(key: KeyObject): Uint8Array {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new StintError('config_invalid', 'the audit key has no Ed25519 public part');
  return new Uint8Array(Buffer.from(jwk.x, 'base64url'));
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}

/**
 * Creates the checkpoint signer for key `name` (c2sp.org/signed-note: key ID and Ed25519
 * signature type 0x01). Throws StintError('config_invalid') when the name is not a valid key
 * name or the key is not an Ed25519 private key.
 */
export function createCheckpointSigner(name: string, privateKey: KeyObject): CheckpointSigner {
  if (!isValidKeyName(name)) {
    throw new StintError('config_invalid', 'the checkpoint key name must be non-empty, without spaces or "+"');
  }
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new StintError('config_invalid', 'the checkpoint key must be an Ed25519 private key');
  }
  const publicKey = rawEd25519PublicKey(privateKey);
  const keyId = keyIdFor(name, publicKey);
  const verifierKey = `${name}+${toHex(keyId)}+${Buffer.concat([Buffer.from([ED25519_TYPE]), publicKey]).toString('base64')}`;
  return {
    name,
    keyId,
    verifierKey,
    sign(body: string): string {
      const problem = noteTextProblem(body);
      if (problem !== undefined) throw new StintError('internal', `cannot sign: ${problem}`);
      const signature = sign(null, Buffer.from(body, 'utf8'), privateKey);
      const line = `${SIGNATURE_PREFIX}${name} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
      return `${body}\n${line}`;
    },
  };
}

/**
 * The text of a checkpoint (c2sp.org/tlog-checkpoint): origin, tree size in decimal without
 * leading zeroes, and the base64 RFC 6962 root hash, each followed by a newline.
 */
export function formatCheckpointBody(checkpoint: Checkpoint): string {
  const { origin, size, rootHash } = checkpoint;
  if (origin.length === 0 || origin.includes('\n') || !isNoteSafe(origin)) {
    throw new StintError('config_invalid', 'the checkpoint origin must be one non-empty line of text');
  }
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError('checkpoint size must be a non-negative integer');
  if (rootHash.length !== SHA256_BYTES) throw new RangeError('checkpoint root hash must be 32 bytes');
  return `${origin}\n${size}\n${Buffer.from(rootHash).toString('base64')}\n`;
}

/**
 * Splits a signed note (c2sp.org/signed-note) into its text and signature lines, strictly:
 * valid UTF-8, no control characters but newline, a final newline, the text separated from
 * at least one well-formed signature line by exactly one blank line, no blank line elsewhere
 * after the text. Signatures are not verified here. Throws StintError('checkpoint_invalid').
 */
export function parseSignedNote(text: string): SignedNote {
  if (!isNoteSafe(text)) throw invalid('the note contains control characters or invalid UTF-8');
  if (!text.endsWith('\n')) throw invalid('the note does not end with a newline');
  if (text.endsWith('\n\n')) throw invalid('the note ends with a blank line');
  // "the text is separated from the signatures by the last empty line in the note".
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw invalid('the note has no blank line before its signatures');
  const body = text.slice(0, split + 1);
  const problem = noteTextProblem(body);
  if (problem !== undefined) throw invalid(problem);
  const lines = text.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw invalid(`the note has more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line, i): NoteSignature => {
    const where = `signature line ${i + 1}`;
    if (!line.startsWith(SIGNATURE_PREFIX)) throw invalid(`${where} does not start with an em dash and a space`);
    const parts = line.slice(SIGNATURE_PREFIX.length).split(' ');
    if (parts.length !== 2) throw invalid(`${where} is not "— <key name> <signature>"`);
    const [name, encoded] = parts as [string, string];
    if (!isValidKeyName(name)) throw invalid(`${where} has an invalid key name`);
    const bytes = decodeBase64Strict(encoded);
    if (bytes === undefined) throw invalid(`${where} is not valid base64`);
    if (bytes.length <= KEY_ID_BYTES) throw invalid(`${where} is too short to hold a key ID and a signature`);
    return { name, keyId: bytes.slice(0, KEY_ID_BYTES), signature: bytes.slice(KEY_ID_BYTES) };
  });
  return { body, signatures };
}

/**
 * Decodes a verifier key `<name>+<hex key ID>+<base64(0x01 || 32-byte Ed25519 public key)>` and
 * checks that the key ID is the one derived from name and key (c2sp.org/signed-note).
 * Throws StintError('checkpoint_invalid').
 */
export function parseVerifierKey(vkey: string): NoteVerifierKey {
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (second < 0) throw invalid('the verifier key is not "<name>+<key id>+<key>"');
  const name = vkey.slice(0, first);
  const idHex = vkey.slice(first + 1, second);
  if (!isValidKeyName(name)) throw invalid('the verifier key has an invalid key name');
  if (!/^[0-9a-fA-F]{8}$/.test(idHex)) throw invalid('the verifier key id is not 8 hex digits');
  const key = decodeBase64Strict(vkey.slice(second + 1));
  if (key === undefined) throw invalid('the verifier key is not valid base64');
  if (key[0] !== ED25519_TYPE || key.length !== 1 + ED25519_PUBLIC_KEY_BYTES) {
    throw invalid('the verifier key is not an Ed25519 (type 0x01) key');
  }
  const publicKey = key.slice(1);
  const keyId = keyIdFor(name, publicKey);
  if (toHex(keyId) !== idHex.toLowerCase()) throw invalid('the verifier key id does not match its name and key');
  return { name, keyId, publicKey };
}

function parseCheckpointBody(body: string): Checkpoint {
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw invalid('the checkpoint has fewer than three lines');
  // "Extension lines, if any, MUST be non-empty" (and so must the three mandatory ones).
  if (lines.some((line) => line.length === 0)) throw invalid('the checkpoint contains an empty line');
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (!/^(?:0|[1-9][0-9]*)$/.test(sizeText)) throw invalid('the checkpoint tree size is not a decimal without leading zeroes');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw invalid('the checkpoint tree size is too large');
  const rootHash = decodeBase64Strict(rootText);
  if (rootHash === undefined || rootHash.length !== SHA256_BYTES) {
    throw invalid('the checkpoint root hash is not base64 of 32 bytes');
  }
  return { origin, size, rootHash };
}

/**
 * Parses a signed checkpoint and verifies it with `vkey`. Per c2sp.org/signed-note, signatures
 * from other keys (a different name or key ID) are ignored, a signature from this key that
 * fails to verify rejects the note, and a note with no signature from this key is rejected.
 * Throws StintError('checkpoint_invalid') whose detail names the problem.
 */
export function parseCheckpoint(text: string, vkey: string): Checkpoint {
  const verifier = parseVerifierKey(vkey);
  const note = parseSignedNote(text);
  const mine = note.signatures.filter((s) => s.name === verifier.name && bytesEqual(s.keyId, verifier.keyId));
  if (mine.length === 0) {
    throw invalid(`the checkpoint has no signature by ${verifier.name} (key id ${toHex(verifier.keyId)})`);
  }
  const key = publicKeyObject(verifier.publicKey);
  const data = Buffer.from(note.body, 'utf8');
  for (const s of mine) {
    if (!verify(null, data, key, s.signature)) throw invalid(`the signature by ${verifier.name} does not verify`);
  }
  return parseCheckpointBody(note.body);
}

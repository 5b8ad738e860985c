import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isStintError } from '../../src/core/errors.js';
import {
  createCheckpointSigner,
  formatCheckpointBody,
  parseCheckpoint,
  parseSignedNote,
  parseVerifierKey,
} from '../../src/audit/signed-note.js';

// A fixed Ed25519 key (PKCS#8 DER prefix + 32-byte seed) so key IDs and verifier keys are known answers.
const SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac7f49e3b6e7', 'hex');
const fixedKey = (): KeyObject =>
  createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), SEED]), format: 'der', type: 'pkcs8' });
// The raw public key, taken from the SPKI DER encoding (the code under test goes through JWK).
const PUBLIC = createPublicKey(fixedKey()).export({ format: 'der', type: 'spki' }).subarray(-32);

const NAME = 'stint.example/audit';
const ROOT = new Uint8Array(createHash('sha256').update('some root').digest());
const BODY = formatCheckpointBody({ origin: NAME, size: 42, rootHash: ROOT });

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isStintError(e)) return `${e.code}: ${e.detail}`;
    throw e;
  }
  return 'no error';
}

describe('C2SP signed note checkpoints', () => {
  it('derives key ID and verifier key as c2sp.org/signed-note says (known answer)', () => {
    const signer = createCheckpointSigner(NAME, fixedKey());
    // Computed here independently: SHA-256(name || 0x0A || 0x01 || public key)[:4].
    const expectedId = createHash('sha256')
      .update(Buffer.concat([Buffer.from(NAME, 'utf8'), Buffer.from([0x0a, 0x01]), PUBLIC]))
      .digest()
      .subarray(0, 4);
    expect(Buffer.from(signer.keyId).toString('hex')).toBe(expectedId.toString('hex'));
    // Pinned so a change of derivation cannot go unnoticed (these values follow from SEED).
    expect(PUBLIC.toString('hex')).toBe('97ebfd0a9cdb8fa7d10850f1cd7db343bb7080d6ea51f99c0efbfd3710e47c77');
    expect(expectedId.toString('hex')).toBe('95aefc09');
    expect(signer.verifierKey).toBe(
      `${NAME}+${expectedId.toString('hex')}+${Buffer.concat([Buffer.from([0x01]), PUBLIC]).toString('base64')}`,
    );
    const parsed = parseVerifierKey(signer.verifierKey);
    expect(parsed.name).toBe(NAME);
    expect(Buffer.from(parsed.publicKey).equals(PUBLIC)).toBe(true);
  });

  it('signs the exact note format and verifies it back (round trip)', () => {
    const signer = createCheckpointSigner(NAME, fixedKey());
    expect(BODY).toBe(`${NAME}\n42\n${Buffer.from(ROOT).toString('base64')}\n`);
    const note = signer.sign(BODY);
    const lines = note.split('\n');
    expect(lines.slice(0, 4)).toEqual([NAME, '42', Buffer.from(ROOT).toString('base64'), '']);
    expect(lines[4]!.startsWith(`\u2014 ${NAME} `)).toBe(true);
    expect(note.endsWith('\n')).toBe(true);
    // The signature line carries key ID || Ed25519 signature over the body bytes (deterministic).
    const sig = Buffer.from(lines[4]!.split(' ')[2]!, 'base64');
    expect(sig.subarray(0, 4).equals(Buffer.from(signer.keyId))).toBe(true);
    expect(sig.subarray(4).equals(edSign(null, Buffer.from(BODY), fixedKey()))).toBe(true);

    const cp = parseCheckpoint(note, signer.verifierKey);
    expect(cp.origin).toBe(NAME);
    expect(cp.size).toBe(42);
    expect(Buffer.from(cp.rootHash).equals(Buffer.from(ROOT))).toBe(true);
    const parsed = parseSignedNote(note);
    expect(parsed.body).toBe(BODY);
    expect(parsed.signatures).toHaveLength(1);
    expect(parsed.signatures[0]!.name).toBe(NAME);
  });

  it('rejects a tampered body, a tampered signature, another key, and a wrong vkey', () => {
    const signer = createCheckpointSigner(NAME, fixedKey());
    const note = signer.sign(BODY);
    expect(code(() => parseCheckpoint(note.replace('\n42\n', '\n43\n'), signer.verifierKey))).toBe(
      `checkpoint_invalid: the signature by ${NAME} does not verify`,
    );
    const sigLine = note.split('\n')[4]!;
    const sig = Buffer.from(sigLine.split(' ')[2]!, 'base64');
    sig[10]! ^= 1;
    const badSig = note.replace(sigLine, `\u2014 ${NAME} ${sig.toString('base64')}`);
    expect(code(() => parseCheckpoint(badSig, signer.verifierKey))).toBe(`checkpoint_invalid: the signature by ${NAME} does not verify`);

    const other = createCheckpointSigner(NAME, generateKeyPairSync('ed25519').privateKey);
    expect(code(() => parseCheckpoint(other.sign(BODY), signer.verifierKey))).toMatch(/^checkpoint_invalid: the checkpoint has no signature by/);
    const renamed = createCheckpointSigner('other.example/log', fixedKey());
    expect(code(() => parseCheckpoint(renamed.sign(BODY), signer.verifierKey))).toMatch(/no signature by stint\.example\/audit/);

    // A vkey whose id does not belong to its key, or not Ed25519, or malformed.
    const [n, id, key] = [NAME, signer.verifierKey.split('+')[1]!, signer.verifierKey.split('+').slice(2).join('+')];
    const wrongId = ((parseInt(id, 16) ^ 1) >>> 0).toString(16).padStart(8, '0');
    expect(code(() => parseCheckpoint(note, `${n}+${wrongId}+${key}`))).toBe('checkpoint_invalid: the verifier key id does not match its name and key');
    const ecdsaType = Buffer.from(key, 'base64');
    ecdsaType[0] = 0x02;
    expect(code(() => parseCheckpoint(note, `${n}+${id}+${ecdsaType.toString('base64')}`))).toMatch(/not an Ed25519/);
    expect(code(() => parseCheckpoint(note, 'nonsense'))).toMatch(/^checkpoint_invalid: the verifier key is not/);
  });

  it('ignores signatures of unknown keys but rejects a failing signature of the known key', () => {
    const signer = createCheckpointSigner(NAME, fixedKey());
    const witness = createCheckpointSigner('witness.example/w1', generateKeyPairSync('ed25519').privateKey);
    const note = signer.sign(BODY);
    const cosigned = `${note}${witness.sign(BODY).split('\n\n')[1]}`;
    expect(parseSignedNote(cosigned).signatures).toHaveLength(2);
    expect(parseCheckpoint(cosigned, signer.verifierKey).size).toBe(42);
    expect(parseCheckpoint(cosigned, witness.verifierKey).size).toBe(42);
    // Same name and key ID, wrong signature bytes: must fail even though another line verifies.
    const line = note.split('\n')[4]!;
    const forged = Buffer.from(line.split(' ')[2]!, 'base64');
    forged[20]! ^= 0x80;
    const withForged = `${note}\u2014 ${NAME} ${forged.toString('base64')}\n`;
    expect(code(() => parseCheckpoint(withForged, signer.verifierKey))).toMatch(/does not verify/);
    // Same name and key ID, a signature of the wrong length.
    const short = Buffer.concat([Buffer.from(signer.keyId), Buffer.alloc(10)]).toString('base64');
    expect(code(() => parseCheckpoint(`${note}\u2014 ${NAME} ${short}\n`, signer.verifierKey))).toMatch(/does not verify/);
  });

  it('parses strictly: malformed notes and checkpoint bodies are refused with a precise reason', () => {
    const signer = createCheckpointSigner(NAME, fixedKey());
    const note = signer.sign(BODY);
    const sigLine = note.split('\n')[4]!;
    const cases: Array<[string, RegExp]> = [
      [note.slice(0, -1), /does not end with a newline/],
      [`${note}\n`, /ends with a blank line/],
      [note.replace('\n\n', '\n\n\n'), /note text ends with a blank line/],
      [BODY, /no blank line before its signatures/],
      [`${BODY}\n`, /ends with a blank line/],
      [note.replace('\u2014 ', '- '), /does not start with an em dash/],
      [note.replace(`${NAME} `, `${NAME}  `), /is not "— <key name> <signature>"/],
      [note.replace(`\u2014 ${NAME}`, `\u2014 a+b`), /invalid key name/],
      [note.replace(sigLine, `${sigLine}=`), /not valid base64/],
      [note.replace(sigLine, `\u2014 ${NAME} AAAA`), /too short/],
      [note.replace('42', '4\u00012'), /control characters/],
      [`\n\n${sigLine}\n`, /note text is empty/],
    ];
    for (const [text, reason] of cases) expect(code(() => parseSignedNote(text)), JSON.stringify(text)).toMatch(reason);

    const signed = (body: string): string => signer.sign(body);
    const b64 = Buffer.from(ROOT).toString('base64');
    const bodies: Array<[string, RegExp]> = [
      [`${NAME}\n42\n`, /fewer than three lines/],
      [`${NAME}\n042\n${b64}\n`, /leading zeroes/],
      [`${NAME}\n-1\n${b64}\n`, /leading zeroes/],
      [`${NAME}\n99999999999999999999\n${b64}\n`, /too large/],
      [`${NAME}\n42\n${b64.slice(0, -4)}\n`, /32 bytes/],
      [`${NAME}\n42\n${b64}\n\next\n`, /empty line/],
    ];
    for (const [body, reason] of bodies) expect(code(() => parseCheckpoint(signed(body), signer.verifierKey)), body).toMatch(reason);
    // Extension lines are allowed (c2sp.org/tlog-checkpoint) and ignored.
    expect(parseCheckpoint(signed(`${BODY}ext line\n`), signer.verifierKey).size).toBe(42);
  });

  it('refuses to create a signer from a bad name or a non-Ed25519 key, and to sign a bad body', () => {
    expect(code(() => createCheckpointSigner('has space', fixedKey()))).toMatch(/^config_invalid/);
    expect(code(() => createCheckpointSigner('', fixedKey()))).toMatch(/^config_invalid/);
    expect(code(() => createCheckpointSigner(NAME, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey))).toMatch(
      /^config_invalid: the checkpoint key must be an Ed25519 private key/,
    );
    const signer = createCheckpointSigner(NAME, fixedKey());
    expect(code(() => signer.sign('no newline'))).toMatch(/does not end with a newline/);
    expect(code(() => signer.sign('a\n\n'))).toMatch(/ends with a blank line/);
    expect(code(() => formatCheckpointBody({ origin: 'a\nb', size: 1, rootHash: ROOT }))).toMatch(/^config_invalid/);
    expect(() => formatCheckpointBody({ origin: NAME, size: 1.5, rootHash: ROOT })).toThrow(RangeError);
    expect(() => formatCheckpointBody({ origin: NAME, size: 1, rootHash: ROOT.slice(1) })).toThrow(RangeError);
  });
});

/**
 * The cheapest real login attempt with an issued credential: the PostgreSQL frontend/backend
 * protocol (protocol 3.0, "Message Flow: Start-up") spoken directly on a socket. The probe sends
 * the startup packet a client sends (user, database), answers the server's authentication
 * request with the issued password exactly as a client would (SCRAM-SHA-256 per RFC 5802/7677,
 * MD5 or cleartext, whatever the server asks for), and reads until the server either says
 * ReadyForQuery (the login worked) or sends an ErrorResponse (it refused). Nothing else: no
 * parameter parsing, no type setup, no query.
 *
 * Why not `pg.Client`: issue #3 wants 1,000 credentials proven dead within 1 s, and each proof
 * needs a real login attempt. Measured on this machine (docs/benchmarks.md, lead's note), 1,000
 * refused logins take ~1.6 s with pg.Client and ~1.1 s with a raw socket; the server's backend
 * fork per connection is the floor. The probe keeps the client's share of that small.
 *
 * It handles plain TCP and SCRAM-SHA-256 (or no password at all) only. A client URL that asks for
 * anything else (TLS via `sslmode`/`ssl`, a Unix socket, other parameters), and a server that
 * asks for another method (MD5, cleartext), go through `pg.Client` instead (login.ts: the probe
 * answers `undefined`), so the attempt is always made the way the credential's holder would.
 *
 * The outcome is read conservatively: AuthenticationOk followed by ReadyForQuery is `accepted`
 * (the credential still works); an ErrorResponse of SQLSTATE class 28 is `refused` (wrong or
 * expired password, no such role, NOLOGIN; the last two arrive after AuthenticationOk, which is
 * why the probe reads on); anything else proves nothing.
 */
import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import net from 'node:net';
import { promisify } from 'node:util';
import { isUnreachable, redact } from './errors.js';
import type { LoginOutcome } from './login.js';

const pbkdf2Async = promisify(pbkdf2);

/** Protocol version 3.0 (the only one PostgreSQL 7.4+ speaks). */
const PROTOCOL_3_0 = 196608;

/** Authentication request codes ("AuthenticationXXX" messages). */
const AUTH_OK = 0;
const AUTH_SASL = 10;
const AUTH_SASL_CONTINUE = 11;
const AUTH_SASL_FINAL = 12;

/** SQLSTATE class 28 (invalid authorization specification): the server refused the login. */
const AUTH_REFUSED = /^28/;

/**
 * PBKDF2 rounds the probe will compute for a server's SCRAM challenge. PostgreSQL's default is
 * 4096 (`scram_iterations`); a much larger figure is refused rather than burning CPU for a server
 * that may not be the one configured.
 */
const MAX_SCRAM_ITERATIONS = 1_000_000;

/** Where to log in, read from a client URL the probe can handle. */
export interface ProbeEndpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

/**
 * The endpoint of `clientUrl` when the raw probe can make the attempt exactly as `pg` would
 * (plain TCP, no connection parameters), else undefined (the caller uses `pg.Client`).
 */
export function probeEndpoint(clientUrl: string): ProbeEndpoint | undefined {
  let url: URL;
  try {
    url = new URL(clientUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return undefined;
  // Any parameter (sslmode, ssl, options, host=/socket ...) changes how pg connects: not ours.
  if ([...url.searchParams.keys()].length > 0 || url.hostname === '' || /^%2f/i.test(url.hostname)) return undefined;
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) return undefined;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port === '' ? 5432 : Number(url.port), database };
}

/** A frontend message: type byte, int32 length (including itself), body. */
function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function cstring(text: string): Buffer {
  return Buffer.from(`${text}\0`, 'utf8');
}

function startupPacket(user: string, database: string): Buffer {
  const body = Buffer.concat([cstring('user'), cstring(user), cstring('database'), cstring(database), cstring('client_encoding'), cstring('UTF8'), Buffer.from([0])]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(body.length + 8, 0);
  head.writeInt32BE(PROTOCOL_3_0, 4);
  return Buffer.concat([head, body]);
}

/** The fields of an ErrorResponse, by field type ('C' SQLSTATE, 'M' message). */
function errorFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const type = String.fromCharCode(body[at]!);
    const end = body.indexOf(0, at + 1);
    if (end < 0) break;
    fields.set(type, body.subarray(at + 1, end).toString('utf8'));
    at = end + 1;
  }
  return fields;
}

/** State of a SCRAM-SHA-256 exchange (RFC 5802 section 3). */
interface ScramState {
  readonly clientNonce: string;
  readonly clientFirstBare: string;
  expectedServerSignature?: Buffer;
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i += 1) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** The client-final message for the server-first message `serverFirst`, or a reason it is unusable. */
async function scramClientFinal(state: ScramState, serverFirst: string, password: string): Promise<string> {
  const attrs = new Map(serverFirst.split(',').map((kv) => [kv.slice(0, 1), kv.slice(2)] as const));
  const nonce = attrs.get('r');
  const salt = attrs.get('s');
  const iterations = Number(attrs.get('i'));
  if (nonce === undefined || !nonce.startsWith(state.clientNonce) || nonce.length === state.clientNonce.length) {
    throw new Error('the server-first SCRAM message has a nonce that does not extend the client nonce');
  }
  if (salt === undefined || !Number.isInteger(iterations) || iterations < 1 || iterations > MAX_SCRAM_ITERATIONS) {
    throw new Error('the server-first SCRAM message has no usable salt or iteration count');
  }
  const salted = await pbkdf2Async(password, Buffer.from(salt, 'base64'), iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  // Channel binding "n,," (none) base64-encoded is "biws"; the probe runs without TLS.
  const withoutProof = `c=biws,r=${nonce}`;
  const authMessage = `${state.clientFirstBare},${serverFirst},${withoutProof}`;
  const proof = xor(clientKey, createHmac('sha256', storedKey).update(authMessage).digest());
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  state.expectedServerSignature = createHmac('sha256', serverKey).update(authMessage).digest();
  return `${withoutProof},p=${proof.toString('base64')}`;
}

/**
 * Tries `username`/`password` against `endpoint` and tells what the server said, or `undefined`
 * when the server asks for an authentication method other than SCRAM-SHA-256 (the caller then
 * uses pg.Client). Reasons name SQLSTATEs and the server's message, never the password. Bounded
 * by `timeoutMs` overall.
 */
export function probeLogin(endpoint: ProbeEndpoint, username: string, password: string, timeoutMs: number): Promise<LoginOutcome | undefined> {
  const secrets = [password];
  return new Promise<LoginOutcome | undefined>((resolve) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port, noDelay: true });
    let received: Buffer = Buffer.alloc(0);
    let settled = false;
    let authenticated = false;
    let scram: ScramState | undefined;
    /** `undefined`: the server wants a method the probe leaves to pg.Client. */
    const finish = (outcome: LoginOutcome | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Terminate ('X') is the polite goodbye after a login that worked; then drop the socket.
      if (outcome?.kind === 'accepted' && socket.writable) socket.end(message('X', Buffer.alloc(0)));
      else socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: 'unreachable', reason: `no answer to the login within ${timeoutMs} ms` }), timeoutMs);
    const send = (buffer: Buffer): void => {
      if (!settled) socket.write(buffer);
    };

    const onAuth = async (body: Buffer): Promise<void> => {
      const code = body.readInt32BE(0);
      switch (code) {
        case AUTH_OK:
          // Authenticated; a NOLOGIN role or a missing one is still refused after this point.
          authenticated = true;
          return;
        case AUTH_SASL: {
          const mechanisms = body.subarray(4).toString('utf8').split('\0').filter((m) => m !== '');
          // Only SCRAM-SHA-256-PLUS (channel binding, TLS only) or another mechanism: pg.Client's call.
          if (!mechanisms.includes('SCRAM-SHA-256')) {
            finish(undefined);
            return;
          }
          const clientNonce = randomBytes(18).toString('base64');
          scram = { clientNonce, clientFirstBare: `n=*,r=${clientNonce}` };
          const first = Buffer.from(`n,,${scram.clientFirstBare}`, 'utf8');
          const length = Buffer.alloc(4);
          length.writeInt32BE(first.length, 0);
          send(message('p', Buffer.concat([cstring('SCRAM-SHA-256'), length, first])));
          return;
        }
        case AUTH_SASL_CONTINUE: {
          if (scram === undefined) throw new Error('SASL continue without a SASL exchange');
          send(message('p', Buffer.from(await scramClientFinal(scram, body.subarray(4).toString('utf8'), password), 'utf8')));
          return;
        }
        case AUTH_SASL_FINAL: {
          // A server that proves it knows the verifier; an impostor that cannot is no answer.
          const final = body.subarray(4).toString('utf8');
          const signature = final.startsWith('v=') ? Buffer.from(final.slice(2), 'base64') : undefined;
          if (scram?.expectedServerSignature === undefined || signature === undefined || !signature.equals(scram.expectedServerSignature)) {
            finish({ kind: 'error', reason: 'the server signature of the SCRAM exchange does not match' });
          }
          return;
        }
        default:
          // MD5, cleartext, GSS...: pg.Client makes this attempt instead (see the file comment).
          finish(undefined);
      }
    };

    // Messages are handled strictly in order: a SCRAM step awaits PBKDF2 before the next one.
    let chain = Promise.resolve();
    const onMessage = (type: string, body: Buffer): void => {
      chain = chain
        .then(async () => {
          if (settled) return;
          if (type === 'R') await onAuth(body);
          else if (type === 'Z') finish(authenticated ? { kind: 'accepted' } : { kind: 'error', reason: 'ReadyForQuery without authentication' });
          else if (type === 'E') {
            const fields = errorFields(body);
            const code = fields.get('C') ?? '';
            const reason = redact(`${code}: ${fields.get('M') ?? 'no message'}`, secrets).slice(0, 1000);
            if (AUTH_REFUSED.test(code)) finish({ kind: 'refused', code, reason });
            else finish(isUnreachable({ code }) ? { kind: 'unreachable', reason } : { kind: 'error', reason });
          }
          // 'S' ParameterStatus, 'K' BackendKeyData, 'N' NoticeResponse, 'v': nothing to decide.
        })
        .catch((e: unknown) => finish({ kind: 'error', reason: redact(e instanceof Error ? e.message : String(e), secrets).slice(0, 500) }));
    };

    socket.once('connect', () => send(startupPacket(username, endpoint.database)));
    socket.on('data', (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      while (received.length >= 5) {
        const length = received.readInt32BE(1);
        if (length < 4) {
          finish({ kind: 'error', reason: 'the server sent a malformed message' });
          return;
        }
        if (received.length < length + 1) break;
        onMessage(String.fromCharCode(received[0]!), received.subarray(5, length + 1));
        received = received.subarray(length + 1);
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => finish({ kind: 'unreachable', reason: redact(`${e.code ?? 'socket error'}: ${e.message}`, secrets).slice(0, 500) }));
    socket.once('close', () => finish({ kind: 'unreachable', reason: 'the server closed the connection before answering the login' }));
  });
}

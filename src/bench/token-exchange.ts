/**
 * Issue #4 item 9: RFC 8693 token exchanges per second (auto-approved, durable) and DPoP-bound
 * (RFC 9449) exchanges per second. No goal is set for them; they are reported for context.
 *
 * Stint: `POST /oauth/token` over keep-alive HTTP to a broker in its own process (`stint
 * serve`, PGlite, example configuration): workload:deploy-bot's dev identity token exchanged
 * for orders-db/read, 15 minutes. Each exchange verifies the subject token, evaluates the
 * policy and writes a new active grant with its audit events in one transaction, then signs
 * the access token. The DPoP run adds a fresh proof per request, which the broker verifies and
 * whose `jti` it records durably (replay guard). Proofs are signed in a pre-pass before each
 * timed run: signing is the client's cost, so the timed loop measures the broker alone.
 *
 * Reference in the same run: the same grant through the native API (`POST /v1/grants`), same
 * broker, same client and concurrency, before and after the exchanges (averaged); and raw
 * verification of the subject token (jose `jwtVerify` against the dev issuer's key), the
 * floor of what any exchange must do.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { devPublicJwks, loadOrCreateDevIssuerKey } from '../adapters/identity-jwt/index.js';
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPE_JWT } from '../service/token-exchange.js';
import { spawnBroker } from './child-broker.js';
import { KeepAliveClient } from './http-client.js';
import { combineRates, measureRate, measureWarm, warmUpCount, type Rate } from './measure.js';
import { BENCH_GRANT_BODY, BENCH_GRANT_INPUT, BENCH_WORKLOAD, createBenchState, devIdentity, loadBenchConfig, type BenchWorkspace } from './setup.js';

/** Options of {@link benchTokenExchange}. */
export interface TokenExchangeOptions {
  /** Exchanges (and native requests, and verifications) per measured run. */
  readonly exchanges: number;
  readonly concurrency: number;
}

/** Result of {@link benchTokenExchange}. */
export interface TokenExchangeResult {
  readonly concurrency: number;
  /** `POST /oauth/token`, token exchange, Bearer token. */
  readonly exchange: Rate;
  /** The same with a fresh DPoP proof per request (DPoP-bound token). */
  readonly dpopExchange: Rate;
  /** `POST /v1/grants` with the same request: mean of the runs before and after. */
  readonly native: Rate;
  readonly nativeRuns: readonly Rate[];
  /** jose `jwtVerify` of the subject token: mean of the runs before and after. */
  readonly rawVerify: Rate;
  readonly rawVerifyRuns: readonly Rate[];
}

/** The answer fields the bench checks (RFC 8693 section 2.2.1, plus Stint's `grant_id`). */
interface ExchangeAnswer {
  readonly access_token?: unknown;
  readonly token_type?: unknown;
  readonly grant_id?: unknown;
}

/** The form body of one exchange: the native bench request, in RFC 8693 parameters. */
function exchangeBody(subjectToken: string): string {
  return new URLSearchParams({
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: subjectToken,
    subject_token_type: TOKEN_TYPE_JWT,
    audience: BENCH_GRANT_INPUT.target,
    scope: BENCH_GRANT_INPUT.role,
    task: BENCH_GRANT_INPUT.task,
    reason: BENCH_GRANT_INPUT.reason,
    ttl: '15m',
  }).toString();
}

/** `count` DPoP proofs for `POST htu`, one key, each with its own `jti` (RFC 9449 section 4.2). */
async function signProofs(count: number, htu: string): Promise<string[]> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const proofs: string[] = [];
  for (let i = 0; i < count; i++) {
    proofs.push(
      await new SignJWT({ htm: 'POST', htu, jti: randomUUID() })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
        .setIssuedAt()
        .sign(privateKey),
    );
  }
  return proofs;
}

/**
 * Measures token exchanges (Bearer and DPoP-bound) against the native grant request on one
 * child broker, and raw subject-token verification in this process. Throws when any exchange
 * answers other than 200 with an access token of the expected type and a grant of its own.
 */
export async function benchTokenExchange(ws: BenchWorkspace, opts: TokenExchangeOptions): Promise<TokenExchangeResult> {
  const state = await createBenchState(ws, 'token-exchange', 'pglite');
  const config = await loadBenchConfig(state);
  const { token: subjectToken } = await devIdentity(config, BENCH_WORKLOAD);
  const devKeys = createLocalJWKSet(devPublicJwks(await loadOrCreateDevIssuerKey(config.dev.keyFile)));
  const verifyOnce = async (): Promise<void> => {
    const { payload } = await jwtVerify(subjectToken, devKeys, { issuer: config.dev.issuer, audience: config.dev.audience });
    if (payload.sub === undefined) throw new Error('the verified subject token names no subject');
  };
  const rawBefore = await measureWarm(opts.exchanges, opts.concurrency, verifyOnce);

  const child = await spawnBroker(ws, state);
  const client = new KeepAliveClient(child.url, opts.concurrency);
  let exchange: Rate;
  let dpopExchange: Rate;
  let nativeRuns: Rate[];
  try {
    // The broker checks `htu` against its public URL (RFC 9449 section 4.3), which it publishes here.
    const metadata = (await client.json('GET', '/.well-known/oauth-authorization-server', 200)) as { token_endpoint: string };
    const htu = metadata.token_endpoint;
    const grantIds = new Set<string>();
    const exchangeOnce = async (expectedType: 'Bearer' | 'DPoP', proof?: string): Promise<void> => {
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...(proof !== undefined ? { dpop: proof } : {}) };
      const answer = (await client.json('POST', '/oauth/token', 200, { headers, body: exchangeBody(subjectToken) })) as ExchangeAnswer;
      if (typeof answer.access_token !== 'string' || answer.access_token.length === 0) throw new Error('a token exchange answered 200 without an access_token');
      if (answer.token_type !== expectedType) throw new Error(`a token exchange answered token_type ${String(answer.token_type)} (expected ${expectedType})`);
      // Each exchange must make its own durable grant, not hand back an earlier one.
      if (typeof answer.grant_id !== 'string' || grantIds.has(answer.grant_id)) throw new Error('a token exchange answered a missing or repeated grant_id');
      grantIds.add(answer.grant_id);
    };
    const nativeOnce = async (): Promise<void> => {
      const headers = { authorization: `Bearer ${subjectToken}`, 'content-type': 'application/json' };
      const body = (await client.json('POST', '/v1/grants', 201, { headers, body: BENCH_GRANT_BODY })) as { grant: { status: string }; accessToken?: string };
      if (body.grant.status !== 'active' || typeof body.accessToken !== 'string') throw new Error(`the native request was not issued at once (status ${body.grant.status})`);
    };
    // A proof is accepted for 60 s after its `iat`, so each run's proofs are signed right before it.
    const dpopRun = async (count: number): Promise<Rate> => {
      const proofs = await signProofs(count, htu);
      return measureRate(count, opts.concurrency, (i) => exchangeOnce('DPoP', proofs[i]));
    };

    const nativeBefore = await measureWarm(opts.exchanges, opts.concurrency, nativeOnce);
    exchange = await measureWarm(opts.exchanges, opts.concurrency, () => exchangeOnce('Bearer'));
    await dpopRun(warmUpCount(opts.exchanges));
    dpopExchange = await dpopRun(opts.exchanges);
    const nativeAfter = await measureRate(opts.exchanges, opts.concurrency, nativeOnce);
    nativeRuns = [nativeBefore, nativeAfter];
  } finally {
    client.close();
    await child.stop();
  }
  const rawAfter = await measureWarm(opts.exchanges, opts.concurrency, verifyOnce);
  return {
    concurrency: opts.concurrency,
    exchange,
    dpopExchange,
    native: combineRates(nativeRuns),
    nativeRuns,
    rawVerify: combineRates([rawBefore, rawAfter]),
    rawVerifyRuns: [rawBefore, rawAfter],
  };
}

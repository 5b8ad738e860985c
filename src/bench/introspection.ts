/**
 * Goal 2: introspections per second at least half the raw JWT verification rate.
 *
 * Stint: `POST /oauth/introspect` (RFC 7662) over keep-alive HTTP to a broker in its own
 * process, for a real active token: caller authentication (cached identity), token signature
 * and claims, and the grant read from the store. Also `IntrospectionService.introspect`
 * in-process, and `GET /healthz` through the same client (the bare HTTP round trip), to
 * separate HTTP cost from Stint's own. Reference: `verifyAccessToken` (jose
 * `jwtVerify` with the broker's key ring) of the same token in-process, same concurrency,
 * before and after (averaged).
 *
 * The judged run introspects one token over and over, as a resource server does for the token
 * on every request it serves; the broker then verifies its signature once (verified-token-cache.ts).
 * `httpFirstSight` introspects a different token of the same grant each time (distinct `iat`), so
 * every call pays the full signature verification: the cost of a token's first introspection.
 */
import { issueAccessToken, loadOrCreateTokenKeys, verifyAccessToken, type TokenKeyRing } from '../adapters/tokens-jose/index.js';
import { systemClock } from '../ports/clock.js';
import type { AccessTokens } from '../ports/tokens.js';
import { IntrospectionService } from '../service/introspection.js';
import { spawnBroker } from './child-broker.js';
import { KeepAliveClient } from './http-client.js';
import { combineRates, measureWarm, warmUpCount, type Rate } from './measure.js';
import { BENCH_GRANT_INPUT, BENCH_WORKLOAD, createBenchState, devIdentity, startInProcessBroker, type BenchWorkspace } from './setup.js';

/** Options of {@link benchIntrospection}. */
export interface IntrospectionOptions {
  /** Introspections (and verifications) per measured run. */
  readonly requests: number;
  readonly concurrency: number;
}

/** Result of {@link benchIntrospection}. */
export interface IntrospectionResult {
  readonly concurrency: number;
  /** `POST /oauth/introspect` over keep-alive HTTP. */
  readonly http: Rate;
  /**
   * `GET /healthz` through the same client and broker: the HTTP round trip with no work behind
   * it, the ceiling any HTTP endpoint can reach on this machine (context for `http`).
   */
  readonly httpFloor: Rate;
  /** `POST /oauth/introspect` with a token never introspected before on every call. */
  readonly httpFirstSight: Rate;
  /** `IntrospectionService.introspect` in-process. */
  readonly inProcess: Rate;
  /** `verifyAccessToken` of the same token: mean of the runs before and after. */
  readonly rawVerify: Rate;
  readonly rawVerifyRuns: readonly Rate[];
}

/** The AccessTokens port over the key ring, as the composition root (src/app.ts) builds it. */
function accessTokens(ring: TokenKeyRing, issuer: string): AccessTokens {
  return {
    issue: (grant, now, cnfJkt) => issueAccessToken(ring, { issuer, grant, now, ...(cnfJkt !== undefined ? { cnfJkt } : {}) }),
    verify: (token, now) => verifyAccessToken(ring, token, { issuer, now }),
    jwks: () => ring.publicJwks() as { keys: object[] },
  };
}

/** Measures introspection (HTTP and in-process) and raw JWT verification of one active token. */
export async function benchIntrospection(ws: BenchWorkspace, opts: IntrospectionOptions): Promise<IntrospectionResult> {
  const state = await createBenchState(ws, 'introspection', 'pglite');
  const broker = await startInProcessBroker(ws, state);
  const { config } = broker;
  const issuer = config.server.publicUrl;
  let accessToken: string;
  let identityToken: string;
  let rawBefore: Rate;
  let inProcess: Rate;
  let distinctTokens: string[];
  const ring = await loadOrCreateTokenKeys(config.tokens.keysFile, config.tokens.algorithm);
  const verifyOnce = async (): Promise<void> => {
    const claims = await verifyAccessToken(ring, accessToken, { issuer, now: Date.now() });
    if (claims.sub !== BENCH_WORKLOAD) throw new Error('the verified token names another subject');
  };
  try {
    const identity = await devIdentity(config, BENCH_WORKLOAD);
    identityToken = identity.token;
    const issued = await broker.grants.request(identity.principal, BENCH_GRANT_INPUT);
    if (issued.accessToken === undefined) throw new Error('the bench grant got no access token');
    accessToken = issued.accessToken;
    // Tokens of the same grant that differ in iat only: one per first-sight introspection.
    const now = Date.now();
    distinctTokens = await Promise.all(
      Array.from({ length: opts.requests + warmUpCount(opts.requests) }, (_, i) => issueAccessToken(ring, { issuer, grant: issued.grant, now: now - (i + 1) * 1000 })),
    );
    rawBefore = await measureWarm(opts.requests, opts.concurrency, verifyOnce);
    const introspection = new IntrospectionService(accessTokens(ring, issuer), broker.store, systemClock, issuer);
    inProcess = await measureWarm(opts.requests, opts.concurrency, async () => {
      const answer = await introspection.introspect(accessToken, identity.principal.tenant);
      if (!answer.active) throw new Error('the bench token introspected as inactive');
    });
  } finally {
    await broker.stop();
  }

  const child = await spawnBroker(ws, state);
  const client = new KeepAliveClient(child.url, opts.concurrency);
  let http: Rate;
  let httpFloor: Rate;
  let httpFirstSight: Rate;
  try {
    const headers = { authorization: `Bearer ${identityToken}`, 'content-type': 'application/x-www-form-urlencoded' };
    const body = new URLSearchParams({ token: accessToken }).toString();
    http = await measureWarm(opts.requests, opts.concurrency, async () => {
      const answer = (await client.json('POST', '/oauth/introspect', 200, { headers, body })) as { active: boolean };
      if (answer.active !== true) throw new Error('the bench token introspected as inactive over HTTP');
    });
    httpFirstSight = await measureWarm(opts.requests, opts.concurrency, async (i) => {
      const answer = (await client.json('POST', '/oauth/introspect', 200, { headers, body: new URLSearchParams({ token: distinctTokens[i]! }).toString() })) as { active: boolean };
      if (answer.active !== true) throw new Error('a first-sight bench token introspected as inactive over HTTP');
    });
    httpFloor = await measureWarm(opts.requests, opts.concurrency, () => client.json('GET', '/healthz', 200));
  } finally {
    client.close();
    await child.stop();
  }
  const rawAfter = await measureWarm(opts.requests, opts.concurrency, verifyOnce);
  return { concurrency: opts.concurrency, http, httpFloor, httpFirstSight, inProcess, rawVerify: combineRates([rawBefore, rawAfter]), rawVerifyRuns: [rawBefore, rawAfter] };
}

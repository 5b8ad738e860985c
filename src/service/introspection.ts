/**
 * RFC 7662 token introspection. A token is active only while its grant is live *now*: the
 * signature and `exp` are checked, and then the grant's durable state, so a completed or
 * revoked grant's token answers `{"active": false}` the instant the grant ends (and stays so
 * across restarts: the state is in the store, not in memory).
 *
 * The grant is read through `Store.grantLiveness`, the narrow view introspection needs: on
 * PostgreSQL one indexed read of six columns per call (several replicas may share the store, so
 * nothing is cached), on PGlite a bounded cache that the store updates when a grant write commits
 * (src/adapters/store-sql/liveness.ts; issue #2 item 13, docs/benchmarks.md). A token that
 * verified before is not verified again while it is unexpired (verified-token-cache.ts: the same
 * bytes under the same keys give the same verdict); `exp` is checked against the clock every time.
 */
import { StintError } from '../core/errors.js';
import { isLive } from '../core/grant.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { AccessTokenClaims, AccessTokens } from '../ports/tokens.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

export type IntrospectionResponse = { active: false } | ({ active: true } & Record<string, unknown>);

export class IntrospectionService {
  constructor(
    private readonly tokens: AccessTokens,
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly issuer: string,
    private readonly verified: VerifiedTokenCache = new VerifiedTokenCache(),
  ) {}

  async introspect(token: string, callerTenant: string): Promise<IntrospectionResponse> {
    const now = this.clock.now();
    let claims: AccessTokenClaims | undefined = this.verified.get(token, now);
    if (claims === undefined) {
      try {
        claims = await this.tokens.verify(token, now);
      } catch (e) {
        if (e instanceof StintError && e.code === 'unauthenticated') return { active: false };
        throw e;
      }
      this.verified.remember(token, claims, now);
    }
    const grant = await this.store.grantLiveness(claims.jti);
    // RFC 7662 section 2.2: say nothing more about a token that is not active, or that belongs
    // to another tenant than the resource server asking.
    if (!grant || !isLive(grant, now) || grant.tenant !== callerTenant || grant.principal !== claims.sub) return { active: false };
    return {
      active: true,
      iss: this.issuer,
      sub: claims.sub,
      aud: claims.aud,
      client_id: claims.client_id,
      scope: claims.scope,
      token_type: 'Bearer',
      // The grant's current expiry: an approved extension moves it past the token's own exp.
      exp: Math.floor((grant.expiresAt ?? now) / 1000),
      iat: claims.iat,
      jti: claims.jti,
      task: grant.task,
      tenant: grant.tenant,
      ...(claims.act !== undefined ? { act: claims.act } : {}),
      ...(claims.cnf !== undefined ? { cnf: claims.cnf } : {}),
    };
  }
}

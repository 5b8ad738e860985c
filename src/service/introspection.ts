/**
 * RFC 7662 token introspection. A token is active only while its grant is live *now*: the
 * signature and `exp` are checked, and then the grant's durable state, so a completed or
 * revoked grant's token answers `{"active": false}` the instant the grant ends (and stays so
 * across restarts: the state is in the store, not in memory).
 *
 * The grant is read through `Store.grantLiveness`, the narrow view introspection needs: on
 * PostgreSQL one indexed read of six columns per call (several replicas may share the store, so
 * nothing is cached), on PGlite a bounded cache that the store updates when a grant write commits
 * (src/adapters/store-sql/liveness.ts; issue #2 item 13, docs/benchmarks.md).
 */
import { StintError } from '../core/errors.js';
import { isLive } from '../core/grant.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { AccessTokens } from '../ports/tokens.js';

export type IntrospectionResponse = { active: false } | ({ active: true } & Record<string, unknown>);

export class IntrospectionService {
  constructor(
    private readonly tokens: AccessTokens,
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly issuer: string,
  ) {}

  async introspect(token: string, callerTenant: string): Promise<IntrospectionResponse> {
    const now = this.clock.now();
    let claims;
    try {
      claims = await this.tokens.verify(token, now);
    } catch (e) {
      if (e instanceof StintError && e.code === 'unauthenticated') return { active: false };
      throw e;
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

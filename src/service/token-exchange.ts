/**
 * RFC 8693 token exchange at `POST /oauth/token` (issue #4): a workload trades the identity
 * token its platform gave it (GitHub Actions OIDC, Kubernetes, SPIFFE, any OIDC issuer) for a
 * JIT grant's access token, with any standard OAuth client. The exchange runs the same
 * lifecycle and policy as `POST /v1/grants`; only the wire format differs.
 *
 * Denials answer `access_denied` with a generic description: the deciding policies are in the
 * audit log, not in the answer. Requests that need a human answer `authorization_pending` with
 * the grant id; the client repeats the exchange with `grant_id` until the grant is active
 * (RFC 8628 section 3.5 polling semantics, including `slow_down`).
 */
import { StintError, type ErrorCode } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import { effectiveStatus } from '../core/grant.js';
import type { Principal } from '../core/principal.js';
import type { IdentityVerifier } from '../ports/identity.js';
import type { GrantResult, GrantService } from './grant-service.js';
import type { ServiceDeps } from './context.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const TOKEN_TYPE_JWT = 'urn:ietf:params:oauth:token-type:jwt';
export const TOKEN_TYPE_ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
export const TOKEN_TYPE_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const SUBJECT_TOKEN_TYPES = new Set([TOKEN_TYPE_JWT, TOKEN_TYPE_ID_TOKEN]);
/** Longest delegation chain accepted (RFC 8693 `act` nesting). */
export const MAX_ACTOR_DEPTH = 4;
/** Seconds a client waits between polls of a pending grant. */
export const POLL_INTERVAL_SECONDS = 5;
/** Default TTL when the client names none: short, and never above the role's maximum. */
const DEFAULT_TTL_SECONDS = 900;

/** RFC 6749 section 5.2 / RFC 8693 section 2.2.2 / RFC 8628 section 3.5 / RFC 9449 error codes. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_grant'
  | 'invalid_target'
  | 'invalid_scope'
  | 'unsupported_grant_type'
  | 'access_denied'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'temporarily_unavailable';

/** An OAuth error answer. Never carries a secret; `extra` adds members like `grant_id`. */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status: number = 400,
    readonly extra: Readonly<Record<string, unknown>> = {},
    /** For the audit log and server log only. */
    readonly internalReason?: string,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

export interface TokenResponse {
  readonly access_token: string;
  readonly issued_token_type: typeof TOKEN_TYPE_ACCESS_TOKEN;
  readonly token_type: 'Bearer' | 'DPoP';
  readonly expires_in: number;
  readonly scope: string;
  /** Stint extension: the grant behind the token (for `complete`, status, extension). */
  readonly grant_id: string;
  /** Stint extension: the target credential made for this grant alone, when the connector makes one. */
  readonly credential?: Readonly<Record<string, string>>;
}

/** Maps the broker's own errors on the exchanged request onto OAuth error codes. */
function oauthErrorOf(e: StintError): OAuthError {
  const map: Partial<Record<ErrorCode, OAuthErrorCode>> = {
    unknown_target: 'invalid_target',
    unknown_role: 'invalid_scope',
    ttl_exceeds_max: 'invalid_request',
    invalid_request: 'invalid_request',
    invalid_body: 'invalid_request',
    invalid_state: 'invalid_grant',
    grant_not_found: 'invalid_grant',
    forbidden: 'invalid_grant',
    unauthenticated: 'invalid_grant',
    target_unavailable: 'temporarily_unavailable',
    store_unavailable: 'temporarily_unavailable',
    audit_unavailable: 'temporarily_unavailable',
  };
  const error = map[e.code] ?? 'invalid_request';
  const status = error === 'temporarily_unavailable' ? 503 : 400;
  // Authentication failures say nothing more (the reason is in the audit log).
  const description = e.code === 'unauthenticated' ? 'the subject or actor token is not valid' : e.detail;
  return new OAuthError(error, description, status, {}, e.internalReason);
}

function one(params: Readonly<Record<string, string>>, name: string): string | undefined {
  const v = params[name];
  return v === undefined || v === '' ? undefined : v;
}

/** The target a `resource` (RFC 8707, absolute URI) or `audience` names. */
export function targetFromRequest(params: Readonly<Record<string, string>>, publicUrl: string): string {
  const resource = one(params, 'resource');
  const audience = one(params, 'audience');
  if (resource !== undefined) {
    let url: URL;
    try {
      url = new URL(resource);
    } catch {
      throw new OAuthError('invalid_target', 'resource must be an absolute URI (RFC 8707)');
    }
    if (url.protocol === 'urn:' && url.pathname.startsWith('stint:target:')) return url.pathname.slice('stint:target:'.length);
    const base = `${publicUrl}/targets/`;
    if (resource.startsWith(base) && !url.search && !url.hash) return decodeURIComponent(resource.slice(base.length));
    throw new OAuthError('invalid_target', `resource must be ${base}<target> or urn:stint:target:<target>`);
  }
  if (audience !== undefined) return audience;
  throw new OAuthError('invalid_request', 'name the target with resource or audience');
}

export class TokenExchangeService {
  /** Last poll per grant id, for `slow_down` (best effort per replica; bounded). */
  private readonly lastPoll = new Map<string, number>();

  constructor(
    private readonly deps: ServiceDeps,
    private readonly grants: GrantService,
    private readonly identity: IdentityVerifier,
    private readonly publicUrl: string,
    private readonly auditFailure: (reason: string) => Promise<void>,
  ) {}

  /** Runs one token request. `dpopJkt` is the thumbprint of a verified DPoP proof's key. */
  async exchange(params: Readonly<Record<string, string>>, dpopJkt?: string): Promise<TokenResponse> {
    const grantType = one(params, 'grant_type');
    if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grantType !== TOKEN_EXCHANGE_GRANT) throw new OAuthError('unsupported_grant_type', `only ${TOKEN_EXCHANGE_GRANT} is supported`);
    const requested = one(params, 'requested_token_type');
    if (requested !== undefined && requested !== TOKEN_TYPE_ACCESS_TOKEN && requested !== TOKEN_TYPE_JWT) {
      throw new OAuthError('invalid_request', `requested_token_type must be ${TOKEN_TYPE_ACCESS_TOKEN}`);
    }
    const principal = await this.principalOf(params);
    try {
      const grantId = one(params, 'grant_id');
      return grantId !== undefined ? await this.poll(principal, grantId, dpopJkt) : await this.open(principal, params, dpopJkt);
    } catch (e) {
      if (e instanceof StintError) throw oauthErrorOf(e);
      throw e;
    }
  }

  /** The subject, with the verified delegation chain when an actor token is given. */
  private async principalOf(params: Readonly<Record<string, string>>): Promise<Principal> {
    const subjectToken = one(params, 'subject_token');
    const subjectType = one(params, 'subject_token_type');
    if (subjectToken === undefined || subjectType === undefined) throw new OAuthError('invalid_request', 'subject_token and subject_token_type are required');
    if (!SUBJECT_TOKEN_TYPES.has(subjectType)) throw new OAuthError('invalid_request', `subject_token_type must be ${TOKEN_TYPE_JWT}`);
    const subject = await this.verify(subjectToken, 'subject');
    const actorToken = one(params, 'actor_token');
    const actorType = one(params, 'actor_token_type');
    if (actorToken === undefined) {
      if (actorType !== undefined) throw new OAuthError('invalid_request', 'actor_token_type without actor_token');
      return subject;
    }
    if (actorType === undefined || !SUBJECT_TOKEN_TYPES.has(actorType)) throw new OAuthError('invalid_request', `actor_token_type must be ${TOKEN_TYPE_JWT}`);
    const actor = await this.verify(actorToken, 'actor');
    // RFC 8693 section 4.4: the subject names who may act for it. No may_act, no delegation.
    const allowed = subject.mayAct?.some((m) => m.sub === actor.subject) ?? false;
    if (!allowed) {
      await this.auditFailure(`actor ${actor.id} is not named in may_act of ${subject.id}`);
      throw new OAuthError('invalid_grant', 'the subject token does not allow this actor (may_act)');
    }
    if (actor.tenant !== subject.tenant) throw new OAuthError('invalid_grant', 'actor and subject belong to different tenants');
    const chain = [actor.id, ...(actor.actorChain ?? [])];
    if (chain.length > MAX_ACTOR_DEPTH) throw new OAuthError('invalid_request', `delegation chains are limited to ${MAX_ACTOR_DEPTH} actors`);
    if (new Set([subject.id, ...chain]).size !== chain.length + 1) throw new OAuthError('invalid_request', 'the delegation chain loops');
    return { ...subject, actorChain: chain };
  }

  private async verify(token: string, which: 'subject' | 'actor'): Promise<Principal> {
    try {
      return await this.identity.verify(token);
    } catch (e) {
      if (e instanceof StintError && e.code === 'unauthenticated') {
        await this.auditFailure(`${which} token: ${e.internalReason ?? 'invalid'}`);
        throw new OAuthError('invalid_grant', `the ${which} token is not valid`);
      }
      throw e;
    }
  }

  private async open(p: Principal, params: Readonly<Record<string, string>>, dpopJkt: string | undefined): Promise<TokenResponse> {
    const target = targetFromRequest(params, this.publicUrl);
    const scope = one(params, 'scope');
    if (scope === undefined) throw new OAuthError('invalid_scope', 'scope (the role) is required');
    if (scope.includes(' ')) throw new OAuthError('invalid_scope', 'request exactly one role per grant');
    const task = one(params, 'task');
    const reason = one(params, 'reason');
    if (task === undefined || reason === undefined) throw new OAuthError('invalid_request', 'task and reason are required (Stint extension parameters)');
    const maxTtl = this.deps.config.targets[target]?.roles[scope]?.maxTtlSeconds ?? DEFAULT_TTL_SECONDS;
    const ttlText = one(params, 'ttl');
    const ttlSeconds = ttlText === undefined ? Math.min(DEFAULT_TTL_SECONDS, maxTtl) : parseDuration(ttlText);
    if (ttlSeconds === undefined) throw new OAuthError('invalid_request', 'ttl must be a duration (900, 15m)');
    const ticket = one(params, 'ticket');
    const result = await this.grants.request(p, {
      target,
      role: scope,
      task,
      reason,
      ...(ticket !== undefined ? { ticket } : {}),
      ttlSeconds,
      ...(dpopJkt !== undefined ? { dpopJkt } : {}),
    });
    return this.answer(result, dpopJkt);
  }

  private async poll(p: Principal, grantId: string, dpopJkt: string | undefined): Promise<TokenResponse> {
    const now = this.deps.clock.now();
    const last = this.lastPoll.get(grantId);
    this.lastPoll.set(grantId, now);
    if (this.lastPoll.size > 10_000) this.lastPoll.delete(this.lastPoll.keys().next().value as string);
    const grant = await this.grants.get(p, grantId);
    if (grant.principal !== p.id) throw new OAuthError('invalid_grant', 'this grant belongs to another principal');
    const status = effectiveStatus(grant, now);
    if (status === 'pending_approval') {
      if (last !== undefined && now - last < POLL_INTERVAL_SECONDS * 1000) {
        throw new OAuthError('slow_down', 'polling too fast', 400, { grant_id: grantId, interval: POLL_INTERVAL_SECONDS + 5 });
      }
      throw new OAuthError('authorization_pending', 'waiting for human approval', 400, { grant_id: grantId, interval: POLL_INTERVAL_SECONDS });
    }
    if (status === 'approved') return this.answer(await this.grants.activate(p, grantId, dpopJkt), dpopJkt);
    if (status === 'active') return this.answer(await this.grants.token(p, grantId, dpopJkt), dpopJkt);
    if (status === 'denied') throw new OAuthError('access_denied', 'the request was denied', 400, { grant_id: grantId });
    throw new OAuthError('expired_token', `the grant is ${status}; request a new one`, 400, { grant_id: grantId });
  }

  private answer(result: GrantResult, dpopJkt: string | undefined): TokenResponse {
    const g = result.grant;
    if (g.status === 'denied') throw new OAuthError('access_denied', 'the request was denied', 400, { grant_id: g.id });
    if (g.status === 'pending_approval') {
      throw new OAuthError('authorization_pending', 'waiting for human approval', 400, { grant_id: g.id, interval: POLL_INTERVAL_SECONDS });
    }
    if (result.accessToken === undefined || g.expiresAt === undefined) {
      throw new OAuthError('invalid_grant', `the grant is ${g.status}`, 400, { grant_id: g.id });
    }
    return {
      access_token: result.accessToken,
      issued_token_type: TOKEN_TYPE_ACCESS_TOKEN,
      token_type: dpopJkt !== undefined ? 'DPoP' : 'Bearer',
      expires_in: Math.max(0, Math.floor((g.expiresAt - this.deps.clock.now()) / 1000)),
      scope: g.role,
      grant_id: g.id,
      ...(result.credential !== undefined ? { credential: result.credential } : {}),
    };
  }
}

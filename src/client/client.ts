/**
 * `StintClient`: the typed SDK over the HTTP API v1 (docs/api.md), on the global `fetch`.
 * One method per endpoint, plus `waitForGrant` for pipelines.
 */
import { send, type RequestOptions, type TokenSource, type Transport } from './http.js';
import type {
  ActivateResponse,
  ApproveBody,
  AuditPage,
  AuditProofJson,
  CheckpointJson,
  CompleteBody,
  CreateGrantResponse,
  DenyBody,
  ExtendBody,
  ExtendResponse,
  GrantJson,
  GrantPage,
  GrantQuery,
  GrantRequestBody,
  GrantResponse,
  IntrospectionJson,
  JwksJson,
  ReviewBody,
  RevokeBody,
  TokenExchangeJson,
  TokenResponse,
  ReconcileJson,
  TargetJson,
} from './types.js';
import { StintApiError, StintOAuthError } from './errors.js';
import { waitForGrant, type WaitOptions, type WaitResult } from './wait.js';

/** Default per-request timeout (ms). */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Options of {@link StintClient}. */
export interface StintClientOptions {
  /** The broker's base URL, e.g. `http://127.0.0.1:8080`. */
  readonly baseUrl: string;
  /** The caller's identity token (JWT), or a function that returns a current one before every request. */
  readonly token: TokenSource;
  /** Replaces the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** Per-request timeout in ms (default 30 s). */
  readonly timeoutMs?: number;
}

const grantPath = (id: string, action?: string): string => `/v1/grants/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;

/** A client of one Stint broker, authenticated as one caller. */
export class StintClient {
  readonly #transport: Transport;

  constructor(options: StintClientOptions) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError('timeoutMs must be a positive number');
    const baseUrl = new URL(options.baseUrl);
    // fetch refuses such URLs anyway, and its error would quote the password.
    if (baseUrl.username !== '' || baseUrl.password !== '') throw new TypeError('baseUrl must not contain a user name or password');
    this.#transport = {
      baseUrl,
      token: options.token,
      fetch: options.fetch ?? globalThis.fetch,
      timeoutMs,
    };
  }

  /** The broker's base URL. */
  get baseUrl(): string {
    return this.#transport.baseUrl.href;
  }

  /** `POST /v1/grants`: asks for access. A denied request still resolves (status `denied`). */
  requestGrant(body: GrantRequestBody, options?: RequestOptions): Promise<CreateGrantResponse> {
    return send(this.#transport, { method: 'POST', path: '/v1/grants', json: body }, options);
  }

  /** `GET /v1/grants`: one page of grants the caller may see. */
  listGrants(query: GrantQuery = {}, options?: RequestOptions): Promise<GrantPage> {
    return send(this.#transport, { method: 'GET', path: '/v1/grants', query: { ...query } }, options);
  }

  /** `GET /v1/grants/:id`. */
  getGrant(id: string, options?: RequestOptions): Promise<GrantJson> {
    return send(this.#transport, { method: 'GET', path: grantPath(id) }, options);
  }

  /** `POST /v1/grants/:id/approve`: records the caller's approval. */
  approve(id: string, body: ApproveBody = {}, options?: RequestOptions): Promise<GrantResponse> {
    return send(this.#transport, { method: 'POST', path: grantPath(id, 'approve'), json: body }, options);
  }

  /** `POST /v1/grants/:id/deny`. */
  deny(id: string, body: DenyBody, options?: RequestOptions): Promise<GrantResponse> {
    return send(this.#transport, { method: 'POST', path: grantPath(id, 'deny'), json: body }, options);
  }

  /** `POST /v1/grants/:id/activate`: the requester picks up an approved grant. */
  activate(id: string, options?: RequestOptions): Promise<ActivateResponse> {
    return send(this.#transport, { method: 'POST', path: grantPath(id, 'activate'), json: {} }, options);
  }

  /** `POST /v1/grants/:id/token`: a fresh access token for an active grant (requester only). */
  token(id: string, options?: RequestOptions): Promise<TokenResponse> {
    return send(this.#transport, { method: 'POST', path: grantPath(id, 'token'), json: {} }, options);
  }

  /** `POST /v1/grants/:id/complete`: ends an active grant early because the task is done. */
  complete(id: string, body: CompleteBody = {}, options?: RequestOptions): Promise<GrantResponse> {
    return send(this.#transport, { method: 'POST', path: grantPath(id, 'complete'), json: body }, options);
  }

  /** `POST /v1/grants/:id/revoke`. */
  revoke(id: string, body: RevokeBody, options?: RequestOptions): Promise<GrantResponse> {
    return send(this.#transport, { method: 'POST', path: grantPath(id, 'revoke'), json: body }, options);
  }

  /** `POST /v1/grants/:id/extend`: asks to move the expiry of an active grant. */
  extend(id: string, body: ExtendBody, options?: RequestOptions): Promise<ExtendResponse> {
    return send(this.#transport, { method: 'POST', path: grantPath(id, 'extend'), json: body }, options);
  }

  /** `POST /v1/grants/:id/review`: the post-incident review of a break-glass grant. */
  review(id: string, body: ReviewBody, options?: RequestOptions): Promise<GrantResponse> {
    return send(this.#transport, { method: 'POST', path: grantPath(id, 'review'), json: body }, options);
  }

  /** `GET /v1/audit`: audit entries from index `from`, at most `limit`. */
  audit(from = 0, limit = 100, options?: RequestOptions): Promise<AuditPage> {
    return send(this.#transport, { method: 'GET', path: '/v1/audit', query: { from, limit } }, options);
  }

  /** `GET /v1/audit/checkpoint`: the current signed checkpoint. */
  auditCheckpoint(options?: RequestOptions): Promise<CheckpointJson> {
    return send(this.#transport, { method: 'GET', path: '/v1/audit/checkpoint' }, options);
  }

  /** `GET /v1/audit/proof/:index`: inclusion proof of one entry against the current checkpoint. */
  auditProof(index: number, options?: RequestOptions): Promise<AuditProofJson> {
    return send(this.#transport, { method: 'GET', path: `/v1/audit/proof/${encodeURIComponent(String(index))}` }, options);
  }

  /** `POST /oauth/introspect` (RFC 7662): is this access token live, and for what. */
  introspect(token: string, options?: RequestOptions): Promise<IntrospectionJson> {
    return send(this.#transport, { method: 'POST', path: '/oauth/introspect', form: { token } }, options);
  }

  /**
   * `POST /oauth/token` (RFC 8693 token exchange, docs/oauth.md). The form carries its own
   * tokens (subject, actor), so the caller's bearer token is not sent. An OAuth error answer
   * rejects with {@link StintOAuthError} (`authorization_pending` carries the grant id).
   */
  async tokenExchange(params: Readonly<Record<string, string>>, options?: RequestOptions): Promise<TokenExchangeJson> {
    try {
      return await send<TokenExchangeJson>(this.#transport, { method: 'POST', path: '/oauth/token', form: params, auth: false }, options);
    } catch (e) {
      throw oauthErrorOf(e) ?? e;
    }
  }

  /** `GET /v1/targets`: configured targets; with `check`, connectivity and the broker's own privileges. */
  listTargets(query: { check?: boolean } = {}, options?: RequestOptions): Promise<{ items: TargetJson[] }> {
    return send(this.#transport, { method: 'GET', path: '/v1/targets', query: query.check ? { check: true } : {} }, options);
  }

  /** `POST /v1/targets/:name/reconcile`: remove orphaned credentials (unless `dryRun`), report standing privilege. */
  reconcile(name: string, body: { dryRun?: boolean } = {}, options?: RequestOptions): Promise<ReconcileJson> {
    return send(this.#transport, { method: 'POST', path: `/v1/targets/${encodeURIComponent(name)}/reconcile`, json: body }, options);
  }

  /** `GET /.well-known/jwks.json`: keys that verify access tokens (sent without authentication). */
  jwks(options?: RequestOptions): Promise<JwksJson> {
    return send(this.#transport, { method: 'GET', path: '/.well-known/jwks.json', auth: false }, options);
  }

  /**
   * Polls grant `id` until it is active, denied, expired, revoked, completed (or an extension
   * is approved), or `timeoutMs` elapses. An approved grant is activated when the caller is
   * its requester; the result then carries the access token.
   */
  waitForGrant(id: string, options: WaitOptions): Promise<WaitResult> {
    return waitForGrant(
      {
        getGrant: (grantId, o) => this.getGrant(grantId, o),
        activate: (grantId, o) => this.activate(grantId, o),
        now: () => Date.now(),
      },
      id,
      options,
    );
  }
}

/** The OAuth error inside an error answer of the token endpoint, if it is one. */
function oauthErrorOf(e: unknown): StintOAuthError | undefined {
  if (!(e instanceof StintApiError)) return undefined;
  const doc = e.problem as unknown as Record<string, unknown>;
  if (typeof doc.error !== 'string') return undefined;
  const description = typeof doc.error_description === 'string' ? doc.error_description : doc.error;
  return new StintOAuthError(doc.error, description, e.status, typeof doc.grant_id === 'string' ? doc.grant_id : undefined);
}

/**
 * The HTTP interface (fastify 5). One file per endpoint group under routes/; this file wires
 * body parsing, strict validation (unknown fields rejected, no type coercion), authentication,
 * and the single error handler that turns every failure into RFC 9457 problem+json.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { StintError } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import type { IdentityVerifier } from '../ports/identity.js';
import type { StintConfig } from '../config/types.js';
import type { GrantService } from '../service/grant-service.js';
import type { AuditService } from '../service/audit-service.js';
import type { TargetService } from '../service/target-service.js';
import type { TokenExchangeService } from '../service/token-exchange.js';
import type { Clock } from '../ports/clock.js';
import type { IntrospectionService } from '../service/introspection.js';
import type { StintMetrics } from '../service/metrics.js';
import type { Logger } from '../service/context.js';
import type { Store } from '../ports/store.js';
import type { AccessTokens } from '../ports/tokens.js';
import { sendProblem, toStintError } from './problem.js';
import { registerGrantRoutes } from './routes/grants.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerOAuthRoutes } from './routes/oauth.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerTargetRoutes } from './routes/targets.js';
import { registerOAuthTokenRoutes } from './routes/oauth-token.js';
import { registerMcpRoute } from './routes/mcp.js';
import { registerOpenApiRoute, collectRoutes } from './routes/openapi.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifySchema {
    /** OpenAPI grouping and one-line description (read by routes/openapi.ts). */
    tags?: string[];
    summary?: string;
  }
}

export interface HttpDeps {
  readonly config: StintConfig;
  readonly identity: IdentityVerifier;
  readonly grants: GrantService;
  readonly audit: AuditService;
  readonly targets: TargetService;
  readonly tokenExchange: TokenExchangeService;
  /** Verifies a DPoP proof (RFC 9449) for this request; returns the key thumbprint. Throws OAuthError. */
  readonly verifyDpop: (proof: string, expected: { htm: string; htu: string }) => Promise<string>;
  readonly clock: Clock;
  readonly introspection: IntrospectionService;
  readonly tokens: AccessTokens;
  readonly metrics: StintMetrics;
  readonly store: Store;
  readonly log: Logger;
  /** Records an authentication failure in the audit log (reason kept, token never). */
  readonly auditAuthFailure: (reason: string, request: { method: string; url: string; ip: string }) => Promise<void>;
  readonly isReady: () => boolean;
}

/** Reads the bearer token and verifies it; sets `request.principal`. */
export async function authenticate(deps: HttpDeps, request: FastifyRequest): Promise<Principal> {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9\-_.~+/]+=*)$/.exec(header) : null;
  try {
    if (!match) throw new StintError('unauthenticated', 'invalid or missing credentials', { internalReason: header ? 'malformed Authorization header' : 'no Authorization header' });
    const principal = await deps.identity.verify(match[1]!);
    request.principal = principal;
    return principal;
  } catch (e) {
    const err = e instanceof StintError ? e : new StintError('unauthenticated', 'invalid or missing credentials', { internalReason: String(e) });
    if (err.code !== 'unauthenticated') throw err;
    deps.metrics.authFailures.inc();
    deps.log.info({ reason: err.internalReason, method: request.method, url: request.url.split('?')[0] }, 'authentication failed');
    await deps.auditAuthFailure(err.internalReason ?? 'unknown', { method: request.method, url: request.url.split('?')[0] ?? '', ip: request.ip });
    // Same generic answer for every cause (the jose model): the reason is in the audit log.
    throw new StintError('unauthenticated', 'invalid or missing credentials');
  }
}

/** The authenticated caller (set by the onRequest hook for protected routes). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new StintError('unauthenticated', 'invalid or missing credentials');
  return request.principal;
}

/** Routes that need a verified caller. Authentication runs before body parsing and validation. */
function needsAuth(url: string): boolean {
  return url.startsWith('/v1/') || url === '/oauth/introspect' || url === '/oauth/revoke';
}

/** Builds the fastify instance (not listening yet). */
export async function buildHttpServer(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.config.server.bodyLimit,
    ajv: {
      // Strict input: unknown fields are an error, types are never coerced, no defaults injected.
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false },
    },
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
  });

  // JSON only (plus form bodies on the OAuth endpoints): a text/plain body is refused with 415,
  // not parsed into a string that then fails validation with a confusing message.
  app.removeContentTypeParser('text/plain');
  // RFC 7662/7009 bodies are form-encoded; parse them without a dependency.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    try {
      const params = new URLSearchParams(body as string);
      const out: Record<string, string> = {};
      for (const [k, v] of params) {
        if (k in out) return done(new StintError('invalid_request', `parameter "${k}" is repeated`), undefined);
        out[k] = v;
      }
      done(null, out);
    } catch {
      done(new StintError('invalid_request', 'malformed form body'), undefined);
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const err = toStintError(error);
    if (err.code === 'internal') deps.log.error({ err: String(error), stack: (error as Error)?.stack, url: request.url.split('?')[0] }, 'unexpected error');
    else if (err.status >= 500) deps.log.warn({ code: err.code, reason: err.internalReason, url: request.url.split('?')[0] }, 'request failed');
    return sendProblem(reply, request, err);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, request, new StintError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)));

  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0] ?? '';
    if (needsAuth(path)) await authenticate(deps, request);
  });

  const routes = collectRoutes(app);
  registerHealthRoutes(app, deps);
  registerGrantRoutes(app, deps);
  registerAuditRoutes(app, deps);
  registerTargetRoutes(app, deps);
  registerOAuthRoutes(app, deps);
  registerOAuthTokenRoutes(app, deps);
  registerMcpRoute(app, deps);
  registerOpenApiRoute(app, deps, routes);
  await app.ready();
  return app;
}

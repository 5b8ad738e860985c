/**
 * The OAuth authorization server endpoints (issue #4): RFC 8693 token exchange at
 * `/oauth/token`, RFC 7009 revocation at `/oauth/revoke`, and RFC 8414 metadata. Errors here
 * follow RFC 6749 section 5.2 (`{"error": ..., "error_description": ...}`), which OAuth clients
 * parse, instead of problem+json.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StintError } from '../../core/errors.js';
import { OAuthError, TOKEN_EXCHANGE_GRANT, TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_ID_TOKEN, TOKEN_TYPE_JWT } from '../../service/token-exchange.js';
import { principalOf, type HttpDeps } from '../server.js';
import { toStintError } from '../problem.js';

const FORM = { type: 'object', additionalProperties: { type: 'string', maxLength: 16_384 } } as const;

function sendOAuthError(reply: FastifyReply, e: OAuthError): FastifyReply {
  void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  if (e.status === 401) void reply.header('www-authenticate', `Bearer error="${e.error}"`);
  return reply.status(e.status).type('application/json').send({ error: e.error, error_description: e.description, ...e.extra });
}

/** Any failure on the token endpoint answers in RFC 6749 form, never problem+json. */
function oauthErrorHandler(deps: HttpDeps) {
  return (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (error instanceof OAuthError) {
      if (error.internalReason) deps.log.info({ error: error.error, reason: error.internalReason }, 'token request refused');
      return sendOAuthError(reply, error);
    }
    const se = toStintError(error);
    if (se.code === 'internal') deps.log.error({ err: String(error), url: request.url }, 'unexpected error');
    const code = se.status >= 500 ? 'temporarily_unavailable' : 'invalid_request';
    return sendOAuthError(reply, new OAuthError(code, se.code === 'internal' ? 'internal error' : se.detail, se.status >= 500 ? 503 : 400));
  };
}

export function registerOAuthTokenRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const issuer = deps.config.server.publicUrl;

  app.post(
    '/oauth/token',
    { schema: { body: FORM, tags: ['oauth'], summary: 'RFC 8693 token exchange: workload identity token -> JIT grant access token' }, errorHandler: oauthErrorHandler(deps) },
    async (request, reply) => {
      const params = request.body as Record<string, string>;
      const dpop = request.headers.dpop;
      if (Array.isArray(dpop)) throw new OAuthError('invalid_dpop_proof', 'send exactly one DPoP header');
      const jkt = dpop === undefined ? undefined : await deps.verifyDpop(dpop, { htm: 'POST', htu: `${issuer}/oauth/token` });
      const answer = await deps.tokenExchange.exchange(params, jkt);
      void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      return answer;
    },
  );

  // RFC 7009: the caller authenticates (bearer identity token); the token's own requester
  // ends the grant as `complete` does, an owner or admin revokes it. Unknown or invalid tokens
  // still get 200, so the endpoint reveals nothing about them.
  app.post(
    '/oauth/revoke',
    {
      schema: {
        body: { type: 'object', required: ['token'], additionalProperties: { type: 'string', maxLength: 16_384 }, properties: { token: { type: 'string', minLength: 1, maxLength: 8192 } } },
        tags: ['oauth'],
        summary: 'RFC 7009 revocation: ends the grant behind an access token',
      },
      errorHandler: oauthErrorHandler(deps),
    },
    async (request, reply) => {
      const caller = principalOf(request);
      const { token } = request.body as { token: string };
      const now = deps.clock.now();
      let grantId: string | undefined;
      try {
        grantId = (await deps.tokens.verify(token, now)).jti;
      } catch {
        grantId = undefined;
      }
      if (grantId !== undefined) {
        try {
          const grant = await deps.grants.get(caller, grantId);
          if (grant.status === 'active') {
            if (grant.principal === caller.id) await deps.grants.complete(caller, grantId, 'revoked via RFC 7009');
            else await deps.grants.revoke(caller, grantId, 'revoked via RFC 7009');
          }
        } catch (e) {
          // Not visible, not allowed or already ended: RFC 7009 section 2.2 answers 200 all the same.
          if (!(e instanceof StintError)) throw e;
        }
      }
      return reply.status(200).header('cache-control', 'no-store').send();
    },
  );

  app.get('/.well-known/oauth-authorization-server', { schema: { tags: ['oauth'], summary: 'RFC 8414 authorization server metadata' } }, async () => ({
    issuer,
    token_endpoint: `${issuer}/oauth/token`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    grant_types_supported: [TOKEN_EXCHANGE_GRANT],
    token_endpoint_auth_methods_supported: ['none'],
    introspection_endpoint_auth_methods_supported: ['bearer'],
    revocation_endpoint_auth_methods_supported: ['bearer'],
    dpop_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'],
    // Stint extensions, documented in docs/oauth.md.
    token_exchange_subject_token_types_supported: [TOKEN_TYPE_JWT, TOKEN_TYPE_ID_TOKEN],
    token_exchange_issued_token_types_supported: [TOKEN_TYPE_ACCESS_TOKEN],
    token_exchange_extension_parameters: ['task', 'reason', 'ticket', 'ttl', 'grant_id'],
  }));
}

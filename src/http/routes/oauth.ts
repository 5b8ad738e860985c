/**
 * OAuth endpoints: RFC 7662 introspection (authenticated callers only) and the JWK set that
 * verifies Stint's access tokens.
 */
import type { FastifyInstance } from 'fastify';
import { principalOf, type HttpDeps } from '../server.js';

const INTROSPECT_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['token'],
  properties: {
    token: { type: 'string', minLength: 1, maxLength: 8192 },
    token_type_hint: { type: 'string', maxLength: 64 },
  },
} as const;

export function registerOAuthRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.post(
    '/oauth/introspect',
    { schema: { body: INTROSPECT_BODY, tags: ['oauth'], summary: 'RFC 7662 token introspection' } },
    async (request, reply) => {
      const caller = principalOf(request);
      const { token } = request.body as { token: string };
      void reply.header('cache-control', 'no-store');
      return deps.introspection.introspect(token, caller.tenant);
    },
  );

  app.get('/.well-known/jwks.json', { schema: { tags: ['oauth'], summary: 'Public keys of Stint access tokens' } }, async (_request, reply) => {
    void reply.header('cache-control', 'public, max-age=300');
    return deps.tokens.jwks();
  });
}

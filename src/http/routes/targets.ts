/**
 * /v1/targets: configured targets with connectivity and privilege checks, and reconciliation
 * (orphaned credentials removed, standing privilege reported).
 */
import type { FastifyInstance } from 'fastify';
import { principalOf, type HttpDeps } from '../server.js';

const LIST_QUERY = { type: 'object', additionalProperties: false, properties: { check: { type: 'string', enum: ['true', 'false'] } } } as const;
const NAME_PARAMS = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 63, pattern: '^[a-z0-9][a-z0-9-]*$' } },
} as const;
const RECONCILE_BODY = { type: 'object', additionalProperties: false, properties: { dryRun: { type: 'boolean' } } } as const;

export function registerTargetRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/v1/targets', { schema: { querystring: LIST_QUERY, tags: ['targets'], summary: 'Targets, with connectivity and broker privilege checks' } }, async (request) => {
    const q = request.query as { check?: string };
    return { items: await deps.targets.list(principalOf(request), { check: q.check === 'true' }) };
  });

  app.post(
    '/v1/targets/:name/reconcile',
    { schema: { params: NAME_PARAMS, body: RECONCILE_BODY, tags: ['targets'], summary: 'Remove orphaned credentials; report standing privilege' } },
    async (request) => {
      const { name } = request.params as { name: string };
      const body = request.body as { dryRun?: boolean };
      return deps.targets.reconcile(principalOf(request), name, { dryRun: body.dryRun ?? false });
    },
  );
}

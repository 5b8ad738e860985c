/**
 * /v1/audit: the tamper-evident log, its signed checkpoint, and inclusion proofs. Readable by
 * auditors and admins.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StintError } from '../../core/errors.js';
import { mayReadAudit } from '../../core/access.js';
import { principalOf, type HttpDeps } from '../server.js';

const PAGE = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { type: 'string', pattern: '^[0-9]{1,15}$' },
    limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
  },
} as const;
const INDEX = { type: 'object', additionalProperties: false, required: ['index'], properties: { index: { type: 'string', pattern: '^[0-9]{1,15}$' } } } as const;

export function registerAuditRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const authorize = (request: FastifyRequest): void => {
    const p = principalOf(request);
    if (!mayReadAudit(p, deps.config.approvers)) throw new StintError('forbidden', 'the audit log is readable by auditors and admins');
  };

  app.get('/v1/audit', { schema: { querystring: PAGE, tags: ['audit'], summary: 'Read audit entries in order' } }, async (request) => {
    authorize(request);
    const q = request.query as { from?: string; limit?: string };
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (limit < 1 || limit > 1000) throw new StintError('invalid_request', 'limit must be between 1 and 1000');
    return deps.audit.page(Number(q.from ?? 0), limit);
  });

  app.get('/v1/audit/checkpoint', { schema: { tags: ['audit'], summary: 'The latest signed checkpoint (C2SP signed note)' } }, async (request) => {
    authorize(request);
    return deps.audit.currentCheckpoint();
  });

  app.get('/v1/audit/proof/:index', { schema: { params: INDEX, tags: ['audit'], summary: 'RFC 9162 inclusion proof of one entry' } }, async (request) => {
    authorize(request);
    return deps.audit.proof(Number((request.params as { index: string }).index));
  });
}

/**
 * Liveness, readiness and Prometheus metrics. Readiness means: the store answers and start-up
 * catch-up (expiries that fell due while the broker was down) has finished.
 */
import type { FastifyInstance } from 'fastify';
import { StintError } from '../../core/errors.js';
import type { HttpDeps } from '../server.js';

export function registerHealthRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { tags: ['health'], summary: 'Readiness' } }, async () => {
    if (!deps.isReady()) throw new StintError('not_ready', 'start-up catch-up has not finished');
    try {
      await deps.store.auditHead();
    } catch (e) {
      throw new StintError('store_unavailable', 'the store does not answer', { internalReason: String(e) });
    }
    return { status: 'ready', store: deps.store.kind };
  });

  app.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}

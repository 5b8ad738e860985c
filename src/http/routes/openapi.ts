/**
 * /openapi.json, generated from the routes' own JSON schemas so the document can never drift
 * from what the server validates.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { ERROR_REGISTRY } from '../../core/errors.js';
import type { HttpDeps } from '../server.js';

interface CollectedRoute {
  method: string;
  url: string;
  schema?: { body?: unknown; querystring?: unknown; params?: { properties?: Record<string, unknown> }; tags?: string[]; summary?: string };
}

/** Collects every route registered after this call (fastify onRoute hook). */
export function collectRoutes(app: FastifyInstance): CollectedRoute[] {
  const routes: CollectedRoute[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({ method: method.toLowerCase(), url: r.url, ...(r.schema ? { schema: r.schema as CollectedRoute['schema'] } : {}) });
    }
  });
  return routes;
}

const PUBLIC = new Set([
  '/healthz',
  '/readyz',
  '/metrics',
  '/openapi.json',
  '/.well-known/jwks.json',
  '/.well-known/oauth-authorization-server',
  '/.well-known/oauth-protected-resource',
  '/oauth/token',
]);

/** Builds the OpenAPI 3.1 document. */
export function openApiDocument(routes: readonly CollectedRoute[], serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const name of Object.keys(r.schema?.params?.properties ?? {})) {
      parameters.push({ name, in: 'path', required: true, schema: r.schema!.params!.properties![name] });
    }
    const qs = r.schema?.querystring as { properties?: Record<string, unknown> } | undefined;
    for (const [name, schema] of Object.entries(qs?.properties ?? {})) parameters.push({ name, in: 'query', required: false, schema });
    const isForm = r.url.startsWith('/oauth/');
    paths[path] ??= {};
    paths[path]![r.method] = {
      ...(r.schema?.summary ? { summary: r.schema.summary } : {}),
      ...(r.schema?.tags ? { tags: r.schema.tags } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(r.schema?.body
        ? { requestBody: { required: true, content: { [isForm ? 'application/x-www-form-urlencoded' : 'application/json']: { schema: r.schema.body } } } }
        : {}),
      ...(PUBLIC.has(r.url) ? { security: [] } : {}),
      responses: {
        '200': { description: 'Success' },
        default: { description: 'RFC 9457 problem', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Stint', version: '1', description: 'Just-in-time access broker for non-human identities. See docs/api.md.' },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Workload or human identity token from a configured issuer' } },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail', 'code'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            code: { type: 'string', enum: Object.keys(ERROR_REGISTRY) },
            instance: { type: 'string' },
          },
        },
      },
    },
  };
}

export function registerOpenApiRoute(app: FastifyInstance, deps: HttpDeps, routes: readonly CollectedRoute[]): void {
  let doc: Record<string, unknown> | undefined;
  app.get('/openapi.json', async () => (doc ??= openApiDocument(routes, deps.config.server.publicUrl)));
}

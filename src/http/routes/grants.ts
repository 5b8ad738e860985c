/**
 * /v1/grants: the grant lifecycle over HTTP (docs/api.md).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StintError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { GRANT_STATUSES } from '../../core/grant.js';
import type { GrantResult } from '../../service/grant-service.js';
import { principalOf, type HttpDeps } from '../server.js';
import { grantJson } from '../present.js';

const TEXT = (max: number) => ({ type: 'string', minLength: 1, maxLength: max, pattern: '\\S' }) as const;
const DURATION = { anyOf: [{ type: 'string', minLength: 1, maxLength: 32 }, { type: 'integer', minimum: 1 }] } as const;
const ID_PARAMS = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' } },
} as const;
const NAME = { type: 'string', minLength: 1, maxLength: 128 } as const;

const schemas = {
  create: {
    type: 'object',
    additionalProperties: false,
    required: ['target', 'role', 'task', 'reason', 'ttl'],
    properties: {
      target: NAME,
      role: NAME,
      task: TEXT(500),
      reason: TEXT(1000),
      ticket: { type: 'string', minLength: 1, maxLength: 128 },
      ttl: DURATION,
      breakGlass: { type: 'boolean' },
    },
  },
  approve: { type: 'object', additionalProperties: false, properties: { reason: TEXT(1000) } },
  deny: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: TEXT(1000) } },
  empty: { type: 'object', additionalProperties: false, properties: {} },
  complete: { type: 'object', additionalProperties: false, properties: { note: TEXT(1000) } },
  revoke: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: TEXT(1000) } },
  extend: {
    type: 'object',
    additionalProperties: false,
    required: ['ttl', 'reason'],
    properties: { ttl: DURATION, reason: TEXT(1000), ticket: { type: 'string', minLength: 1, maxLength: 128 } },
  },
  review: {
    type: 'object',
    additionalProperties: false,
    required: ['outcome', 'notes'],
    properties: { outcome: { type: 'string', enum: ['justified', 'unjustified', 'needs_follow_up'] }, notes: TEXT(4000) },
  },
  list: {
    type: 'object',
    additionalProperties: false,
    properties: {
      status: { type: 'string', enum: [...GRANT_STATUSES] },
      target: NAME,
      principal: { type: 'string', minLength: 1, maxLength: 210 },
      needsReview: { type: 'string', enum: ['true', 'false'] },
      limit: { type: 'string', pattern: '^[0-9]{1,3}$' },
      cursor: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' },
    },
  },
} as const;

function ttlOf(value: string | number): number {
  const seconds = parseDuration(value);
  if (seconds === undefined) throw new StintError('invalid_body', `ttl "${String(value)}" is not a duration (e.g. 900, "15m", "1h30m")`);
  return seconds;
}

function resultJson(r: GrantResult): Record<string, unknown> {
  return {
    grant: grantJson(r.grant),
    ...(r.accessToken !== undefined ? { accessToken: r.accessToken, tokenType: 'Bearer' } : {}),
    ...(r.credential !== undefined ? { credential: { ...r.credential } } : {}),
  };
}

type IdRequest = FastifyRequest<{ Params: { id: string } }>;

export function registerGrantRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { grants } = deps;
  // Credentials and tokens in responses must never be cached by intermediaries.
  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith('/v1/')) void reply.header('cache-control', 'no-store');
  });

  app.post('/v1/grants', { schema: { body: schemas.create, tags: ['grants'], summary: 'Request a grant' } }, async (request, reply) => {
    const p = principalOf(request);
    const body = request.body as { target: string; role: string; task: string; reason: string; ticket?: string; ttl: string | number; breakGlass?: boolean };
    const r = await grants.request(p, {
      target: body.target,
      role: body.role,
      task: body.task,
      reason: body.reason,
      ...(body.ticket !== undefined ? { ticket: body.ticket } : {}),
      ttlSeconds: ttlOf(body.ttl),
      ...(body.breakGlass !== undefined ? { breakGlass: body.breakGlass } : {}),
    });
    return reply.status(201).send(resultJson(r));
  });

  app.get('/v1/grants', { schema: { querystring: schemas.list, tags: ['grants'], summary: 'List grants the caller may see' } }, async (request) => {
    const p = principalOf(request);
    const q = request.query as { status?: string; target?: string; principal?: string; needsReview?: string; limit?: string; cursor?: string };
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (limit < 1 || limit > 500) throw new StintError('invalid_request', 'limit must be between 1 and 500');
    const page = await grants.list(
      p,
      {
        ...(q.status !== undefined ? { status: q.status as (typeof GRANT_STATUSES)[number] } : {}),
        ...(q.target !== undefined ? { target: q.target } : {}),
        ...(q.principal !== undefined ? { principal: q.principal } : {}),
        ...(q.needsReview === 'true' ? { needsReview: true } : {}),
      },
      { limit, ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) },
    );
    return { items: page.items.map(grantJson), ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}) };
  });

  app.get('/v1/grants/:id', { schema: { params: ID_PARAMS, tags: ['grants'], summary: 'Read one grant' } }, async (request: IdRequest) => {
    const p = principalOf(request);
    return grantJson(await grants.get(p, request.params.id));
  });

  const action = (
    name: string,
    body: object,
    summary: string,
    run: (request: IdRequest & { body: Record<string, unknown> }) => Promise<GrantResult>,
    status = 200,
  ): void => {
    app.post(`/v1/grants/:id/${name}`, { schema: { params: ID_PARAMS, body, tags: ['grants'], summary } }, async (request, reply) => {
      const r = await run(request as IdRequest & { body: Record<string, unknown> });
      return reply.status(status).send(resultJson(r));
    });
  };

  action('approve', schemas.approve, 'Approve a pending grant (owners/approvers; never the requester)', async (req) =>
    grants.vote(principalOf(req), req.params.id, 'approve', req.body?.reason as string | undefined),
  );
  action('deny', schemas.deny, 'Deny a pending grant, with a reason', async (req) =>
    grants.vote(principalOf(req), req.params.id, 'deny', req.body.reason as string),
  );
  action('activate', schemas.empty, 'Pick up an approved grant: credential made, TTL starts', async (req) =>
    grants.activate(principalOf(req), req.params.id),
  );
  action('token', schemas.empty, 'A fresh access token for an active grant (requester only)', async (req) =>
    grants.token(principalOf(req), req.params.id),
  );
  action('complete', schemas.complete, 'End your own grant because the task is done', async (req) =>
    grants.complete(principalOf(req), req.params.id, req.body?.note as string | undefined),
  );
  action('revoke', schemas.revoke, 'End any grant now (owners/admins), with a reason', async (req) =>
    grants.revoke(principalOf(req), req.params.id, req.body.reason as string),
  );
  action(
    'extend',
    schemas.extend,
    'Ask to move the expiry of an active grant; decided on its own',
    async (req) =>
      grants.extend(principalOf(req), req.params.id, {
        ttlSeconds: ttlOf(req.body.ttl as string | number),
        reason: req.body.reason as string,
        ...(req.body.ticket !== undefined ? { ticket: req.body.ticket as string } : {}),
      }),
    201,
  );
  action('review', schemas.review, 'Record the post-review of a break-glass grant', async (req) =>
    grants.review(principalOf(req), req.params.id, {
      outcome: req.body.outcome as 'justified' | 'unjustified' | 'needs_follow_up',
      notes: req.body.notes as string,
    }),
  );
}

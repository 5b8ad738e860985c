/**
 * StintClient against a tiny real HTTP server with canned answers: how requests are built
 * (paths, query, bodies, authentication) and how every kind of failure is mapped.
 */
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StintApiError, StintClient, StintNetworkError } from '../../src/client/index.js';
import { grantFixture } from './grant-fixture.js';
import { json, startFakeServer, type FakeServer } from './fake-server.js';

const TOKEN = 'eyJ.secret-identity-token.sig';

let server: FakeServer;
beforeAll(async () => {
  server = await startFakeServer();
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.seen.length = 0;
});

const client = (extra: Partial<ConstructorParameters<typeof StintClient>[0]> = {}): StintClient =>
  new StintClient({ baseUrl: server.url, token: TOKEN, ...extra });

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('requests', () => {
  it('sends the bearer token, JSON body and path of each grant action', async () => {
    const grant = grantFixture();
    server.respond((_req, res) => json(res, 200, { grant }));
    const c = client();
    await c.approve('g1', { reason: 'looks right' });
    await c.deny('g1', { reason: 'no ticket' });
    await c.complete('g1');
    await c.revoke('g1', { reason: 'incident' });
    await c.extend('g1', { ttl: '15m', reason: 'slow migration', ticket: 'CHG-8' });
    await c.review('g1', { outcome: 'justified', notes: 'outage' });
    await c.activate('g1');
    await c.token('g1');
    expect(server.seen.map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual([
      'POST /v1/grants/g1/approve {"reason":"looks right"}',
      'POST /v1/grants/g1/deny {"reason":"no ticket"}',
      'POST /v1/grants/g1/complete {}',
      'POST /v1/grants/g1/revoke {"reason":"incident"}',
      'POST /v1/grants/g1/extend {"ttl":"15m","reason":"slow migration","ticket":"CHG-8"}',
      'POST /v1/grants/g1/review {"outcome":"justified","notes":"outage"}',
      'POST /v1/grants/g1/activate {}',
      'POST /v1/grants/g1/token {}',
    ]);
    for (const r of server.seen) {
      expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(r.headers['content-type']).toBe('application/json');
    }
  });

  it('creates a grant and returns the answer as sent', async () => {
    const answer = { grant: grantFixture({ status: 'active' }), accessToken: 'at.jwt', credential: { username: 'u1' } };
    server.respond((_req, res) => json(res, 201, answer));
    const body = { target: 'orders-db', role: 'read', task: 't', reason: 'r', ttl: 900, breakGlass: true };
    await expect(client().requestGrant(body)).resolves.toEqual(answer);
    expect(server.seen[0]).toMatchObject({ method: 'POST', url: '/v1/grants', body: JSON.stringify(body) });
  });

  it('encodes ids and query parameters, leaving out absent filters', async () => {
    server.respond((_req, res) => json(res, 200, { items: [], size: 0 }));
    const c = client();
    await c.getGrant('a/b?c');
    await c.listGrants({ status: 'active', needsReview: true, limit: 10, cursor: 'x_1' });
    await c.listGrants();
    await c.audit(200, 50);
    await c.auditProof(7);
    await c.auditCheckpoint();
    expect(server.seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /v1/grants/a%2Fb%3Fc',
      'GET /v1/grants?status=active&needsReview=true&limit=10&cursor=x_1',
      'GET /v1/grants',
      'GET /v1/audit?from=200&limit=50',
      'GET /v1/audit/proof/7',
      'GET /v1/audit/checkpoint',
    ]);
  });

  it('keeps a path prefix of the base URL', async () => {
    server.respond((_req, res) => json(res, 200, grantFixture()));
    await new StintClient({ baseUrl: `${server.url}/stint`, token: TOKEN }).getGrant('g1');
    expect(server.seen[0]?.url).toBe('/stint/v1/grants/g1');
  });

  it('introspects with a form body (RFC 7662) and fetches the JWKS without credentials', async () => {
    server.respond((req, res) => json(res, 200, req.url === '/oauth/introspect' ? { active: false } : { keys: [{ kty: 'OKP', kid: 'k1' }] }));
    const c = client();
    await expect(c.introspect('tok&en=1')).resolves.toEqual({ active: false });
    await expect(c.jwks()).resolves.toEqual({ keys: [{ kty: 'OKP', kid: 'k1' }] });
    const [introspect, jwks] = server.seen;
    expect(introspect?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(introspect?.body).get('token')).toBe('tok&en=1');
    expect(introspect?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(jwks?.url).toBe('/.well-known/jwks.json');
    expect(jwks?.headers.authorization).toBeUndefined();
  });

  it('asks a token function before every request', async () => {
    server.respond((_req, res) => json(res, 200, grantFixture()));
    let n = 0;
    const c = new StintClient({ baseUrl: server.url, token: async () => `token-${++n}` });
    await c.getGrant('g1');
    await c.getGrant('g1');
    expect(server.seen.map((r) => r.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
  });
});

describe('errors', () => {
  it('maps problem+json onto StintApiError with every member kept', async () => {
    const problem = {
      type: 'urn:stint:problem:invalid_body',
      title: 'The request body does not match the schema',
      status: 400,
      detail: 'body.ttl: must be string',
      code: 'invalid_body',
      instance: '/v1/grants',
      errors: ['body.ttl: must be string'],
    };
    server.respond((_req, res) => json(res, 400, problem, 'application/problem+json'));
    const error = await client()
      .requestGrant({ target: 'x', role: 'y', task: 't', reason: 'r', ttl: '1m' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StintApiError);
    const e = error as StintApiError;
    expect([e.code, e.status, e.detail, e.title]).toEqual(['invalid_body', 400, 'body.ttl: must be string', problem.title]);
    expect(e.problem).toEqual(problem);
    expect(e.message).toBe('invalid_body: body.ttl: must be string');
  });

  it('keeps the HTTP status when the problem code is not one this client knows', async () => {
    server.respond((_req, res) => json(res, 404, { type: 'urn:x', title: 'Gone', status: 404, detail: 'no such widget', code: 'widget_gone' }, 'application/problem+json'));
    const e = (await client().getGrant('g1').catch((x: unknown) => x)) as StintApiError;
    expect(e).toBeInstanceOf(StintApiError);
    expect([e.code, e.status, e.detail]).toEqual(['not_found', 404, 'no such widget']);
  });

  it('reads an error answer that is not problem+json (a proxy page) by its status', async () => {
    server.respond((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    });
    const e = (await client().getGrant('g1').catch((x: unknown) => x)) as StintApiError;
    expect(e).toBeInstanceOf(StintApiError);
    expect(e.code).toBe('not_ready');
    expect(e.status).toBe(502);
    expect(e.detail).toContain(`GET ${server.url}/v1/grants/g1 answered HTTP 502`);
    expect(e.problem.type).toBe('about:blank');
  });

  it('refuses a success answer that is not JSON', async () => {
    server.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
    const e = (await client().getGrant('g1').catch((x: unknown) => x)) as StintApiError;
    expect(e).toBeInstanceOf(StintApiError);
    expect(e.code).toBe('internal');
  });

  it('reports a refused connection as StintNetworkError naming the URL, never the token', async () => {
    const port = await closedPort();
    const c = new StintClient({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN });
    const e = (await c.listGrants().catch((x: unknown) => x)) as StintNetworkError;
    expect(e).toBeInstanceOf(StintNetworkError);
    expect(e.timedOut).toBe(false);
    expect(e.message).toBe(`cannot reach GET http://127.0.0.1:${port}/v1/grants: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(e.url).toBe(`http://127.0.0.1:${port}/v1/grants`);
    expect(`${e.message} ${String(e.stack)}`).not.toContain(TOKEN);
  });

  it('refuses a base URL with user info without repeating the password', () => {
    let error: unknown;
    try {
      new StintClient({ baseUrl: 'http://admin:hunter2@127.0.0.1:8080', token: TOKEN });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(String((error as Error).message)).not.toContain('hunter2');
  });

  it('gives up after timeoutMs with StintNetworkError(timedOut)', async () => {
    server.respond(() => {
      /* never answers */
    });
    const e = (await client({ timeoutMs: 100 }).getGrant('g1').catch((x: unknown) => x)) as StintNetworkError;
    expect(e).toBeInstanceOf(StintNetworkError);
    expect(e.timedOut).toBe(true);
    expect(e.message).toBe(`no answer from GET ${server.url}/v1/grants/g1 within 100 ms`);
    expect(e.message).not.toContain(TOKEN);
  });

  it("rejects with the caller's abort reason, not a network error", async () => {
    server.respond(() => {
      /* never answers */
    });
    const controller = new AbortController();
    const pending = client().getGrant('g1', { signal: controller.signal });
    const reason = new Error('user cancelled');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});

/**
 * The broker's MCP endpoint over streamable HTTP (issue #4 item 6): the MCP SDK's own client,
 * authenticated with the agent's own identity token as a bearer token, against a real broker.
 * `/mcp` is an OAuth resource server: no or bad token -> 401 pointing at its RFC 9728 metadata.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { loadOrCreateDevIssuerKey, mintDevToken } from '../../src/adapters/identity-jwt/index.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { AGENT, callTool, expectFullTask, expectPendingRequest, expectToolList, expectUnknownTargetError } from './agent-task.js';

const BOT = 'workload:deploy-bot';

async function connect(t: TestBroker, token: string): Promise<Client> {
  const client = new Client({ name: 'stint-test-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

async function postMcp(t: TestBroker, authorization?: string): Promise<Response> {
  return fetch(`${t.url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(INITIALIZE),
  });
}

describe('MCP over streamable HTTP at /mcp', () => {
  let t: TestBroker;
  let agent: Client;
  let publicUrl: string;

  beforeAll(async () => {
    t = await startTestBroker();
    publicUrl = t.broker.config.server.publicUrl;
    agent = await connect(t, await t.tokenFor(AGENT));
  });
  afterAll(async () => {
    await agent?.close();
    await t?.cleanup();
  });

  it('lists the Stint tools', async () => {
    expect(agent.getServerVersion()).toMatchObject({ name: 'stint' });
    await expectToolList(agent);
  });

  it('does a full task as the agent: request, use, complete, verify ended', async () => {
    await expectFullTask(agent, t, 'look up order history over HTTP');
  });

  it('returns pending_approval with the grant id when humans must approve', async () => {
    await expectPendingRequest(agent, t);
  });

  it('turns a broker error into a tool error with its problem code', async () => {
    await expectUnknownTargetError(agent);
  });

  it('acts as the caller only: another workload’s grant is invisible, and lists hold only the caller’s grants', async () => {
    const theirs = await t.call(BOT, 'POST', '/v1/grants', { target: 'orders-db', role: 'read', task: 'nightly export', reason: 'cron', ttl: '15m' });
    expect(theirs.status).toBe(201);
    const id: string = theirs.body.grant.id;

    const hidden = await callTool(agent, 'grant_status', { grant_id: id });
    expect(hidden.isError).toBe(true);
    expect(hidden.structuredContent.error.code).toBe('grant_not_found');
    const notMine = await callTool(agent, 'complete_task', { grant_id: id });
    expect(notMine.isError).toBe(true);
    expect((await t.call(BOT, 'GET', `/v1/grants/${id}`)).body.status).toBe('active');

    const listed = await callTool(agent, 'list_my_grants', { limit: 100 });
    expect(listed.structuredContent.grants.length).toBeGreaterThan(0);
    expect(listed.structuredContent.grants.map((g: { grant_id: string }) => g.grant_id)).not.toContain(id);

    const bot = await connect(t, await t.tokenFor(BOT));
    try {
      const own = await callTool(bot, 'grant_status', { grant_id: id });
      expect(own.structuredContent).toMatchObject({ grant_id: id, status: 'active' });
      expect((await callTool(bot, 'list_my_grants', {})).structuredContent.grants.map((g: { grant_id: string }) => g.grant_id)).toEqual([id]);
    } finally {
      await bot.close();
    }
  });

  it('answers 401 without a token, with WWW-Authenticate pointing at the RFC 9728 metadata', async () => {
    const res = await postMcp(t);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="stint", resource_metadata="${publicUrl}/.well-known/oauth-protected-resource"`);
    expect(((await res.json()) as { code: string }).code).toBe('unauthenticated');

    await expect(connect(t, 'not-a-jwt')).rejects.toThrow(/401/);
  });

  it('refuses a token issued for another audience (MCP servers must check aud) and a forged one', async () => {
    const key = await loadOrCreateDevIssuerKey(t.broker.config.dev.keyFile);
    const elsewhere = await mintDevToken({ key, issuer: t.broker.config.dev.issuer, audience: 'some-other-api', principalId: AGENT, ttlSeconds: 600, now: Date.now() });
    const wrongAud = await postMcp(t, `Bearer ${elsewhere}`);
    expect(wrongAud.status).toBe(401);
    expect(wrongAud.headers.get('www-authenticate')).toBe(`Bearer realm="stint", error="invalid_token", resource_metadata="${publicUrl}/.well-known/oauth-protected-resource"`);

    const good = await t.tokenFor(AGENT);
    const [h, p] = good.split('.');
    const forged = await postMcp(t, `Bearer ${h}.${p}.${'A'.repeat(86)}`);
    expect(forged.status).toBe(401);

    // The same request with the agent's real token is served.
    const ok = await postMcp(t, `Bearer ${good}`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { result: { serverInfo: { name: string } } }).result.serverInfo.name).toBe('stint');
  });

  it('serves its protected resource metadata', async () => {
    const res = await fetch(`${t.url}/.well-known/oauth-protected-resource`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: `${publicUrl}/mcp`,
      authorization_servers: [publicUrl],
      bearer_methods_supported: ['header'],
      resource_name: 'Stint MCP server',
    });
  });

  it('is stateless: GET and DELETE answer 405 (Allow: POST) to an authenticated caller, 401 to anyone else', async () => {
    const token = await t.tokenFor(AGENT);
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${t.url}/mcp`, { method, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
      await res.body?.cancel();
      const anonymous = await fetch(`${t.url}/mcp`, { method });
      expect(anonymous.status).toBe(401);
      await anonymous.body?.cancel();
    }
  });
});

/**
 * The Stint MCP tools in depth, through the MCP SDK's Client over an in-memory transport
 * against a real broker: waiting for approval, picking up approved access, denials, and
 * failures reported as tool errors without secrets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { StintClient } from '../../src/client/client.js';
import { createStintMcpServer } from '../../src/mcp/server.js';
import type { StintToolOptions } from '../../src/mcp/tools.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { AGENT, callTool, introspect } from './agent-task.js';

const WRITE = { target: 'orders-db', role: 'write', task: 'fix order 991', reason: 'wrong address', ttl: '15m', ticket: 'INC-77' };

/** Connects an SDK client to a fresh Stint MCP server acting through `stint`. */
async function connectTools(stint: StintClient, opts: StintToolOptions = {}): Promise<Client> {
  const server = createStintMcpServer(stint, 'test', { pollIntervalMs: 20, ...opts });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'stint-test-agent', version: '1.0.0' });
  await client.connect(clientSide);
  return client;
}

describe('Stint MCP tools', () => {
  let t: TestBroker;
  let agent: Client;
  let agentToken: string;
  /** Resolves with the id of each grant the agent's StintClient creates, in order. */
  const created: ((id: string) => void)[] = [];
  const nextCreatedId = (): Promise<string> => new Promise((resolve) => created.push(resolve));

  beforeAll(async () => {
    t = await startTestBroker();
    agentToken = await t.tokenFor(AGENT);
    // The real fetch, observed: lets a test act (approve) as soon as the tool has filed its request.
    const observed: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method === 'POST' && String(input).endsWith('/v1/grants') && res.status === 201) {
        const body = (await res.clone().json()) as { grant: { id: string } };
        created.shift()?.(body.grant.id);
      }
      return res;
    };
    agent = await connectTools(new StintClient({ baseUrl: t.url, token: agentToken, fetch: observed }));
  });
  afterAll(async () => {
    await agent?.close();
    await t?.cleanup();
  });

  const approveByBothDbas = async (id: string): Promise<void> => {
    expect((await t.call('human:alice', 'POST', `/v1/grants/${id}/approve`, { reason: 'ticket checked' })).status).toBe(200);
    expect((await t.call('human:bob', 'POST', `/v1/grants/${id}/approve`, {})).status).toBe(200);
  };

  it('request_access with wait_seconds waits for the approvals and hands over the access', async () => {
    const filed = nextCreatedId();
    const call = callTool(agent, 'request_access', { ...WRITE, wait_seconds: 60 });
    const id = await filed;
    await approveByBothDbas(id);
    const result = await call;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ grant_id: id, status: 'active', role: 'write' });
    expect(result.text).toContain('SECRETS FOR THIS TASK ONLY');
    expect(await introspect(t, result.structuredContent.access_token)).toMatchObject({ active: true, sub: AGENT, scope: 'write', jti: id });
    expect((await callTool(agent, 'complete_task', { grant_id: id })).structuredContent.status).toBe('completed');
  });

  it('request_access stops waiting after wait_seconds and reports the grant still pending', async () => {
    const result = await callTool(agent, 'request_access', { ...WRITE, wait_seconds: 1 });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: 'pending_approval', approvals: { required: 2, received: 0 } });
    expect(result.structuredContent.access_token).toBeUndefined();
  });

  it('activate_grant gives nothing before approval, then starts the approved grant and hands over a live token', async () => {
    const pending = await callTool(agent, 'request_access', WRITE);
    const id: string = pending.structuredContent.grant_id;
    expect(pending.text).toContain('activate_grant');

    const early = await callTool(agent, 'activate_grant', { grant_id: id });
    expect(early.structuredContent).toMatchObject({ grant_id: id, status: 'pending_approval' });
    expect(early.structuredContent.access_token).toBeUndefined();

    await approveByBothDbas(id);
    const approved = await callTool(agent, 'grant_status', { grant_id: id });
    expect(approved.structuredContent).toMatchObject({ status: 'approved', approvals: { required: 2, received: 2 } });
    expect(approved.structuredContent.expires_at).toBeUndefined();

    const started = await callTool(agent, 'activate_grant', { grant_id: id });
    expect(started.structuredContent).toMatchObject({ grant_id: id, status: 'active', token_type: 'Bearer' });
    expect(started.text).toContain('SECRETS FOR THIS TASK ONLY');
    expect(await introspect(t, started.structuredContent.access_token)).toMatchObject({ active: true, jti: id });

    // Already active: a fresh token for the same grant.
    const again = await callTool(agent, 'activate_grant', { grant_id: id });
    expect(again.structuredContent).toMatchObject({ grant_id: id, status: 'active' });
    expect(await introspect(t, again.structuredContent.access_token)).toMatchObject({ active: true, jti: id });

    await callTool(agent, 'complete_task', { grant_id: id });
    const ended = await callTool(agent, 'activate_grant', { grant_id: id });
    expect(ended.structuredContent).toMatchObject({ status: 'completed' });
    expect(ended.structuredContent.access_token).toBeUndefined();
    expect(await introspect(t, again.structuredContent.access_token)).toEqual({ active: false });
  });

  it('reports a denial with the deciding policy ids, and no access', async () => {
    const denied = await callTool(agent, 'request_access', { target: 'payments-api', role: 'admin', task: 'refund', reason: 'customer', ttl: '10m' });
    expect(denied.isError).toBeFalsy();
    expect(denied.structuredContent).toMatchObject({ status: 'denied', policies: ['forbid-agent-admin', 'forbid-admin-other-team'], denied_by: [] });
    expect(denied.structuredContent.access_token).toBeUndefined();
    expect(denied.text).toMatch(/^Denied: .*forbid-agent-admin/);
  });

  it('complete_task on a grant that is not active is a tool error with code invalid_state', async () => {
    const pending = await callTool(agent, 'request_access', WRITE);
    const result = await callTool(agent, 'complete_task', { grant_id: pending.structuredContent.grant_id });
    expect(result.isError).toBe(true);
    expect(result.structuredContent.error.code).toBe('invalid_state');
  });

  it('rejects arguments outside the schema before anything reaches the broker', async () => {
    const before = (await t.call(AGENT, 'GET', '/v1/grants?limit=100')).body.items.length;
    const tooLong = await callTool(agent, 'request_access', { ...WRITE, wait_seconds: 901 });
    expect(tooLong.isError).toBe(true);
    expect(tooLong.text).toMatch(/wait_seconds/);
    const missing = await callTool(agent, 'request_access', { target: 'orders-db', role: 'read', task: 'x', reason: 'y' });
    expect(missing.isError).toBe(true);
    expect(missing.text).toMatch(/ttl/);
    expect((await t.call(AGENT, 'GET', '/v1/grants?limit=100')).body.items.length).toBe(before);
  });

  it('passes a bad ttl to the broker and reports its problem code', async () => {
    const result = await callTool(agent, 'request_access', { target: 'orders-db', role: 'read', task: 'x', reason: 'y', ttl: 'forever' });
    expect(result.isError).toBe(true);
    expect(result.structuredContent.error.code).toMatch(/^invalid_/);
  });

  it('reports an unreachable broker as broker_unreachable, never echoing the token', async () => {
    const offline = await connectTools(new StintClient({ baseUrl: 'http://127.0.0.1:9', token: agentToken, timeoutMs: 2_000 }));
    try {
      const result = await callTool(offline, 'grant_status', { grant_id: 'g1' });
      expect(result.isError).toBe(true);
      expect(result.structuredContent.error.code).toBe('broker_unreachable');
      expect(JSON.stringify(result)).not.toContain(agentToken);
    } finally {
      await offline.close();
    }
  });
});

/**
 * `stint mcp --on-behalf-of-token` (issue #4 items 2 and 6): an agent does a full task for a
 * subject through the built CLI, spawned by the MCP SDK's StdioClientTransport against a real
 * broker, and the audit log shows the delegation chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { CLI, assertBuilt } from '../cli/run-cli.js';
import { loadOrCreateDevIssuerKey, mintDevToken } from '../../src/adapters/identity-jwt/index.js';
import { AGENT, callTool, introspect } from './agent-task.js';

const SUBJECT = 'workload:deploy-bot';

/** A subject token for deploy-bot, naming `mayActSub` (if any) in `may_act`. */
async function subjectToken(t: TestBroker, mayActSub?: string): Promise<string> {
  const key = await loadOrCreateDevIssuerKey(t.broker.config.dev.keyFile);
  const { issuer, audience } = t.broker.config.dev;
  return mintDevToken({
    key,
    issuer,
    audience,
    principalId: SUBJECT,
    principal: t.broker.config.dev.principals[SUBJECT]!,
    now: Date.now(),
    ...(mayActSub !== undefined ? { mayAct: { sub: mayActSub } } : {}),
  });
}

/** The MCP server as a host runs it, acting as the agent on behalf of `subject`. */
async function connect(t: TestBroker, subject: string): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, '--server', t.url, '--token', await t.tokenFor(AGENT), 'mcp', '--on-behalf-of-token', subject],
    env: { PATH: process.env.PATH ?? '' },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'stint-test-agent', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

describe('stint mcp --on-behalf-of-token (delegation)', () => {
  let t: TestBroker;
  const clients: Client[] = [];

  beforeAll(async () => {
    assertBuilt();
    t = await startTestBroker();
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await t?.cleanup();
  });

  it('does a full task for the subject, and the audit log shows the agent in the chain', async () => {
    const client = await connect(t, await subjectToken(t, AGENT));
    clients.push(client);
    const task = 'read order history for deploy-bot';
    const granted = await callTool(client, 'request_access', { target: 'orders-db', role: 'read', task, reason: 'deploy-bot asked for it', ttl: '15m' });
    expect(granted.isError).toBeFalsy();
    const s = granted.structuredContent;
    expect(s).toMatchObject({ status: 'active', target: 'orders-db', role: 'read', task, on_behalf_of: SUBJECT, actor_chain: [AGENT] });
    expect(granted.text).toContain(`On behalf of ${SUBJECT}`);
    const grantId: string = s.grant_id;
    // The token is the subject's, with the agent as the acting party (RFC 8693 `act`).
    expect(await introspect(t, s.access_token)).toMatchObject({ active: true, sub: SUBJECT, act: { sub: AGENT }, jti: grantId });
    const stored = await t.call('human:audrey', 'GET', `/v1/grants/${grantId}`);
    expect(stored.body).toMatchObject({ principal: SUBJECT, actorChain: [AGENT], status: 'active' });

    // The agent's own token reads and ends the grant it requested for the subject.
    const status = await callTool(client, 'grant_status', { grant_id: grantId });
    expect(status.isError).toBeFalsy();
    expect(status.structuredContent).toMatchObject({ grant_id: grantId, status: 'active' });
    const done = await callTool(client, 'complete_task', { grant_id: grantId, note: 'history sent' });
    expect(done.isError).toBeFalsy();
    expect(done.structuredContent).toMatchObject({ grant_id: grantId, status: 'completed', credential: { state: 'revoked', revocation_verified: true } });
    expect(await introspect(t, s.access_token)).toEqual({ active: false });

    const audit = (await t.call('human:audrey', 'GET', '/v1/audit?limit=1000')).body.items as { type: string; actor: string; grantId?: string; canonical: string }[];
    const requested = audit.find((e) => e.type === 'grant.requested' && e.grantId === grantId);
    expect(JSON.parse(requested!.canonical).data.actorChain).toEqual([AGENT]);
    const completed = audit.find((e) => e.type === 'grant.completed' && e.grantId === grantId);
    expect(completed?.actor).toBe(AGENT);
  });

  it('answers a tool error (invalid_grant) when the subject token does not name the agent in may_act', async () => {
    const client = await connect(t, await subjectToken(t));
    clients.push(client);
    const refused = await callTool(client, 'request_access', { target: 'orders-db', role: 'read', task: 'x', reason: 'y', ttl: '15m' });
    expect(refused.isError).toBe(true);
    expect(refused.structuredContent.error).toMatchObject({ code: 'invalid_grant', status: 400 });
    expect(refused.text).not.toMatch(/eyJ/);
  });
});

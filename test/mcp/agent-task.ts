/**
 * What an agent does through the Stint MCP tools, driven by the MCP SDK's own Client, whatever
 * the transport (stdio, streamable HTTP, in-memory). Each scenario asserts as it goes.
 */
import { expect } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { TestBroker } from '../helpers/broker.js';

/** The agent of the example config (kind `agent`). */
export const AGENT = 'workload:support-agent';

/** The tools the server must list, each with a description. */
export const TOOL_NAMES = ['activate_grant', 'complete_task', 'grant_status', 'list_my_grants', 'request_access'];

/** Calls a tool and returns the result with its structured content typed loosely for assertions. */
export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult & { structuredContent: any; text: string }> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
  return { ...result, structuredContent: result.structuredContent as any, text };
}

/** RFC 7662 introspection of `token` by a human (an admin may introspect any token of the tenant). */
export async function introspect(t: TestBroker, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${t.url}/oauth/introspect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await t.tokenFor('human:root')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** listTools shows every Stint tool with a plain description that says access ends with the task. */
export async function expectToolList(client: Client): Promise<void> {
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name).sort()).toEqual(TOOL_NAMES);
  for (const tool of tools) expect(tool.description?.length ?? 0).toBeGreaterThan(60);
  const byName = new Map(tools.map((t) => [t.name, t]));
  expect(byName.get('request_access')!.description).toMatch(/ends when the task does/);
  expect(byName.get('request_access')!.description).toMatch(/secrets for this task only/);
  expect(byName.get('complete_task')!.description).toMatch(/ends the grant now/);
  // No tool accepts a token: the caller's identity is the one the server was started with.
  for (const tool of tools) expect(Object.keys(tool.inputSchema.properties ?? {}).some((k) => /token/i.test(k))).toBe(false);
  expect(byName.get('request_access')!.inputSchema.required?.sort()).toEqual(['reason', 'role', 'target', 'task', 'ttl']);
}

/**
 * The full task: request (auto-approved) -> the token is live at the broker -> complete ->
 * the grant says completed with the credential revoked -> the token is dead -> it is listed.
 */
export async function expectFullTask(client: Client, t: TestBroker, task: string): Promise<string> {
  const granted = await callTool(client, 'request_access', { target: 'orders-db', role: 'read', task, reason: 'customer asked for order history', ttl: '15m' });
  expect(granted.isError).toBeFalsy();
  const s = granted.structuredContent;
  expect(s).toMatchObject({ status: 'active', target: 'orders-db', role: 'read', task, token_type: 'Bearer' });
  expect(typeof s.access_token).toBe('string');
  expect(new Date(s.expires_at).getTime() - Date.now()).toBeGreaterThan(14 * 60_000);
  expect(granted.text).toContain('SECRETS FOR THIS TASK ONLY');
  expect(granted.text).toContain(s.access_token);
  const grantId: string = s.grant_id;

  // Use: the token is live, for this agent, this task and this grant.
  expect(await introspect(t, s.access_token)).toMatchObject({ active: true, sub: AGENT, aud: 'orders-db', scope: 'read', jti: grantId, task });

  const done = await callTool(client, 'complete_task', { grant_id: grantId, note: 'history sent' });
  expect(done.isError).toBeFalsy();
  expect(done.structuredContent).toMatchObject({ grant_id: grantId, status: 'completed', credential: { state: 'revoked', revocation_verified: true } });
  expect(done.text).not.toContain(s.access_token);

  const status = await callTool(client, 'grant_status', { grant_id: grantId });
  expect(status.structuredContent).toMatchObject({ grant_id: grantId, status: 'completed', end_reason: 'completed', credential: { state: 'revoked', revocation_verified: true } });
  expect(status.structuredContent.credential.checks.length).toBeGreaterThan(0);
  expect(status.structuredContent.credential.checks.every((c: { passed: boolean }) => c.passed)).toBe(true);
  expect(status.text).not.toContain(s.access_token);

  // Verify ended: the broker itself says the token is dead.
  expect(await introspect(t, s.access_token)).toEqual({ active: false });

  const listed = await callTool(client, 'list_my_grants', {});
  expect(listed.structuredContent.grants).toContainEqual(expect.objectContaining({ grant_id: grantId, target: 'orders-db', role: 'read', status: 'completed' }));
  const completedOnly = await callTool(client, 'list_my_grants', { status: 'active' });
  expect(completedOnly.structuredContent.grants.map((g: { grant_id: string }) => g.grant_id)).not.toContain(grantId);
  return grantId;
}

/** A production write with a ticket goes to humans: pending_approval with the grant id, no secret. */
export async function expectPendingRequest(client: Client, t: TestBroker): Promise<string> {
  const pending = await callTool(client, 'request_access', { target: 'orders-db', role: 'write', task: 'fix order 991', reason: 'wrong address', ttl: '15m', ticket: 'INC-77' });
  expect(pending.isError).toBeFalsy();
  expect(pending.structuredContent).toMatchObject({ status: 'pending_approval', approvals: { required: 2, received: 0 } });
  expect(pending.structuredContent.access_token).toBeUndefined();
  const id: string = pending.structuredContent.grant_id;
  expect(pending.text).toContain(id);
  // The broker holds the same pending grant, requested by the agent itself.
  const stored = await t.call('human:alice', 'GET', `/v1/grants/${id}`);
  expect(stored.body).toMatchObject({ status: 'pending_approval', principal: AGENT, ticket: 'INC-77' });
  return id;
}

/** A broker error becomes an MCP tool error carrying the problem code and detail. */
export async function expectUnknownTargetError(client: Client): Promise<void> {
  const failed = await callTool(client, 'request_access', { target: 'no-such-db', role: 'read', task: 'x', reason: 'y', ttl: '15m' });
  expect(failed.isError).toBe(true);
  expect(failed.structuredContent.error).toMatchObject({ code: 'unknown_target', status: 400 });
  expect(failed.text).toContain('unknown_target');
  expect(failed.text).toContain('no-such-db');
}

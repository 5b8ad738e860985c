/**
 * `stint mcp` over stdio (issue #4 item 6): the built CLI is spawned by the MCP SDK's own
 * StdioClientTransport, exactly as an MCP host runs it, against a real broker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { CLI, assertBuilt, runCli } from '../cli/run-cli.js';
import { AGENT, expectFullTask, expectPendingRequest, expectToolList, expectUnknownTargetError } from './agent-task.js';

describe('stint mcp (stdio)', () => {
  let t: TestBroker;
  let client: Client;
  let transport: StdioClientTransport;
  const transportErrors: Error[] = [];
  let stderr = '';

  beforeAll(async () => {
    assertBuilt();
    t = await startTestBroker();
    transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, '--server', t.url, '--token', await t.tokenFor(AGENT), 'mcp'],
      env: { PATH: process.env.PATH ?? '' },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Any byte on stdout that is not an MCP frame surfaces here as a parse error.
    transport.onerror = (e) => transportErrors.push(e);
    client = new Client({ name: 'stint-test-agent', version: '1.0.0' });
    await client.connect(transport);
  });
  afterAll(async () => {
    await client?.close();
    await t?.cleanup();
  });

  it('identifies itself and lists the Stint tools with plain descriptions', async () => {
    expect(client.getServerVersion()).toMatchObject({ name: 'stint' });
    expect(client.getInstructions()).toMatch(/complete_task/);
    await expectToolList(client);
  });

  it('does a full task as the agent: request, use, complete, verify ended', async () => {
    await expectFullTask(client, t, 'look up order history over stdio');
  });

  it('returns pending_approval with the grant id when humans must approve', async () => {
    await expectPendingRequest(client, t);
  });

  it('turns a broker error into a tool error with its problem code', async () => {
    await expectUnknownTargetError(client);
  });

  it('wrote nothing but MCP frames on stdout, and no secret on stderr', () => {
    expect(transportErrors).toEqual([]);
    expect(stderr).not.toMatch(/eyJ/);
  });

  it('refuses to start without the agent’s own identity token, saying so on stderr only', async () => {
    const run = await runCli(['mcp'], { url: t.url });
    expect(run.code).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/no identity token/);
  });
});

/** The Stint MCP server: an McpServer carrying the Stint tools, for any transport (stdio, streamable HTTP). */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { StintClient } from '../client/client.js';
import { registerStintTools, type StintToolOptions } from './tools.js';

/** What the server tells MCP hosts about itself when a session starts. */
const INSTRUCTIONS = [
  'Stint gives you temporary, audited access to databases and APIs, one task at a time, under your own identity.',
  'Call request_access before the task, use the access token or credential it returns only for that task, and call complete_task as soon as the task is done: access ends then.',
  'Never write the secrets it returns into logs, files or messages.',
].join(' ');

/** A new MCP server whose tools act through `client` (the caller's own identity). */
export function createStintMcpServer(client: StintClient, version: string, opts: StintToolOptions = {}): McpServer {
  const server = new McpServer({ name: 'stint', version }, { instructions: INSTRUCTIONS });
  registerStintTools(server, client, opts);
  return server;
}

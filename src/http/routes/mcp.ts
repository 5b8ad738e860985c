/**
 * The Stint MCP server over streamable HTTP at `/mcp` (issue #4 item 6, docs/mcp.md), and its
 * OAuth protected resource metadata (RFC 9728).
 *
 * `/mcp` is an OAuth resource server (MCP authorization spec): every request carries the
 * caller's own identity token as a bearer token, verified exactly like the /v1 routes (issuer,
 * signature, expiry, and an audience of this broker). A request without a valid one gets 401
 * with `WWW-Authenticate: Bearer resource_metadata="..."` (RFC 9728 section 5.1) so an MCP
 * client can discover how to authenticate.
 *
 * Stateless mode: each POST gets a fresh McpServer and transport, so no session state exists
 * to leak between callers or to pin a caller to one broker process. Without sessions there is
 * no server-to-client stream to open (GET) and no session to end (DELETE): both answer 405,
 * as the streamable HTTP transport specifies.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { StintClient } from '../../client/client.js';
import { createStintMcpServer } from '../../mcp/server.js';
import { authenticate, type HttpDeps } from '../server.js';

/** Path of the MCP endpoint. */
export const MCP_PATH = '/mcp';
/** Path of the RFC 9728 protected resource metadata. */
export const PROTECTED_RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

/** RFC 9728 section 2 metadata of `/mcp`. */
export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers: string[];
  readonly bearer_methods_supported: string[];
  readonly resource_name: string;
}

/** The metadata document for a broker reachable at `publicUrl`. */
export function protectedResourceMetadata(publicUrl: string): ProtectedResourceMetadata {
  return { resource: `${publicUrl}${MCP_PATH}`, authorization_servers: [publicUrl], bearer_methods_supported: ['header'], resource_name: 'Stint MCP server' };
}

function packageVersion(): string {
  try {
    // src/http/routes/ and dist/http/routes/ are both three levels below the package root.
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * The broker's own listening address, for the tools' loopback calls: the caller's request
 * already reached this process, so this works behind any proxy or TLS terminator that
 * `publicUrl` may name. A wildcard bind is reached through loopback.
 */
function selfUrl(app: FastifyInstance, fallback: string): string {
  const address = app.server.address();
  if (address === null || typeof address === 'string') return fallback;
  const host = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** Registers `POST|GET|DELETE /mcp` and `GET /.well-known/oauth-protected-resource`. */
export function registerMcpRoute(app: FastifyInstance, deps: HttpDeps): void {
  const publicUrl = deps.config.server.publicUrl;
  const metadataUrl = `${publicUrl}${PROTECTED_RESOURCE_METADATA_PATH}`;
  const version = packageVersion();

  app.get(PROTECTED_RESOURCE_METADATA_PATH, { schema: { tags: ['mcp'], summary: 'RFC 9728 metadata of the MCP endpoint' } }, async (_request, reply) => {
    void reply.header('cache-control', 'public, max-age=300');
    return protectedResourceMetadata(publicUrl);
  });

  // Runs for every /mcp answer, including the 401 the error handler (or a global auth hook)
  // sends: RFC 9728 section 5.1 points the client at the metadata. RFC 6750 section 3.1:
  // `error` only when a token was presented.
  const challenge = async (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    if (reply.statusCode === 401) {
      const error = request.headers.authorization !== undefined ? ', error="invalid_token"' : '';
      void reply.header('www-authenticate', `Bearer realm="stint"${error}, resource_metadata="${metadataUrl}"`);
    }
    return payload;
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const principal = request.principal ?? (await authenticate(deps, request));
    if (request.method !== 'POST') {
      void reply.header('allow', 'POST');
      await reply.status(405).type('application/json').send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP server is stateless; send requests with POST' }, id: null });
      return;
    }
    // The tools call this broker's own API with the very bearer token the caller presented here.
    // That is not the token passthrough the MCP authorization spec forbids: the token was issued
    // for this broker (its audience was just verified as ours) and goes back to this broker
    // only, never to a different upstream API. Every tool call is therefore authorized, scoped
    // and audited as the caller, by the same code paths as a direct /v1 request.
    const token = (request.headers.authorization ?? '').slice('Bearer '.length);
    const client = new StintClient({ baseUrl: selfUrl(app, publicUrl), token });
    const server = createStintMcpServer(client, version, { principal: principal.id });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    } catch (e) {
      deps.log.error({ err: String(e), url: MCP_PATH }, 'MCP request failed');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null }));
      }
    }
  };

  app.route({ method: ['POST', 'GET', 'DELETE'], url: MCP_PATH, schema: { tags: ['mcp'], summary: 'MCP server (streamable HTTP, stateless)' }, onSend: challenge, handler });
}

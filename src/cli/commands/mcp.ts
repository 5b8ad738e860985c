/**
 * `stint mcp`: an MCP server on stdin/stdout for AI agents (issue #4 item 6, docs/mcp.md).
 * The tools act as the agent's own workload identity (`--token`/STINT_TOKEN), against the
 * broker at `--server`/STINT_URL; no tool takes a token. stdout is the protocol channel:
 * nothing but MCP frames is written to it (failures before start-up go to stderr via main.ts).
 * The MCP SDK is loaded on demand, so every other command starts without it.
 */
import { Option, type Command } from 'commander';
import { DEFAULT_MAX_WAIT_SECONDS, DEFAULT_POLL_INTERVAL_MS } from '../../mcp/defaults.js';
import { clientOf, globalsOf } from '../globals.js';
import { durationSeconds } from '../options.js';

interface McpOptions {
  pollInterval: number;
  maxWait: number;
  onBehalfOfToken?: string;
}

/** Resolves when the host closes our stdin (the MCP stdio transport's end of session). */
function stdinClosed(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
  });
}

/** Registers `mcp`. */
export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description('run an MCP server on stdio for AI agents, acting as your identity (--token/STINT_TOKEN)')
    .addOption(
      new Option('--poll-interval <duration>', 'how often request_access checks while waiting for approval')
        .argParser(durationSeconds)
        .default(DEFAULT_POLL_INTERVAL_MS / 1000, `${DEFAULT_POLL_INTERVAL_MS / 1000}s`),
    )
    .addOption(
      new Option('--on-behalf-of-token <jwt>', 'request access for this subject (its token must name you in may_act), you acting as its delegate (RFC 8693)').env(
        'STINT_SUBJECT_TOKEN',
      ),
    )
    .addOption(new Option('--max-wait <duration>', 'longest wait_seconds request_access accepts').argParser(durationSeconds).default(DEFAULT_MAX_WAIT_SECONDS, '15m'))
    .action(async (opts: McpOptions, command: Command) => {
      const globals = globalsOf(command);
      const client = clientOf(globals);
      const subjectToken = opts.onBehalfOfToken !== undefined && opts.onBehalfOfToken !== '' ? opts.onBehalfOfToken : undefined;
      const [{ StdioServerTransport }, { createStintMcpServer }] = await Promise.all([
        import('@modelcontextprotocol/sdk/server/stdio.js'),
        import('../../mcp/server.js'),
      ]);
      const server = createStintMcpServer(client, program.version() ?? '0.0.0', {
        pollIntervalMs: opts.pollInterval * 1000,
        maxWaitSeconds: opts.maxWait,
        // clientOf refused to go on without the agent's own token, which is the actor token.
        ...(subjectToken !== undefined && globals.token !== undefined ? { delegation: { subjectToken, actorToken: globals.token } } : {}),
      });
      await server.connect(new StdioServerTransport());
      await stdinClosed();
      await server.close();
    });
}

/** The `stint` command tree (commander 14): global options and one registration per command group. */
import { Command, Option } from 'commander';
import { registerAudit } from './commands/audit.js';
import { registerGrants } from './commands/grants.js';
import { registerLifecycle } from './commands/lifecycle.js';
import { registerRequest } from './commands/request.js';
import { registerServe } from './commands/serve.js';
import { registerToken } from './commands/token.js';
import { registerTargets } from './commands/targets.js';
import { registerDemoSetup } from './commands/demo-setup.js';
import { registerMcp } from './commands/mcp.js';
import { DEFAULT_SERVER_URL } from './globals.js';

/**
 * Builds the program. Commander never prints or exits by itself: errors are thrown
 * (`exitOverride`) and reported as one line by main.ts. Help and `--version` still print.
 */
export function buildProgram(version: string): Command {
  const program = new Command('stint')
    .description('Stint: just-in-time access for services, CI jobs and AI agents')
    .version(version, '-V, --version')
    .addOption(new Option('--server <url>', 'broker URL').env('STINT_URL').default(DEFAULT_SERVER_URL))
    .addOption(new Option('--token <jwt>', 'your identity token').env('STINT_TOKEN'))
    .option('--json', 'machine-readable output')
    .option('--config <file>', 'config file for serve and token (default: ./stint.yaml if present, else the packaged examples/stint.yaml)')
    .exitOverride()
    .configureOutput({ outputError: () => {}, writeErr: () => {} })
    .showSuggestionAfterError(true);
  registerServe(program);
  registerToken(program);
  registerRequest(program);
  registerGrants(program);
  registerLifecycle(program);
  registerAudit(program);
  registerTargets(program);
  registerDemoSetup(program);
  registerMcp(program);
  return program;
}

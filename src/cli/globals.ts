/** The global options every command sees, and what they resolve to. */
import type { Command } from 'commander';
import { StintClient } from '../client/client.js';
import { resolveConfigPath } from './config-path.js';
import { CliError, ExitCode } from './exit.js';

/** Default broker URL (the example config's listen address). */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8080';

/** `--server`, `--token`, `--json`, `--config`, after environment defaults. */
export interface GlobalOptions {
  readonly server: string;
  readonly token?: string;
  readonly json: boolean;
  readonly config?: string;
}

/** The global options as seen from `command` (a subcommand at any depth). */
export function globalsOf(command: Command): GlobalOptions {
  const o = command.optsWithGlobals<{ server: string; token?: string; json?: boolean; config?: string }>();
  return {
    server: o.server,
    json: o.json === true,
    ...(o.token !== undefined && o.token !== '' ? { token: o.token } : {}),
    ...(o.config !== undefined ? { config: o.config } : {}),
  };
}

/** The config file the command uses (absolute). */
export function configPathOf(globals: GlobalOptions): string {
  return resolveConfigPath(globals.config);
}

/** A client for the broker, authenticated with the caller's identity token. */
export function clientOf(globals: GlobalOptions): StintClient {
  if (globals.token === undefined) {
    throw new CliError('no identity token: pass --token <jwt> or set STINT_TOKEN (in dev mode: export STINT_TOKEN=$(stint token --as workload:deploy-bot))', ExitCode.auth);
  }
  try {
    return new StintClient({ baseUrl: globals.server, token: globals.token });
  } catch (e) {
    // The value itself is not repeated: a URL with user info carries a password.
    throw new CliError(URL.canParse(globals.server) ? `--server: ${(e as Error).message}` : `--server is not a URL (example: ${DEFAULT_SERVER_URL})`);
  }
}

/** Writes one block of text (a trailing newline added) to stdout. */
export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Writes a value as JSON to stdout (the `--json` output). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

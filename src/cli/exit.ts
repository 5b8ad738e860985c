/**
 * How the CLI fails: exactly one line on stderr (`stint: <code>: <detail>` for broker errors,
 * `stint: <message>` otherwise), never a stack trace, and an exit code a pipeline can branch on.
 */
import { CommanderError } from 'commander';
import { StintApiError, StintNetworkError } from '../client/errors.js';
import { isStintError } from '../core/errors.js';

/** Exit codes (docs/cli.md). */
export const ExitCode = {
  ok: 0,
  /** Usage errors and every failure without a more specific code. */
  failure: 1,
  /** The grant (or the request) was denied. */
  denied: 2,
  /** Waiting timed out, or the grant ended in a state other than active. */
  timeout: 3,
  /** The caller could not be authenticated or is not allowed. */
  auth: 4,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the CLI reports with its own message and exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCodeValue;

  constructor(message: string, exitCode: ExitCodeValue = ExitCode.failure) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Commander outcomes that are not failures (help or version was asked for). */
const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.version']);

function oneLine(text: string): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('; ');
}

function apiExitCode(e: StintApiError): ExitCodeValue {
  if (e.code === 'policy_denied') return ExitCode.denied;
  if (e.code === 'unauthenticated' || e.code === 'forbidden' || e.code === 'self_approval') return ExitCode.auth;
  return ExitCode.failure;
}

/**
 * The stderr line and exit code for any error thrown by a command. `line` is undefined when
 * nothing must be printed (the user asked for help or the version and got it).
 */
export function describeFailure(e: unknown): { line?: string; exitCode: number } {
  if (e instanceof CommanderError) {
    if (COMMANDER_SUCCESS.has(e.code) || (e.code === 'commander.help' && e.exitCode === 0)) return { exitCode: ExitCode.ok };
    // `stint` alone: commander would print the whole help to stderr; one line says the same.
    if (e.code === 'commander.help') return { line: 'stint: missing command (run `stint --help` to see them)', exitCode: ExitCode.failure };
    return { line: `stint: ${oneLine(e.message.replace(/^error: /, ''))}`, exitCode: ExitCode.failure };
  }
  if (e instanceof StintApiError) return { line: `stint: ${e.code}: ${oneLine(e.detail)}`, exitCode: apiExitCode(e) };
  if (isStintError(e)) return { line: `stint: ${e.code}: ${oneLine(e.detail)}`, exitCode: ExitCode.failure };
  if (e instanceof CliError) return { line: `stint: ${oneLine(e.message)}`, exitCode: e.exitCode };
  if (e instanceof StintNetworkError) {
    return { line: `stint: ${oneLine(e.message)} (is the broker running? start one with \`stint serve\`)`, exitCode: ExitCode.failure };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { line: `stint: ${oneLine(message) || 'unexpected failure'}`, exitCode: ExitCode.failure };
}

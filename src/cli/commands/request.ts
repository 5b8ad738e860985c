/**
 * `stint request`: asks for access. With `--wait` it blocks until the grant is usable, denied
 * or lapsed, so a pipeline can gate a step on it: exit 0 active (the access token is printed),
 * 2 denied, 3 timed out or ended otherwise.
 */
import { Option, type Command } from 'commander';
import type { StintClient } from '../../client/client.js';
import type { GrantJson } from '../../client/types.js';
import type { WaitOutcome } from '../../client/wait.js';
import { formatDuration } from '../../core/duration.js';
import { CliError, ExitCode } from '../exit.js';
import { approvalProgress } from '../format/grant.js';
import { clientOf, globalsOf, print } from '../globals.js';
import { printHandout, progress, type Handout } from '../handout.js';
import { durationSeconds } from '../options.js';

interface RequestOptions {
  target: string;
  role: string;
  task: string;
  reason: string;
  ticket?: string;
  ttl: number;
  breakGlass?: boolean;
  wait?: boolean;
  waitTimeout: number;
  pollInterval: number;
}

/** Why a grant is denied, in one line: the humans who said no, or the policy decision. */
export function deniedLine(g: GrantJson): string {
  const no = g.approvals.filter((a) => a.verdict === 'deny');
  if (no.length > 0) return `grant ${g.id} was denied by ${no.map((a) => (a.reason ? `${a.approver} (${a.reason})` : a.approver)).join(', ')}`;
  const d = g.decision;
  if (d === undefined) return `grant ${g.id} was denied`;
  const errors = d.errors.length > 0 ? ` (policy errors: ${d.errors.join('; ')})` : '';
  return `grant ${g.id} was denied by policy: ${d.policies.length > 0 ? d.policies.join(', ') : 'no policy permits this request'}${errors}`;
}

/** Exit code and failure line for a grant that settled (or not) after a request. */
export function settleFailure(outcome: WaitOutcome, g: GrantJson, waitedSeconds: number): CliError | undefined {
  switch (outcome) {
    case 'active':
      return undefined;
    case 'denied':
      return new CliError(deniedLine(g), ExitCode.denied);
    case 'timeout':
      return new CliError(`timed out after ${formatDuration(waitedSeconds)} waiting for grant ${g.id} (still ${g.status})`, ExitCode.timeout);
    default:
      return new CliError(`grant ${g.id} ended as ${g.status} before it became active`, ExitCode.timeout);
  }
}

function progressLine(g: GrantJson): string {
  const approvals = approvalProgress(g);
  return `stint: grant ${g.id} is ${g.status}${approvals !== undefined ? ` (${approvals})` : ''}`;
}

/** Waits for an approved grant to be picked up, and makes sure an active one comes with a token. */
async function waitUntilSettled(client: StintClient, g: GrantJson, opts: RequestOptions): Promise<Handout & { outcome: WaitOutcome }> {
  progress(`${progressLine(g)}; waiting up to ${formatDuration(opts.waitTimeout)} (approvers: stint approve ${g.id})`);
  const result = await client.waitForGrant(g.id, {
    timeoutMs: opts.waitTimeout * 1000,
    intervalMs: opts.pollInterval * 1000,
    onUpdate: (update) => progress(progressLine(update)),
  });
  if (result.outcome === 'active' && result.accessToken === undefined) {
    // Activated by another process of the same requester: ask for a fresh token.
    const fresh = await client.token(g.id);
    return { outcome: 'active', grant: fresh.grant, accessToken: fresh.accessToken };
  }
  return result;
}

function pendingHint(g: GrantJson): string {
  return [
    `waiting for approval: approvers run \`stint approve ${g.id}\`;`,
    `then pick it up with \`stint activate ${g.id}\` (or request with --wait to block until then)`,
  ].join(' ');
}

/** Registers `request`. */
export function registerRequest(program: Command): void {
  program
    .command('request')
    .description('ask for access to a target role, for one task and a bounded time')
    .requiredOption('--target <name>', 'target, as configured (e.g. orders-db)')
    .requiredOption('--role <name>', 'role on the target (e.g. read)')
    .requiredOption('--task <text>', 'what the access is for (shown to approvers and in the audit log)')
    .requiredOption('--reason <text>', 'why it is needed')
    .option('--ticket <id>', 'change or incident ticket')
    .requiredOption('--ttl <duration>', 'how long the access lasts once active (e.g. 15m)', durationSeconds)
    .option('--break-glass', 'emergency access: granted at once if policy allows, reviewed afterwards')
    .option('--wait', 'block until the grant is active, denied or lapsed (exit 0 / 2 / 3)')
    .addOption(new Option('--wait-timeout <duration>', 'give up waiting after this long').argParser(durationSeconds).default(900, '15m'))
    .addOption(new Option('--poll-interval <duration>', 'how often to check while waiting').argParser(durationSeconds).default(2, '2s'))
    .action(async (opts: RequestOptions, command: Command) => {
      const globals = globalsOf(command);
      const client = clientOf(globals);
      const created = await client.requestGrant({
        target: opts.target,
        role: opts.role,
        task: opts.task,
        reason: opts.reason,
        ttl: opts.ttl,
        ...(opts.ticket !== undefined ? { ticket: opts.ticket } : {}),
        ...(opts.breakGlass === true ? { breakGlass: true } : {}),
      });
      const status = created.grant.status;
      const settled = status === 'active' || status === 'denied' || status === 'expired';
      if (opts.wait !== true || settled) {
        printHandout(globals.json, created);
        if (status === 'pending_approval' && !globals.json) print(pendingHint(created.grant));
        // Without --wait only a denial is a failure; a pending request is what was asked for.
        const failure = status === 'denied' || (opts.wait === true && settled) ? settleFailure(status as WaitOutcome, created.grant, 0) : undefined;
        if (failure !== undefined) throw failure;
        return;
      }
      const result = await waitUntilSettled(client, created.grant, opts);
      printHandout(globals.json, result);
      const failure = settleFailure(result.outcome, result.grant, opts.waitTimeout);
      if (failure !== undefined) throw failure;
    });
}

/**
 * Moving a grant through its life: `approve`, `deny` (approvers), `activate`, `complete`,
 * `extend` (the requester), `revoke` (owners, admins) and `review` (break-glass follow-up).
 */
import { Option, type Command } from 'commander';
import type { GrantResponse, ReviewOutcome } from '../../client/types.js';
import { CliError, ExitCode } from '../exit.js';
import { grantSummary } from '../format/grant.js';
import { clientOf, globalsOf, print, printJson, type GlobalOptions } from '../globals.js';
import { printHandout } from '../handout.js';
import { durationSeconds } from '../options.js';
import { deniedLine } from './request.js';

function printGrant(globals: GlobalOptions, response: GrantResponse): void {
  if (globals.json) printJson(response);
  else print(grantSummary(response.grant, Date.now()));
}

/** Registers the lifecycle commands. */
export function registerLifecycle(program: Command): void {
  program
    .command('approve')
    .description('approve a pending grant (owners and approvers; never your own)')
    .argument('<id>', 'grant id')
    .option('--reason <text>', 'why you approve')
    .action(async (id: string, opts: { reason?: string }, command: Command) => {
      const globals = globalsOf(command);
      printGrant(globals, await clientOf(globals).approve(id, opts.reason !== undefined ? { reason: opts.reason } : {}));
    });

  program
    .command('deny')
    .description('deny a pending grant')
    .argument('<id>', 'grant id')
    .requiredOption('--reason <text>', 'why (shown to the requester and audited)')
    .action(async (id: string, opts: { reason: string }, command: Command) => {
      const globals = globalsOf(command);
      printGrant(globals, await clientOf(globals).deny(id, { reason: opts.reason }));
    });

  program
    .command('activate')
    .description('pick up your approved grant: the TTL starts and the access token is printed')
    .argument('<id>', 'grant id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      printHandout(globals.json, await clientOf(globals).activate(id));
    });

  program
    .command('complete')
    .description('end your grant now because the task is done (the credential is revoked)')
    .argument('<id>', 'grant id')
    .option('--note <text>', 'what was done')
    .action(async (id: string, opts: { note?: string }, command: Command) => {
      const globals = globalsOf(command);
      printGrant(globals, await clientOf(globals).complete(id, opts.note !== undefined ? { note: opts.note } : {}));
    });

  program
    .command('revoke')
    .description('end a grant now (owners and admins); its credential is revoked and checked dead')
    .argument('<id>', 'grant id')
    .requiredOption('--reason <text>', 'why (audited)')
    .action(async (id: string, opts: { reason: string }, command: Command) => {
      const globals = globalsOf(command);
      printGrant(globals, await clientOf(globals).revoke(id, { reason: opts.reason }));
    });

  program
    .command('extend')
    .description('ask to move the expiry of your active grant; decided like a new request')
    .argument('<id>', 'grant id')
    .requiredOption('--ttl <duration>', 'how much longer (e.g. 15m)', durationSeconds)
    .requiredOption('--reason <text>', 'why more time is needed')
    .option('--ticket <id>', 'change or incident ticket')
    .action(async (id: string, opts: { ttl: number; reason: string; ticket?: string }, command: Command) => {
      const globals = globalsOf(command);
      const response = await clientOf(globals).extend(id, {
        ttl: opts.ttl,
        reason: opts.reason,
        ...(opts.ticket !== undefined ? { ticket: opts.ticket } : {}),
      });
      printHandout(globals.json, response);
      if (response.grant.status === 'denied') throw new CliError(deniedLine(response.grant), ExitCode.denied);
    });

  program
    .command('review')
    .description('record the review of a break-glass grant')
    .argument('<id>', 'grant id')
    .addOption(new Option('--outcome <outcome>', 'verdict').choices(['justified', 'unjustified', 'needs_follow_up']).makeOptionMandatory())
    .requiredOption('--notes <text>', 'what was found')
    .action(async (id: string, opts: { outcome: ReviewOutcome; notes: string }, command: Command) => {
      const globals = globalsOf(command);
      printGrant(globals, await clientOf(globals).review(id, { outcome: opts.outcome, notes: opts.notes }));
    });
}

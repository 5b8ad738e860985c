/** `stint grants` (a table of the grants the caller may see) and `stint show <id>` (one grant in full). */
import { Option, type Command } from 'commander';
import type { GrantJson, GrantQuery, GrantStatus } from '../../client/types.js';
import { GRANT_STATUSES } from '../../core/grant.js';
import { grantDetails, grantsTable } from '../format/grant.js';
import { clientOf, globalsOf, print, printJson } from '../globals.js';
import { positiveInteger } from '../options.js';

interface ListOptions {
  status?: GrantStatus;
  target?: string;
  principal?: string;
  needsReview?: boolean;
  limit: number;
  all?: boolean;
}

/** Registers `grants` and `show`. */
export function registerGrants(program: Command): void {
  program
    .command('grants')
    .description('list grants (newest first): id, status, principal, target/role, ttl, expiry, flags (BG break-glass, REVIEW review due, EXT extension)')
    .addOption(new Option('--status <status>', 'only grants in this status').choices(GRANT_STATUSES))
    .option('--target <name>', 'only grants on this target')
    .option('--principal <id>', 'only grants of this principal')
    .option('--needs-review', 'only break-glass grants whose review is due')
    .addOption(new Option('--limit <n>', 'grants per page (at most 500)').argParser(positiveInteger).default(50))
    .option('--all', 'follow the pages to the end')
    .action(async (opts: ListOptions, command: Command) => {
      const globals = globalsOf(command);
      const client = clientOf(globals);
      const filter: GrantQuery = {
        ...(opts.status !== undefined ? { status: opts.status } : {}),
        ...(opts.target !== undefined ? { target: opts.target } : {}),
        ...(opts.principal !== undefined ? { principal: opts.principal } : {}),
        ...(opts.needsReview === true ? { needsReview: true } : {}),
        limit: opts.limit,
      };
      const items: GrantJson[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listGrants({ ...filter, ...(cursor !== undefined ? { cursor } : {}) });
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (opts.all === true && cursor !== undefined);

      if (globals.json) {
        printJson({ items, ...(cursor !== undefined ? { nextCursor: cursor } : {}) });
        return;
      }
      if (items.length === 0) {
        print('no grants');
        return;
      }
      print(grantsTable(items, Date.now()));
      if (cursor !== undefined) print(`(more grants: rerun with --all, or raise --limit)`);
    });

  program
    .command('show')
    .description('everything about one grant: decision and policies, approvals, credential state, revocation evidence, review')
    .argument('<id>', 'grant id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      const grant = await clientOf(globals).getGrant(id);
      if (globals.json) printJson(grant);
      else print(grantDetails(grant, Date.now()));
    });
}

/** `stint targets` (targets with connectivity and privilege checks) and `stint reconcile` (orphans, standing privilege). */
import type { Command } from 'commander';
import { renderTable } from '../format/table.js';
import { clientOf, globalsOf, print, printJson } from '../globals.js';
import { formatDuration } from '../../core/duration.js';

/** Registers `targets` and `reconcile`. */
export function registerTargets(program: Command): void {
  program
    .command('targets')
    .description('list targets with connectivity and whether the broker\'s own privileges are minimal')
    .option('--no-check', 'skip contacting the targets')
    .action(async (opts: { check: boolean }, command: Command) => {
      const globals = globalsOf(command);
      const { items } = await clientOf(globals).listTargets({ check: opts.check });
      if (globals.json) return printJson({ items });
      if (items.length === 0) return print('no targets');
      print(
        renderTable(
          ['TARGET', 'CONNECTOR', 'ENV', 'ROLES', 'REACHABLE', 'PRIVILEGES'],
          items.map((t) => [
            t.name,
            t.connector,
            t.env,
            t.roles.map((r) => `${r.name}(${formatDuration(r.maxTtlSeconds)}${r.approvals > 1 ? `,${r.approvals} approvals` : ''})`).join(' '),
            t.check ? (t.check.reachable ? 'yes' : 'NO') : '-',
            t.check ? (t.check.minimalPrivileges ? 'minimal' : 'EXCESSIVE') : '-',
          ]),
        ),
      );
      for (const t of items) for (const d of t.check?.details ?? []) print(`  ${t.name}: ${d}`);
    });

  program
    .command('reconcile')
    .description('find credentials Stint made that no live grant backs and remove them; report standing privilege')
    .argument('[targets...]', 'targets to reconcile (default: all)')
    .option('--dry-run', 'only show what would be removed')
    .action(async (names: string[], opts: { dryRun?: boolean }, command: Command) => {
      const globals = globalsOf(command);
      const client = clientOf(globals);
      const chosen = names.length > 0 ? names : (await client.listTargets({ check: false })).items.map((t) => t.name);
      const reports = [];
      for (const name of chosen) reports.push(await client.reconcile(name, { dryRun: opts.dryRun === true }));
      if (globals.json) return printJson({ items: reports });
      for (const r of reports) {
        const verb = r.dryRun ? 'would remove' : 'removed';
        print(`${r.target}: ${r.orphans.length} orphan(s)${r.orphans.length ? `, ${verb}: ${(r.dryRun ? r.orphans.map((o) => o.name) : r.removed).join(', ')}` : ''}`);
        for (const s of r.standing) print(`  standing privilege: ${s.name} holds ${s.holds} (${s.detail})`);
      }
    });
}

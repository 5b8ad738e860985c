/**
 * What `reconcile()` sees among a server's ACL users: Stint's users that no live grant backs
 * (orphans) and logins Stint did not make that can run commands (standing privilege). Kept
 * deliberately simple so every finding can be explained in one sentence: any enabled user other
 * than the broker's own that may run at least one command is standing privilege, and the
 * `default` user with `nopass` is called out because anyone who connects gets it.
 */
import type { Orphan, StandingPrivilege } from '../../ports/connector.js';
import { grantIdFromName } from './names.js';
import type { AclUser } from './replies.js';

/** Orphans and standing privilege among `users`; `brokerUser` is the broker's own login. */
export function assessUsers(
  users: readonly AclUser[],
  liveGrantIds: ReadonlySet<string>,
  brokerUser: string,
): { orphans: Orphan[]; standing: StandingPrivilege[] } {
  const orphans: Orphan[] = [];
  const standing: StandingPrivilege[] = [];
  for (const user of users) {
    const grantId = grantIdFromName(user.name);
    if (grantId !== undefined) {
      if (!liveGrantIds.has(grantId)) {
        orphans.push({ name: user.name, grantId, detail: `ACL user of grant ${grantId}, which is not live${user.enabled ? ' (enabled)' : ''}` });
      }
      continue;
    }
    if (user.name === brokerUser || !user.enabled) continue;
    const canRun = user.commands.some((c) => c.startsWith('+')) || user.selectors.length > 0;
    if (!canRun) continue;
    const holds = [...user.keys, ...user.commands, ...user.selectors].join(' ');
    const who = user.nopass ? 'anyone who connects gets it without a password (nopass)' : 'it has a password and no grant backs it';
    standing.push({ name: user.name, holds, detail: `enabled ACL user not made by Stint; ${who}` });
  }
  return { orphans, standing };
}

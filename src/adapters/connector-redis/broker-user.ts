/**
 * The broker's own Redis ACL user and whether it holds more than the documented minimum
 * (issue #3, "the broker's own Redis user may only manage ACL users and list/kill clients").
 * REFERENCE.md section 1 lists what is needed; `acl|getuser` is added because verifyRevoked and
 * check() read single users with it (O(1), instead of scanning `ACL LIST`).
 */
import type { AclUserDetail } from './replies.js';

/** Exactly the commands this connector sends as the broker's user. */
export const BROKER_COMMANDS: readonly string[] = [
  'acl|setuser',
  'acl|deluser',
  'acl|getuser',
  'acl|list',
  'client|list',
  'client|kill',
];

/** Connection basics that grant no data or admin access; holding them does not count as excess. */
const HARMLESS_COMMANDS: ReadonlySet<string> = new Set(['auth', 'hello', 'ping']);

/** What each needed command is used for, to explain a missing one. */
const USED_FOR: Readonly<Record<string, string>> = {
  'acl|setuser': 'provisioning fails',
  'acl|deluser': 'revocation fails',
  'acl|getuser': 'revocation proofs and this check fail',
  'acl|list': 'reconcile fails',
  'client|list': 'revocation proofs fail',
  'client|kill': 'live connections of a re-provisioned user survive',
};

/**
 * The documented setup line (docs/connectors.md, "Redis"), for redis-cli's interactive prompt.
 * `reset` first makes it repeatable; `-@all` and no `~` pattern mean no key access at all.
 */
export const BROKER_ACL_SETUSER = `ACL SETUSER stint-admin reset on >CHANGE-ME-TO-A-LONG-RANDOM-PASSWORD -@all ${BROKER_COMMANDS.map((c) => `+${c}`).join(' ')}`;

/** The verdict on the broker's user. */
export interface BrokerUserAssessment {
  readonly minimal: boolean;
  readonly details: readonly string[];
}

/** Judges the broker's user `name` from its `ACL GETUSER` reply. */
export function assessBrokerUser(name: string, user: AclUserDetail): BrokerUserAssessment {
  const details = [`broker user "${name}" may run: ${user.commands.join(' ') || '(nothing)'}`];
  const problems: string[] = [];
  const granted = user.commands.filter((c) => c.startsWith('+')).map((c) => c.slice(1).toLowerCase());
  const excess = granted.filter((c) => !BROKER_COMMANDS.includes(c) && !HARMLESS_COMMANDS.has(c));
  if (excess.length > 0) problems.push(`more commands than ACL user management and CLIENT LIST/KILL: ${excess.map((c) => `+${c}`).join(' ')}`);
  if (user.keys.length > 0) problems.push(`key access ${user.keys.join(' ')} (the broker needs none)`);
  if (user.selectorCount > 0) problems.push(`${user.selectorCount} selector(s), which can grant further commands and keys`);
  if (user.flags.includes('nopass')) problems.push('nopass: anyone who connects can act as the broker');
  for (const p of problems) details.push(`not minimal: ${p}`);
  const hasCategory = granted.some((c) => c.startsWith('@'));
  for (const needed of BROKER_COMMANDS) {
    const parent = needed.split('|')[0]!;
    if (!hasCategory && !granted.includes(needed) && !granted.includes(parent)) {
      details.push(`missing +${needed}: ${USED_FOR[needed] ?? 'the connector fails'}`);
    }
  }
  if (problems.length === 0) details.push('minimal: only ACL user management and CLIENT LIST/KILL, no key access');
  return { minimal: problems.length === 0, details };
}

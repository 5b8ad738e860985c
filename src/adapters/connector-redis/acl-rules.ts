/**
 * Which Redis ACL rules (https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/)
 * a role may confer on a grant's user. Stint itself owns the password and the enabled flag of
 * that user (it sets `reset on #<hash>` before the role's rules), so any rule that would touch
 * them is refused; so is anything this list does not recognise, which keeps a typo from turning
 * into an ACL rule nobody meant.
 */

/** Rules that would let the configuration take over what Stint controls, with the reason. */
const CONTROLLED_BY_STINT: ReadonlyMap<string, string> = new Map([
  ['on', 'Stint enables the user itself'],
  ['off', 'Stint enables the user itself'],
  ['nopass', 'Stint sets the password itself (nopass would let anyone log in as this user)'],
  ['resetpass', 'Stint sets the password itself'],
  ['reset', 'Stint resets the user itself (reset would also disable it and drop its password)'],
  ['skip-sanitize-payload', 'payload sanitisation stays at the server default'],
  ['sanitize-payload', 'payload sanitisation stays at the server default'],
]);

/** Keyword rules a role may use as they are. */
const KEYWORDS: ReadonlySet<string> = new Set([
  'allkeys',
  'resetkeys',
  'allchannels',
  'resetchannels',
  'allcommands',
  'nocommands',
]);

/** `+get`, `-flushall`, `+config|get`, `+json.get`, `+@read`, `-@dangerous`. */
const COMMAND_RULE = /^[+-](?:@[a-z][a-z0-9_-]*|[a-z][a-z0-9_.-]*(?:\|[a-z0-9_.:-]+)?)$/iu;
/** Key (`~`, `%R~`, `%W~`, `%RW~`) and channel (`&`) patterns: no whitespace, control characters or parentheses. */
const KEY_RULE = /^(?:~|%(?:R|W|RW|WR)~)[^\s()\p{Cc}]+$/iu;
const CHANNEL_RULE = /^&[^\s()\p{Cc}]+$/u;

/** Why a single (non-selector) rule is refused, or undefined when it is accepted. */
function simpleRuleProblem(rule: string): string | undefined {
  const lower = rule.toLowerCase();
  const controlled = CONTROLLED_BY_STINT.get(lower);
  if (controlled !== undefined) return `"${rule}" is refused: ${controlled}`;
  if (/^[<>#!]/u.test(rule)) return 'password rules (>, <, #, !) are refused: Stint sets the password itself';
  if (KEYWORDS.has(lower) || COMMAND_RULE.test(rule) || KEY_RULE.test(rule) || CHANNEL_RULE.test(rule)) return undefined;
  return `"${rule}" is not a Redis ACL command, key or channel rule`;
}

/**
 * Why `rule` may not be part of a role's grants, or undefined when it may. Accepted: command
 * rules (`+cmd`, `-cmd`, `+cmd|sub`, `+@category`, `-@category`, `allcommands`, `nocommands`),
 * key patterns (`~pat`, `%R~pat`, `%W~pat`, `%RW~pat`, `allkeys`, `resetkeys`), channel patterns
 * (`&pat`, `allchannels`, `resetchannels`), selectors `(<rules>)` made of those, and
 * `clearselectors`. Password rules and the on/off/nopass/reset flags are refused (Stint owns them).
 */
export function aclRuleProblem(rule: string): string | undefined {
  if (rule.length === 0) return 'an empty rule is not a Redis ACL rule';
  if (rule.toLowerCase() === 'clearselectors') return undefined;
  if (rule.startsWith('(') || rule.endsWith(')')) {
    if (!(rule.startsWith('(') && rule.endsWith(')'))) return `"${rule}" is not a well-formed selector "(<rules>)"`;
    const inner = rule.slice(1, -1).trim().split(/\s+/u).filter((t) => t.length > 0);
    if (inner.length === 0) return 'an empty selector "()" grants nothing';
    for (const token of inner) {
      if (token.startsWith('(') || token.toLowerCase() === 'clearselectors') return `selector "${rule}" may not contain "${token}"`;
      const problem = simpleRuleProblem(token);
      if (problem !== undefined) return `in selector: ${problem}`;
    }
    return undefined;
  }
  return simpleRuleProblem(rule);
}

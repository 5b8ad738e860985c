/**
 * Checks that span several keys, run after the schema accepted the file. Each returns
 * problems rather than throwing, so the operator sees every mistake in one run.
 */
import { parseDuration } from '../core/duration.js';
import type { ConfigProblem } from './problems.js';
import type { RawConfig, RawTarget } from './schema.js';

/** Largest accepted issuer leeway: more would keep expired identity tokens usable for long. */
export const MAX_LEEWAY_SECONDS = 300;

/** All cross-field problems of a schema-valid config. */
export function checkCrossField(raw: RawConfig): ConfigProblem[] {
  return [...checkIssuers(raw), ...checkDevPrincipals(raw), ...checkTargets(raw), ...checkGrants(raw)];
}

function checkIssuers(raw: RawConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const names = new Map<string, number>();
  const issuerValues = new Map<string, number>();
  raw.issuers.forEach((issuer, i) => {
    const sameName = names.get(issuer.name);
    if (sameName !== undefined) problems.push({ path: ['issuers', i, 'name'], problem: `repeats the name of issuers[${sameName}]` });
    else names.set(issuer.name, i);
    // Two entries with one `iss` would make it ambiguous which claim mapping applies.
    const sameIssuer = issuerValues.get(issuer.issuer);
    if (sameIssuer !== undefined) problems.push({ path: ['issuers', i, 'issuer'], problem: `repeats the issuer of issuers[${sameIssuer}]` });
    else issuerValues.set(issuer.issuer, i);
    if (issuer.principal.kind !== undefined && issuer.principal.type !== 'workload') {
      problems.push({ path: ['issuers', i, 'principal', 'kind'], problem: 'applies only when principal.type is workload' });
    }
    // The schema's duration format accepted the value, so it parses.
    if (parseDuration(issuer.leeway)! > MAX_LEEWAY_SECONDS) {
      problems.push({ path: ['issuers', i, 'leeway'], problem: 'must be at most 5m' });
    }
  });
  return problems;
}

function checkDevPrincipals(raw: RawConfig): ConfigProblem[] {
  return Object.entries(raw.dev.principals)
    .filter(([id, principal]) => principal.kind !== undefined && !id.startsWith('workload:'))
    .map(([id]) => ({ path: ['dev', 'principals', id, 'kind'], problem: 'applies only to workload principals' }));
}

function checkTargets(raw: RawConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { groups, admins } = raw.approvers;
  for (const [name, target] of Object.entries(raw.targets)) {
    target.owners.forEach((owner, i) => {
      if (owner.startsWith('group:') && !Object.hasOwn(groups, owner.slice('group:'.length))) {
        problems.push({ path: ['targets', name, 'owners', i], problem: `group ${owner.slice('group:'.length)} is not defined in approvers.groups` });
      }
    });
    const approvers = possibleApprovers(target, groups, admins);
    for (const [roleName, role] of Object.entries(target.roles)) {
      if (role.approvals > approvers.length) {
        const who = approvers.length === 0 ? 'nobody' : approvers.join(', ');
        problems.push({
          path: ['targets', name, 'roles', roleName, 'approvals'],
          problem: `needs ${role.approvals} distinct approvers but only ${approvers.length} can approve (owners and admins: ${who}), so such a grant could never be approved`,
        });
      }
    }
  }
  return problems;
}

/** Distinct humans who may approve on `target`: its owners (groups expanded) plus the admins. */
function possibleApprovers(target: RawTarget, groups: Readonly<Record<string, readonly string[]>>, admins: readonly string[]): string[] {
  const humans = new Set<string>();
  for (const owner of target.owners) {
    if (owner.startsWith('group:')) {
      const group = owner.slice('group:'.length);
      for (const member of Object.hasOwn(groups, group) ? (groups[group] ?? []) : []) humans.add(member);
    } else {
      humans.add(owner);
    }
  }
  for (const admin of admins) humans.add(admin);
  return [...humans].sort();
}

function checkGrants(raw: RawConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { revokeRetry, businessHours } = raw.grants;
  if (parseDuration(revokeRetry.initial)! > parseDuration(revokeRetry.max)!) {
    problems.push({ path: ['grants', 'revokeRetry', 'initial'], problem: 'must not exceed grants.revokeRetry.max' });
  }
  if (businessHours.end <= businessHours.start) {
    problems.push({ path: ['grants', 'businessHours', 'end'], problem: 'must be later than grants.businessHours.start' });
  }
  return problems;
}

/**
 * PolicyInput builders for the policy tests, shaped like the example config
 * (examples/stint.yaml): its targets, roles and dev principals.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Principal, WorkloadKind } from '../../src/core/principal.js';
import { afterAll } from 'vitest';
import type { PolicyEvaluator, PolicyInput } from '../../src/ports/policy.js';

/** The role names of the example config (union over its targets). */
export const EXAMPLE_ROLES = ['read', 'write', 'admin'] as const;

/** Fixed decision time: Monday 2026-01-05 10:00 UTC. */
export const NOW = Date.UTC(2026, 0, 5, 10, 0, 0);

export function workload(name: string, kind: WorkloadKind, attributes: Record<string, string> = {}, tenant = 'default'): Principal {
  return { type: 'workload', id: `workload:${name}`, kind, tenant, attributes, issuer: 'dev', subject: name };
}

export function human(name: string, tenant = 'default'): Principal {
  return { type: 'human', id: `human:${name}`, tenant, attributes: {}, issuer: 'dev', subject: name };
}

/** The dev principals of the example config. */
export const principals = {
  deployBot: workload('deploy-bot', 'service', { env: 'prod', team: 'payments' }),
  ciRunner: workload('ci-runner', 'ci', { env: 'staging' }),
  supportAgent: workload('support-agent', 'agent', { env: 'prod' }),
  carol: human('carol'),
  alice: human('alice'),
};

interface RoleShape {
  readonly maxTtlSeconds: number;
  readonly riskTier: string;
}
interface TargetShape {
  readonly env: string;
  readonly attributes: Record<string, string>;
  readonly roles: Record<string, RoleShape>;
}

/** The example config's targets (tenant `default`). */
export const targets: Record<'orders-db' | 'reports-db' | 'payments-api', TargetShape> = {
  'orders-db': {
    env: 'prod',
    attributes: { tier: 'gold' },
    roles: { read: { maxTtlSeconds: 3600, riskTier: 'low' }, write: { maxTtlSeconds: 1800, riskTier: 'high' } },
  },
  'reports-db': {
    env: 'staging',
    attributes: {},
    roles: { read: { maxTtlSeconds: 3600, riskTier: 'low' }, write: { maxTtlSeconds: 3600, riskTier: 'medium' } },
  },
  'payments-api': {
    env: 'prod',
    attributes: { team: 'payments' },
    roles: { admin: { maxTtlSeconds: 900, riskTier: 'critical' } },
  },
};

/** What a test says about a request; the rest gets defaults from the example config. */
export interface RequestSpec {
  principal: Principal;
  target: keyof typeof targets;
  role: string;
  ttlSeconds?: number;
  groups?: string[];
  targetTenant?: string;
  ticket?: string;
  breakGlass?: boolean;
  businessHours?: boolean;
  task?: string;
  reason?: string;
  approved?: boolean;
  dpopBound?: boolean;
}

export function request(spec: RequestSpec): PolicyInput {
  const target = targets[spec.target];
  const role = target.roles[spec.role] ?? { maxTtlSeconds: 3600, riskTier: 'low' };
  return {
    principal: spec.principal,
    principalGroups: spec.groups ?? [],
    target: { name: spec.target, env: target.env, tenant: spec.targetTenant ?? 'default', owners: ['group:dba'], attributes: target.attributes },
    role: spec.role,
    roleMaxTtlSeconds: role.maxTtlSeconds,
    riskTier: role.riskTier,
    ttlSeconds: spec.ttlSeconds ?? 900,
    dpopBound: spec.dpopBound ?? false,
    task: spec.task ?? 'rotate reporting indexes',
    reason: spec.reason ?? 'weekly maintenance',
    ...(spec.ticket === undefined ? {} : { ticket: spec.ticket }),
    breakGlass: spec.breakGlass ?? false,
    isExtension: false,
    businessHours: spec.businessHours ?? true,
    now: NOW,
    approved: spec.approved ?? false,
  };
}

/**
 * The broker's tiering (REFERENCE.md section 4), computed here from two evaluations:
 * allowed with approved=false -> auto; else (not break-glass) allowed with approved=true ->
 * approval; else deny. Returns the answer that decided, too.
 */
export function tier(evaluator: PolicyEvaluator, input: PolicyInput) {
  const first = evaluator.evaluate({ ...input, approved: false });
  if (first.allowed) return { outcome: 'auto' as const, answer: first };
  if (input.breakGlass) return { outcome: 'deny' as const, answer: first };
  const second = evaluator.evaluate({ ...input, approved: true });
  return { outcome: second.allowed ? ('approval' as const) : ('deny' as const), answer: second.allowed ? second : first };
}

/** A fresh temporary directory holding `files` (name -> content); returns it and a cleanup. */
export async function policyDir(files: Record<string, string | Uint8Array>): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'stint-policy-'));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * For a test file: `dirWith(text)` makes a function that writes a temporary policy directory
 * holding `text` (as `p.cedar`) when first called; every such directory is removed after the
 * file's tests.
 */
export function temporaryPolicyDirs(): (text: string) => () => Promise<string> {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    await Promise.all(cleanups.map((c) => c()));
  });
  return (text) => async () => {
    const { dir, cleanup } = await policyDir({ 'p.cedar': text });
    cleanups.push(cleanup);
    return dir;
  };
}

/**
 * Who is calling. Stint never authenticates a caller by a shared secret: a principal is
 * always derived from a verified identity token (OIDC / SPIFFE / Kubernetes JWT) by the
 * identity port, using the claim mapping of the issuer that signed it.
 */

/** The kind of a non-human identity. */
export type WorkloadKind = 'service' | 'ci' | 'agent';

/** A verified caller. `id` is the stable, type-prefixed name used everywhere (`workload:deploy-bot`). */
export interface Principal {
  /** `workload` for services, CI jobs and agents; `human` for approvers and operators. */
  readonly type: 'workload' | 'human';
  /** Type-prefixed id, e.g. `workload:deploy-bot`, `human:alice`. */
  readonly id: string;
  /** Only for workloads. */
  readonly kind?: WorkloadKind;
  /** Tenant the principal belongs to; grants never cross tenants. */
  readonly tenant: string;
  /** Mapped attributes visible to policy (env, team, repository, ...). All strings. */
  readonly attributes: Readonly<Record<string, string>>;
  /** Name of the configured issuer that vouched for this principal. */
  readonly issuer: string;
  /** The raw `sub` claim of the identity token. */
  readonly subject: string;
  /**
   * Delegation chain (RFC 8693 `act`), outermost = current actor. Empty when the principal
   * acts for itself. Filled by the OAuth token exchange (issue #4).
   */
  readonly actorChain?: readonly string[];
  /**
   * RFC 8693 section 4.4 `may_act` of the identity token: the actors (by their token `sub`, and
   * `iss` when given) allowed to act for this principal. Absent = nobody may act for it.
   */
  readonly mayAct?: readonly { readonly sub: string; readonly iss?: string }[];
}

/** Parses a `may_act` claim (one object, or a list of them); malformed entries are dropped. */
export function parseMayAct(claim: unknown): { sub: string; iss?: string }[] | undefined {
  if (claim === undefined || claim === null) return undefined;
  const list = Array.isArray(claim) ? claim : [claim];
  const out: { sub: string; iss?: string }[] = [];
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { sub, iss } = entry as Record<string, unknown>;
    if (typeof sub !== 'string' || sub === '') continue;
    out.push({ sub, ...(typeof iss === 'string' && iss !== '' ? { iss } : {}) });
  }
  return out;
}

const PRINCIPAL_ID = /^(workload|human):[A-Za-z0-9][A-Za-z0-9._:@\/-]{0,199}$/;

/** True when `id` is a well-formed type-prefixed principal id. */
export function isPrincipalId(id: string): boolean {
  return PRINCIPAL_ID.test(id);
}

/** Splits `workload:deploy-bot` into its type and name. */
export function parsePrincipalId(id: string): { type: 'workload' | 'human'; name: string } | undefined {
  if (!isPrincipalId(id)) return undefined;
  const i = id.indexOf(':');
  return { type: id.slice(0, i) as 'workload' | 'human', name: id.slice(i + 1) };
}

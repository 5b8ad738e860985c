import type { JWTPayload } from 'jose';

import { parseMayAct, parsePrincipalId, type Principal, type WorkloadKind } from '../../core/principal.js';
import { unauthenticated } from './unauthenticated.js';

/**
 * Claims the development issuer puts in its tokens. They carry the principal exactly as
 * `dev.principals` describes it, so the dev branch of the verifier needs no claim mapping.
 * They are read only from tokens verified against the dev issuer's own key.
 */
export const DEV_CLAIMS = {
  type: 'stint_type',
  kind: 'stint_kind',
  tenant: 'stint_tenant',
  attributes: 'stint_attrs',
} as const;

/** Tenant of a dev principal that `dev.principals` does not list. */
export const DEV_DEFAULT_TENANT = 'default';

const WORKLOAD_KINDS: ReadonlySet<string> = new Set<WorkloadKind>(['service', 'ci', 'agent']);

function devAttributes(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw unauthenticated('dev attributes malformed');
  const entries = Object.entries(value);
  if (entries.some(([, v]) => typeof v !== 'string')) throw unauthenticated('dev attributes malformed');
  return Object.fromEntries(entries) as Record<string, string>;
}

/**
 * The principal a verified dev token names: `sub` is the principal id, the `stint_*` claims
 * carry type, kind, tenant and attributes. Anything inconsistent is refused rather than
 * guessed, even though only the dev key can sign these tokens.
 */
export function mapDevClaims(issuerName: string, claims: JWTPayload): Principal {
  const sub = claims.sub;
  const parsed = typeof sub === 'string' ? parsePrincipalId(sub) : undefined;
  if (sub === undefined || parsed === undefined) throw unauthenticated('dev token sub is not a principal id');
  if (claims[DEV_CLAIMS.type] !== parsed.type) throw unauthenticated('dev token type does not match sub');

  const kind = claims[DEV_CLAIMS.kind];
  if (kind !== undefined && (parsed.type !== 'workload' || typeof kind !== 'string' || !WORKLOAD_KINDS.has(kind))) {
    throw unauthenticated('dev token kind invalid');
  }
  const tenant = claims[DEV_CLAIMS.tenant];
  if (typeof tenant !== 'string' || tenant === '') throw unauthenticated('dev token tenant missing');

  return Object.freeze({
    type: parsed.type,
    id: sub,
    ...(kind !== undefined ? { kind: kind as WorkloadKind } : {}),
    tenant,
    attributes: Object.freeze(devAttributes(claims[DEV_CLAIMS.attributes])),
    issuer: issuerName,
    subject: sub,
     ...mayActOf(claims),
  });
}

/** RFC 8693 `may_act`, when the token carries one. */
function mayActOf(claims: JWTPayload): { mayAct?: { sub: string; iss?: string }[] } {
  const mayAct = parseMayAct(claims.may_act);
  return mayAct === undefined ? {} : { mayAct: Object.freeze(mayAct) as { sub: string; iss?: string }[] };
}

import type { JWTPayload } from 'jose';

import type { IssuerConfig } from '../../config/types.js';
import { isPrincipalId, parseMayAct, type Principal } from '../../core/principal.js';
import { claimAt, scalarClaimString } from './claim-path.js';
import { unauthenticated, untrusted } from './unauthenticated.js';

/**
 * Turns the verified claims of a configured issuer's token into a principal, following the
 * issuer's claim mapping (config `principal`). Runs only after the signature, iss, aud and
 * time checks passed.
 */
export function mapIssuerClaims(issuer: IssuerConfig, claims: JWTPayload): Principal {
  const mapping = issuer.principal;
  if (typeof claims.sub !== 'string' || claims.sub === '') throw unauthenticated('sub missing');

  // `require` pins claims to exact values (e.g. GitHub `repository`, `environment`). Scalars
  // compare by their string form, because config values are strings (`email_verified: "true"`).
  for (const [path, expected] of Object.entries(mapping.require)) {
    const actual = scalarClaimString(claimAt(claims, path));
    if (actual === undefined) throw unauthenticated(`required claim ${path} missing`);
    if (actual !== expected) throw unauthenticated(`required claim ${path} has the wrong value`);
  }

  const name = claimAt(claims, mapping.nameClaim);
  if (typeof name !== 'string' || name === '') throw unauthenticated(`name claim ${mapping.nameClaim} missing or not a string`);
  const id = `${mapping.type}:${name}`;
  if (!isPrincipalId(id)) throw unauthenticated(`invalid principal id ${untrusted(id)}`);

  // Object.fromEntries defines own properties, so an attribute named `__proto__` stays data.
  const attributes = Object.fromEntries(
    Object.entries(mapping.attributes).flatMap(([attribute, path]) => {
      const value = scalarClaimString(claimAt(claims, path));
      return value === undefined ? [] : [[attribute, value]];
    }),
  );

  return Object.freeze({
    type: mapping.type,
    id,
    ...(mapping.type === 'workload' && mapping.kind !== undefined ? { kind: mapping.kind } : {}),
    tenant: mapping.tenant,
    attributes: Object.freeze(attributes),
    issuer: issuer.name,
    subject: claims.sub,
     ...mayActOf(claims),
  });
}

/** RFC 8693 `may_act`, when the token carries one. */
function mayActOf(claims: JWTPayload): { mayAct?: { sub: string; iss?: string }[] } {
  const mayAct = parseMayAct(claims.may_act);
  return mayAct === undefined ? {} : { mayAct: Object.freeze(mayAct) as { sub: string; iss?: string }[] };
}

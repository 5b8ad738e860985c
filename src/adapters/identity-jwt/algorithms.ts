/**
 * The only JWS algorithms Stint ever accepts on an identity token: asymmetric ones. `none`
 * and the HMAC family are never accepted, whatever the configuration says, because an
 * HMAC "verified" with an issuer's public key bytes is the classic key-confusion forgery
 * (RFC 8725 section 2.1 and 3.1).
 */
export const ASYMMETRIC_JWS_ALGORITHMS: ReadonlySet<string> = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

/** The configured algorithms that are asymmetric; everything else is dropped. */
export function allowedAlgorithms(configured: readonly string[]): string[] {
  return [...new Set(configured.filter((alg) => ASYMMETRIC_JWS_ALGORITHMS.has(alg)))];
}

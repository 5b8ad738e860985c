import fc from 'fast-check';

const b64 = (value: string): string => Buffer.from(value).toString('base64url');

/** Header and claim values an attacker would try, mixed with arbitrary JSON. */
function jwtShaped(opts: { readonly issuers: readonly string[]; readonly kids: readonly string[] }): fc.Arbitrary<string> {
  const weird = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 }));
  const header = fc.oneof(
    fc.record(
      {
        alg: fc.oneof(fc.constantFrom('none', 'None', 'HS256', 'HS512', 'EdDSA', 'Ed25519', 'ES256', 'RS256', 'PS256', 'dir'), weird),
        kid: fc.oneof(fc.constantFrom(...opts.kids), weird),
        typ: fc.oneof(fc.constantFrom('JWT', 'at+jwt', 'application/at+jwt', 'dpop+jwt'), weird),
        crit: fc.oneof(fc.constant(['exp']), weird),
        b64: fc.oneof(fc.boolean(), weird),
        jwk: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    ),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const payload = fc.oneof(
    fc.record(
      {
        iss: fc.oneof(fc.constantFrom(...opts.issuers), weird),
        aud: fc.oneof(fc.constantFrom('stint', 'orders-db'), weird),
        sub: fc.oneof(fc.constantFrom('workload:x', 'human:a'), weird),
        exp: fc.oneof(fc.integer(), weird),
        nbf: fc.oneof(fc.integer(), weird),
        iat: fc.oneof(fc.integer(), weird),
        repository: weird,
        stint_type: weird,
        stint_attrs: weird,
        act: weird,
        cnf: weird,
      },
      { requiredKeys: [] },
    ),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const segment = (json: fc.Arbitrary<unknown>) => fc.oneof(json.map((v) => b64(JSON.stringify(v) ?? 'undefined')), fc.string(), fc.base64String());
  return fc
    .tuple(segment(header), segment(payload), fc.oneof(fc.constant(''), fc.base64String(), fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString('base64url'))), fc.constantFrom('', '.', '..x'))
    .map(([h, p, s, tail]) => `${h}.${p}.${s}${tail}`);
}

/** A real token with one character of its header or payload changed (never a valid token). */
function mutated(token: string): fc.Arbitrary<string> {
  const signed = token.lastIndexOf('.');
  return fc.tuple(fc.nat({ max: signed - 1 }), fc.string({ minLength: 1, maxLength: 1 })).map(([i, c]) => {
    const replacement = token[i] === c ? (c === 'A' ? 'B' : 'A') : c;
    return `${token.slice(0, i)}${replacement}${token.slice(i + 1)}`;
  });
}

/** Random strings, JWT-shaped garbage and near-miss mutations of real tokens. */
export function tokenGarbage(opts: { readonly issuers: readonly string[]; readonly kids: readonly string[]; readonly realTokens: readonly string[] }): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    jwtShaped(opts),
    ...opts.realTokens.map(mutated),
  );
}

/**
 * The Cedar schema policies are validated against (strict mode, at load) and requests are
 * checked against (`validateRequest`). One action per configured role name; the entity model
 * and every context field are described in docs/policies.md, which shows this exact text.
 */

/** Namespace of every Stint entity type and action. */
export const CEDAR_NAMESPACE = 'Stint';

/** Fully qualified Cedar entity type names used in requests. */
export const CEDAR_TYPES = {
  group: `${CEDAR_NAMESPACE}::Group`,
  workload: `${CEDAR_NAMESPACE}::Workload`,
  human: `${CEDAR_NAMESPACE}::Human`,
  target: `${CEDAR_NAMESPACE}::Target`,
  action: `${CEDAR_NAMESPACE}::Action`,
} as const;

/**
 * Quotes `value` as a Cedar string literal. Cedar accepts `\"`, `\\` and `\u{...}` escapes
 * (Rust-style, not JSON's `\uXXXX`), so JSON.stringify would not do.
 */
export function cedarStringLiteral(value: string): string {
  let out = '"';
  for (const ch of value) {
    const codePoint = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (codePoint < 0x20 || codePoint === 0x7f) out += `\\u{${codePoint.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * The Cedar schema (human-readable schema syntax) for the given role names: the union of the
 * roles of all configured targets. Duplicates are ignored; actions are listed sorted so the
 * text is stable.
 */
export function cedarSchemaText(roleNames: readonly string[]): string {
  const actions = [...new Set(roleNames)].sort().map(cedarStringLiteral);
  const lines = [
    `namespace ${CEDAR_NAMESPACE} {`,
    '  entity Group;',
    '  entity Workload in [Group] {',
    '    name: String, kind: String, tenant: String, env: String, team: String, issuer: String',
    '  } tags String;',
    '  entity Human in [Group] { name: String, tenant: String, issuer: String } tags String;',
    '  entity Target { name: String, env: String, tenant: String } tags String;',
    '  type RequestContext = {',
    '    ttl: __cedar::duration,',
    '    ttlSeconds: Long,',
    '    maxTtlSeconds: Long,',
    '    riskTier: String,',
    '    task: String,',
    '    reason: String,',
    '    ticket?: String,',
    '    approved: Bool,',
    '    breakGlass: Bool,',
    '    isExtension: Bool,',
    '    businessHours: Bool,',
    '    now: __cedar::datetime,',
    '    delegated: Bool,',
    '    dpop: Bool,',
    '    actorChain: Set<String>,',
    '  };',
  ];
  if (actions.length > 0) {
    lines.push(
      `  action ${actions.join(', ')}`,
      '    appliesTo { principal: [Workload, Human], resource: [Target], context: RequestContext };',
    );
  }
  lines.push('}', '');
  return lines.join('\n');
}

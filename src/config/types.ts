/**
 * The validated, resolved, frozen configuration. Produced only by `loadConfig` (load.ts)
 * from one YAML file checked against one JSON schema (schema.ts); unknown keys are rejected.
 * Durations are already in seconds; secret references (`env:NAME`, `file:path`) are resolved
 * into `Secret` values that never print their contents.
 */

/** A resolved secret. `toString`/`toJSON`/inspect print `[secret <source>]`; read it with `reveal()`. */
export interface Secret {
  reveal(): string;
  /** Where it came from (`env:DATABASE_URL`), safe to print. */
  readonly source: string;
}

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Base URL clients use; the `iss` of access tokens. */
  readonly publicUrl: string;
  /** Max request body in bytes. */
  readonly bodyLimit: number;
}

export interface StoreConfig {
  readonly kind: 'pglite' | 'postgres';
  /** PGlite data directory (absolute). */
  readonly dataDir: string;
  /** PostgreSQL connection string (from DATABASE_URL or config). */
  readonly url?: Secret;
}

/** How claims of a verified identity token become a principal. */
export interface ClaimMapping {
  /** `workload` or `human`, fixed or taken from a claim via `typeClaim`. */
  readonly type: 'workload' | 'human';
  /** Workload kind (service | ci | agent); ignored for humans. */
  readonly kind?: 'service' | 'ci' | 'agent';
  /** Claim whose value is the principal name (default `sub`). Dotted paths allowed. */
  readonly nameClaim: string;
  /** Policy attribute name -> claim path (e.g. `env: environment`). */
  readonly attributes: Readonly<Record<string, string>>;
  /** Claims that must have exactly these values, or the token is refused. */
  readonly require: Readonly<Record<string, string>>;
  readonly tenant: string;
}

export interface IssuerConfig {
  readonly name: string;
  /** Exact `iss` value. */
  readonly issuer: string;
  readonly jwksUrl?: string;
  /** Absolute path of a local JWKS file. */
  readonly jwksFile?: string;
  /** Accepted `aud` values (at least one). */
  readonly audiences: readonly string[];
  /** Allowed JWS algorithms (asymmetric only: RS*, PS*, ES*, EdDSA). */
  readonly algorithms: readonly string[];
  /** Clock skew leeway in seconds for exp/nbf/iat. */
  readonly leewaySeconds: number;
  readonly principal: ClaimMapping;
}

export interface DevConfig {
  /** Enables the built-in development issuer (loudly logged). */
  readonly enabled: boolean;
  /** Where the dev issuer's private key lives (absolute; created on first start). */
  readonly keyFile: string;
  /** The dev issuer's `iss`. */
  readonly issuer: string;
  /** Audience of dev identity tokens. */
  readonly audience: string;
  /** Attributes of known dev principals, keyed by principal id (`workload:deploy-bot`). */
  readonly principals: Readonly<Record<string, { readonly kind?: 'service' | 'ci' | 'agent'; readonly attributes: Readonly<Record<string, string>>; readonly tenant: string }>>;
}

export interface RoleConfig {
  readonly name: string;
  readonly maxTtlSeconds: number;
  /** Distinct human approvals needed when policy routes the request to humans (>= 1). */
  readonly approvals: number;
  /** Exposed to policy as `context.riskTier`. */
  readonly riskTier: 'low' | 'medium' | 'high' | 'critical';
  /** Connector-specific: what this role confers on the target (PostgreSQL roles, Redis ACL rules). */
  readonly grants: Readonly<Record<string, unknown>>;
}

export interface TargetConfig {
  readonly name: string;
  /** Connector kind: `token` (built in), later `postgres`, `redis`. */
  readonly connector: string;
  /** Connector-specific connection settings; string values may be secret references. */
  readonly connection: Readonly<Record<string, unknown>>;
  readonly env: string;
  readonly tenant: string;
  /** Who may approve, revoke and review: `group:<name>` or `human:<id>` entries. */
  readonly owners: readonly string[];
  /** Free-form attributes, visible to policy as Cedar tags (`resource.getTag("tier")`). */
  readonly attributes: Readonly<Record<string, string>>;
  readonly roles: Readonly<Record<string, RoleConfig>>;
  /** Break-glass TTL cap for this target (seconds). */
  readonly breakGlassMaxTtlSeconds: number;
  /** Only DPoP-bound (RFC 9449) tokens are granted on this target. */
  readonly requireDpop: boolean;
}

export interface ApproverConfig {
  /** group name -> member principal ids (`human:alice`). */
  readonly groups: Readonly<Record<string, readonly string[]>>;
  /** Humans who may revoke/review anything in their tenant. */
  readonly admins: readonly string[];
  /** Humans who may read the audit log. Admins may too. */
  readonly auditors: readonly string[];
}

export interface GrantsConfig {
  /** How long a request may wait for a human decision (default 1 h). */
  readonly pendingTimeoutSeconds: number;
  /** Global break-glass TTL cap. */
  readonly breakGlassMaxTtlSeconds: number;
  /** Business hours for `context.businessHours` (IANA zone, weekdays 1=Mon..7=Sun, hours). */
  readonly businessHours: { readonly timeZone: string; readonly days: readonly number[]; readonly startHour: number; readonly endHour: number };
  /** Revocation retry backoff: first delay and cap, seconds. Retries never stop. */
  readonly revokeRetry: { readonly initialSeconds: number; readonly maxSeconds: number };
}

export interface AuditConfig {
  /** C2SP note origin line, e.g. `stint.example/audit`. */
  readonly origin: string;
  /** Ed25519 signing key file for checkpoints (absolute; created on first start in dev). */
  readonly keyFile: string;
  /** Periodic checkpoint (and idle heartbeat) interval in seconds. */
  readonly checkpointIntervalSeconds: number;
  /** Where the latest checkpoint is also written, outside the database (absolute). */
  readonly checkpointFile: string;
}

export interface TokensConfig {
  readonly algorithm: 'EdDSA' | 'ES256';
  /** JWK set file with the signing keys (absolute; created on first start). */
  readonly keysFile: string;
}

export interface CredentialsConfig {
  /**
   * AES-256-GCM key (absolute path; created on first start) sealing issued target credentials
   * in the store, so the post-revocation proof can try the real credential (issue #3). The
   * sealed copy is wiped once the proof passed; the plaintext is never stored.
   */
  readonly sealKeyFile: string;
}

export interface StintConfig {
  /** Absolute path of the file this came from. */
  readonly source: string;
  readonly server: ServerConfig;
  readonly store: StoreConfig;
  readonly dev: DevConfig;
  readonly issuers: readonly IssuerConfig[];
  readonly approvers: ApproverConfig;
  readonly targets: Readonly<Record<string, TargetConfig>>;
  /** `optional` targets left out because their connection secrets could not be resolved. */
  readonly skippedTargets: readonly { readonly name: string; readonly reason: string }[];
  /** Absolute policy directory (*.cedar files). */
  readonly policyDir: string;
  readonly grants: GrantsConfig;
  readonly audit: AuditConfig;
  readonly tokens: TokensConfig;
  readonly credentials: CredentialsConfig;
  readonly log: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
}

/**
 * The one JSON schema (draft-07) every `stint.yaml` is checked against. Every object that has
 * a fixed shape sets `additionalProperties: false`, so a misspelt key is an error rather than
 * a silently ignored setting. Static defaults live here (`default`, applied by Ajv's
 * `useDefaults`); defaults derived from other keys (publicUrl, dev.issuer, audit.origin,
 * store.kind, a target's breakGlassMaxTtl) are filled in by build.ts.
 *
 * Custom formats (`duration`, `http-url`, `jwks-url`, `host`, `time-zone`, `principal-id`,
 * `human-id`, `owner-ref`) are defined in formats.ts; docs/configuration.md describes them.
 */
import { MAX_DURATION_SECONDS } from '../core/duration.js';
import { deepFreeze } from './plain-data.js';
import { SECRET_REF_PATTERN } from './secret.js';

/** JWS algorithms an issuer may allow: asymmetric only; never HS* (shared key) or `none`. */
export const ALLOWED_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA',
] as const;

/** Connector kinds a target may name. */
export const CONNECTOR_KINDS = ['token', 'postgres', 'redis'] as const;

/** Name patterns, shared with the error messages in validate.ts. */
export const NAME_PATTERNS = {
  target: '^[a-z0-9][a-z0-9-]{0,62}$',
  role: '^[a-z][a-z0-9_-]{0,62}$',
  /** Approver groups, issuer names and tenants. */
  identifier: '^[a-z0-9][a-z0-9_-]{0,62}$',
  /** Policy attribute names: Cedar identifiers. */
  attribute: '^[A-Za-z_][A-Za-z0-9_]{0,62}$',
  /** A claim name, or a dotted path into nested claims (`realm.role`). */
  claimPath: '^[^.\\s]+(?:\\.[^.\\s]+)*$',
  /** A C2SP checkpoint origin line: no whitespace. */
  origin: '^\\S+$',
  secretRef: SECRET_REF_PATTERN,
} as const;

/** A duration: `90s`, `15m`, `1h30m`, `2d`, or whole seconds. */
function duration(description: string, defaultValue?: string): Record<string, unknown> {
  return {
    type: ['string', 'integer'],
    format: 'duration',
    minimum: 1,
    maximum: MAX_DURATION_SECONDS,
    description,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  };
}

function path(description: string, defaultValue?: string): Record<string, unknown> {
  return {
    type: 'string',
    minLength: 1,
    description: `${description} Relative paths resolve against the config file's folder.`,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  };
}

function stringMap(keyPattern: string, valueSchema: Record<string, unknown>, description: string): Record<string, unknown> {
  return {
    type: 'object',
    propertyNames: { pattern: keyPattern },
    additionalProperties: { type: 'string', ...valueSchema },
    default: {},
    description,
  };
}

const tenant = {
  type: 'string',
  pattern: NAME_PATTERNS.identifier,
  default: 'default',
  description: 'Tenant; grants never cross tenants.',
};
const workloadKind = { enum: ['service', 'ci', 'agent'], description: 'Workload kind (workloads only).' };
const humanList = (description: string): Record<string, unknown> => ({
  type: 'array',
  uniqueItems: true,
  items: { type: 'string', format: 'human-id' },
  default: [],
  description,
});

const server = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    host: { type: 'string', format: 'host', default: '127.0.0.1', description: 'Address to listen on.' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: 'TCP port (env STINT_PORT overrides).' },
    publicUrl: { type: 'string', format: 'http-url', description: 'Base URL clients use; the `iss` of access tokens. Default http://<host>:<port>.' },
    bodyLimit: { type: 'integer', minimum: 1024, maximum: 16 * 1024 * 1024, default: 65536, description: 'Max request body in bytes.' },
  },
};

const store = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    kind: { enum: ['pglite', 'postgres'], description: 'Default: postgres when a URL is configured (or DATABASE_URL is set), else pglite.' },
    dataDir: path('PGlite data directory.', './.stint/data'),
    url: { type: 'string', pattern: NAME_PATTERNS.secretRef, description: 'PostgreSQL connection string as a secret reference; env DATABASE_URL overrides.' },
  },
};

const dev = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    enabled: { type: 'boolean', default: false, description: 'Enables the built-in development issuer.' },
    keyFile: path("The dev issuer's private key (created on first start).", './.stint/dev-issuer-key.json'),
    issuer: { type: 'string', minLength: 1, description: "The dev issuer's `iss`. Default <publicUrl>/dev." },
    audience: { type: 'string', minLength: 1, default: 'stint', description: 'Audience of dev identity tokens.' },
    principals: {
      type: 'object',
      propertyNames: { format: 'principal-id' },
      default: {},
      description: 'Known dev principals by principal id.',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          kind: workloadKind,
          attributes: stringMap(NAME_PATTERNS.attribute, {}, 'Policy attributes.'),
          tenant,
        },
      },
    },
  },
};

const claimMapping = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { enum: ['workload', 'human'], description: 'Principal type of every token from this issuer.' },
    kind: workloadKind,
    nameClaim: { type: 'string', pattern: NAME_PATTERNS.claimPath, default: 'sub', description: 'Claim holding the principal name.' },
    attributes: stringMap(NAME_PATTERNS.attribute, { pattern: NAME_PATTERNS.claimPath }, 'Policy attribute -> claim path.'),
    require: {
      type: 'object',
      propertyNames: { pattern: NAME_PATTERNS.claimPath },
      additionalProperties: { type: 'string' },
      default: {},
      description: 'Claim path -> exact required value.',
    },
    tenant,
  },
};

const issuer = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'issuer', 'audiences', 'principal'],
  // Exactly one key source (RFC 7517 JWK Set, fetched or local).
  oneOf: [
    { properties: { jwksUrl: true }, required: ['jwksUrl'] },
    { properties: { jwksFile: true }, required: ['jwksFile'] },
  ],
  properties: {
    name: { type: 'string', pattern: NAME_PATTERNS.identifier, description: 'Unique name.' },
    issuer: { type: 'string', minLength: 1, description: 'Exact `iss` value.' },
    jwksUrl: { type: 'string', format: 'jwks-url', description: 'JWK Set URL (https; http only for localhost).' },
    jwksFile: path('Local JWK Set file.'),
    audiences: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', minLength: 1 },
      description: 'Accepted `aud` values.',
    },
    algorithms: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { enum: [...ALLOWED_ALGORITHMS] },
      default: ['RS256', 'ES256', 'EdDSA'],
      description: 'Allowed JWS algorithms (asymmetric only).',
    },
    leeway: duration('Clock skew allowed on exp/nbf/iat (at most 5m).', '30s'),
    principal: claimMapping,
  },
};

const approvers = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    groups: {
      type: 'object',
      propertyNames: { pattern: NAME_PATTERNS.identifier },
      additionalProperties: humanList('Members.'),
      default: {},
      description: 'Group name -> human members.',
    },
    admins: humanList('Humans who may revoke and review anything.'),
    auditors: humanList('Humans who may read the audit log.'),
  },
};

const role = {
  type: 'object',
  additionalProperties: false,
  required: ['maxTtl'],
  properties: {
    maxTtl: duration('Longest grant of this role.'),
    approvals: { type: 'integer', minimum: 1, maximum: 10, default: 1, description: 'Distinct human approvals needed when policy routes to humans.' },
    riskTier: { enum: ['low', 'medium', 'high', 'critical'], default: 'medium', description: 'Exposed to policy as context.riskTier.' },
    grants: { type: 'object', default: {}, description: 'Connector-specific: what this role confers.' },
  },
};

const target = {
  type: 'object',
  additionalProperties: false,
  required: ['connector', 'env', 'owners', 'roles'],
  properties: {
    connector: { enum: [...CONNECTOR_KINDS], description: 'Connector kind.' },
    optional: {
      type: 'boolean',
      default: false,
      description: 'Start without this target (with a warning) when its connection secrets cannot be resolved.',
    },
    connection: { type: 'object', default: {}, description: 'Connector settings; string values may be secret references.' },
    env: { type: 'string', minLength: 1, description: 'Environment (prod, staging, ...), visible to policy.' },
    tenant,
    owners: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', format: 'owner-ref' },
      description: 'group:<name> or human:<name> entries who approve, revoke and review.',
    },
    attributes: stringMap(NAME_PATTERNS.attribute, {}, 'Free-form attributes visible to policy.'),
    breakGlassMaxTtl: duration('Break-glass TTL cap. Default grants.breakGlassMaxTtl.'),
    requireDpop: { type: 'boolean', default: false, description: 'Grant only DPoP-bound tokens (RFC 9449) on this target.' },
    roles: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: NAME_PATTERNS.role },
      additionalProperties: role,
      description: 'Role name -> role.',
    },
  },
};

const grants = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    pendingTimeout: duration('How long a request may wait for a human decision.', '1h'),
    breakGlassMaxTtl: duration('Global break-glass TTL cap.', '30m'),
    businessHours: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        timeZone: { type: 'string', format: 'time-zone', default: 'UTC', description: 'IANA time zone.' },
        days: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { type: 'integer', minimum: 1, maximum: 7 },
          default: [1, 2, 3, 4, 5],
          description: 'Weekdays, 1 = Monday .. 7 = Sunday.',
        },
        start: { type: 'integer', minimum: 0, maximum: 23, default: 9, description: 'First hour inside business hours.' },
        end: { type: 'integer', minimum: 1, maximum: 24, default: 17, description: 'Hour business hours end (exclusive).' },
      },
    },
    revokeRetry: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        initial: duration('First retry delay.', '1s'),
        max: duration('Largest retry delay (retries never stop).', '30s'),
      },
    },
  },
};

const audit = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    origin: { type: 'string', pattern: NAME_PATTERNS.origin, description: 'Checkpoint origin line. Default <host of publicUrl>/stint/audit.' },
    keyFile: path('Ed25519 checkpoint signing key.', './.stint/audit-key.pem'),
    checkpointInterval: duration('Checkpoint (and idle heartbeat) interval.', '60s'),
    checkpointFile: path('Latest checkpoint, kept outside the database.', './.stint/checkpoint.txt'),
  },
};

const tokens = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    algorithm: { enum: ['EdDSA', 'ES256'], default: 'EdDSA', description: 'Access token signing algorithm.' },
    keysFile: path('Signing keys (JWK Set; created on first start).', './.stint/token-keys.json'),
  },
};

const credentials = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    sealKeyFile: path('AES-256 key sealing issued target credentials for the revocation proof (created on first start).', './.stint/credential-seal.key'),
  },
};

const log = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', description: 'Log level.' },
  },
};

/** The JSON schema of `stint.yaml` (draft-07 plus the custom formats of formats.ts). Frozen. */
export const configJsonSchema: Readonly<Record<string, unknown>> = deepFreeze({
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Stint configuration (stint.yaml)',
  type: 'object',
  additionalProperties: false,
  required: ['policies'],
  properties: {
    server,
    store,
    dev,
    issuers: { type: 'array', items: issuer, default: [], description: 'Trusted identity token issuers.' },
    approvers,
    targets: {
      type: 'object',
      propertyNames: { pattern: NAME_PATTERNS.target },
      additionalProperties: target,
      default: {},
      description: 'Target name -> target.',
    },
    policies: {
      type: 'object',
      additionalProperties: false,
      required: ['dir'],
      properties: { dir: path('Directory of *.cedar policy files; must exist.') },
    },
    grants,
    audit,
    tokens,
    credentials,
    log,
  },
});

type Duration = string | number;
type StringMap = Record<string, string>;

/**
 * The parsed file after schema validation and static defaults: what build.ts turns into a
 * `StintConfig`. Optional members are the ones without a static default.
 */
export interface RawConfig {
  server: { host: string; port: number; publicUrl?: string; bodyLimit: number };
  store: { kind?: 'pglite' | 'postgres'; dataDir: string; url?: string };
  dev: {
    enabled: boolean;
    keyFile: string;
    issuer?: string;
    audience: string;
    principals: Record<string, { kind?: 'service' | 'ci' | 'agent'; attributes: StringMap; tenant: string }>;
  };
  issuers: RawIssuer[];
  approvers: { groups: Record<string, string[]>; admins: string[]; auditors: string[] };
  targets: Record<string, RawTarget>;
  policies: { dir: string };
  grants: {
    pendingTimeout: Duration;
    breakGlassMaxTtl: Duration;
    businessHours: { timeZone: string; days: number[]; start: number; end: number };
    revokeRetry: { initial: Duration; max: Duration };
  };
  audit: { origin?: string; keyFile: string; checkpointInterval: Duration; checkpointFile: string };
  tokens: { algorithm: 'EdDSA' | 'ES256'; keysFile: string };
  credentials: { sealKeyFile: string };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
}

/** One `issuers[]` entry after validation. */
export interface RawIssuer {
  name: string;
  issuer: string;
  jwksUrl?: string;
  jwksFile?: string;
  audiences: string[];
  algorithms: string[];
  leeway: Duration;
  principal: {
    type: 'workload' | 'human';
    kind?: 'service' | 'ci' | 'agent';
    nameClaim: string;
    attributes: StringMap;
    require: StringMap;
    tenant: string;
  };
}

/** One `targets.<name>` entry after validation. */
export interface RawTarget {
  connector: string;
  optional: boolean;
  connection: Record<string, unknown>;
  env: string;
  tenant: string;
  owners: string[];
  attributes: StringMap;
  breakGlassMaxTtl?: Duration;
  requireDpop: boolean;
  roles: Record<string, { maxTtl: Duration; approvals: number; riskTier: 'low' | 'medium' | 'high' | 'critical'; grants: Record<string, unknown> }>;
}

/**
 * Turns a schema-valid file into a `StintConfig`: paths made absolute against the config
 * file's folder, durations converted to seconds, secret references resolved, derived defaults
 * filled in and the environment overrides applied (`DATABASE_URL`, `STINT_PORT`; precedence in
 * docs/configuration.md).
 */
import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { parseDuration } from '../core/duration.js';
import { isStintError } from '../core/errors.js';
import { copyFreeForm, mapRecord } from './plain-data.js';
import type { ConfigProblem, KeySegment } from './problems.js';
import type { RawConfig, RawIssuer, RawTarget } from './schema.js';
import { isSecretRef, makeSecret, resolveSecretRef } from './secret.js';
import type { IssuerConfig, Secret, ServerConfig, StintConfig, StoreConfig, TargetConfig } from './types.js';

/** Everything a build step needs besides the raw section it converts. */
interface BuildContext {
  readonly baseDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly problems: ConfigProblem[];
}

/**
 * Builds the config. `problems` collects what could not be resolved (missing secrets, missing
 * directories, bad overrides); when it is non-empty the returned config must not be used.
 */
export function buildConfig(raw: RawConfig, sourcePath: string, env: NodeJS.ProcessEnv): { config: StintConfig; problems: ConfigProblem[] } {
  const ctx: BuildContext = { baseDir: dirname(sourcePath), env, problems: [] };
  const server = buildServer(raw, ctx);
  const config: StintConfig = {
    source: sourcePath,
    server,
    store: buildStore(raw, ctx),
    dev: {
      enabled: raw.dev.enabled,
      keyFile: resolve(ctx.baseDir, raw.dev.keyFile),
      issuer: raw.dev.issuer ?? `${server.publicUrl}/dev`,
      audience: raw.dev.audience,
      principals: mapRecord(raw.dev.principals, (p) => ({
        ...(p.kind === undefined ? {} : { kind: p.kind }),
        attributes: mapRecord(p.attributes, (v) => v),
        tenant: p.tenant,
      })),
    },
    issuers: raw.issuers.map((issuer, i) => buildIssuer(issuer, i, ctx)),
    approvers: {
      groups: mapRecord(raw.approvers.groups, (members) => [...members]),
      admins: [...raw.approvers.admins],
      auditors: [...raw.approvers.auditors],
    },
    ...buildTargets(raw, ctx),
    policyDir: existingPath(raw.policies.dir, ['policies', 'dir'], 'directory', ctx),
    grants: {
      pendingTimeoutSeconds: seconds(raw.grants.pendingTimeout),
      breakGlassMaxTtlSeconds: seconds(raw.grants.breakGlassMaxTtl),
      businessHours: {
        timeZone: raw.grants.businessHours.timeZone,
        days: [...raw.grants.businessHours.days],
        startHour: raw.grants.businessHours.start,
        endHour: raw.grants.businessHours.end,
      },
      revokeRetry: { initialSeconds: seconds(raw.grants.revokeRetry.initial), maxSeconds: seconds(raw.grants.revokeRetry.max) },
    },
    audit: {
      // C2SP signed-note origin: a schema-less URL naming this log.
      origin: raw.audit.origin ?? `${hostOf(server.publicUrl)}/stint/audit`,
      keyFile: resolve(ctx.baseDir, raw.audit.keyFile),
      checkpointIntervalSeconds: seconds(raw.audit.checkpointInterval),
      checkpointFile: resolve(ctx.baseDir, raw.audit.checkpointFile),
    },
    tokens: { algorithm: raw.tokens.algorithm, keysFile: resolve(ctx.baseDir, raw.tokens.keysFile) },
    credentials: { sealKeyFile: resolve(ctx.baseDir, raw.credentials.sealKeyFile) },
    log: { level: raw.log.level },
  };
  return { config, problems: ctx.problems };
}

/** Seconds of a duration the schema's `duration` format already accepted. */
function seconds(value: string | number): number {
  return parseDuration(value)!;
}

function hostOf(url: string): string {
  return new URL(url).host;
}

function buildServer(raw: RawConfig, ctx: BuildContext): ServerConfig {
  const { host, bodyLimit } = raw.server;
  let port = raw.server.port;
  const override = ctx.env.STINT_PORT;
  if (override !== undefined && override !== '') {
    if (/^\d{1,5}$/.test(override) && Number(override) <= 65535) port = Number(override);
    else ctx.problems.push({ path: ['server', 'port'], problem: 'environment variable STINT_PORT must be an integer from 0 to 65535' });
  }
  let publicUrl = raw.server.publicUrl;
  if (publicUrl === undefined) {
    publicUrl = `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
    if (!URL.canParse(publicUrl)) {
      ctx.problems.push({ path: ['server', 'host'], problem: 'cannot be used in a URL; set server.publicUrl' });
      publicUrl = `http://127.0.0.1:${port}`;
    }
  }
  return { host, port, publicUrl: publicUrl.replace(/\/+$/, ''), bodyLimit };
}

/** DATABASE_URL wins over store.url; an explicit `kind: pglite` ignores both. */
function buildStore(raw: RawConfig, ctx: BuildContext): StoreConfig {
  const dataDir = resolve(ctx.baseDir, raw.store.dataDir);
  const fromEnv = ctx.env.DATABASE_URL;
  const hasEnvUrl = fromEnv !== undefined && fromEnv !== '';
  const kind = raw.store.kind ?? (hasEnvUrl || raw.store.url !== undefined ? 'postgres' : 'pglite');
  if (kind === 'pglite') return { kind, dataDir };
  let url: Secret | undefined;
  if (hasEnvUrl) url = makeSecret(fromEnv, 'env:DATABASE_URL');
  else if (raw.store.url !== undefined) url = secret(raw.store.url, ['store', 'url'], ctx);
  else ctx.problems.push({ path: ['store', 'kind'], problem: 'is postgres but no connection string is set (store.url or DATABASE_URL)' });
  return url === undefined ? { kind, dataDir } : { kind, dataDir, url };
}

function buildIssuer(raw: RawIssuer, index: number, ctx: BuildContext): IssuerConfig {
  const p = raw.principal;
  return {
    name: raw.name,
    issuer: raw.issuer,
    ...(raw.jwksUrl === undefined ? {} : { jwksUrl: raw.jwksUrl }),
    ...(raw.jwksFile === undefined ? {} : { jwksFile: existingPath(raw.jwksFile, ['issuers', index, 'jwksFile'], 'file', ctx) }),
    audiences: [...raw.audiences],
    algorithms: [...raw.algorithms],
    leewaySeconds: seconds(raw.leeway),
    principal: {
      type: p.type,
      ...(p.kind === undefined ? {} : { kind: p.kind }),
      nameClaim: p.nameClaim,
      attributes: mapRecord(p.attributes, (v) => v),
      require: mapRecord(p.require, (v) => v),
      tenant: p.tenant,
    },
  };
}

/**
 * Targets, leaving out `optional` ones whose connection secrets cannot be resolved (e.g. the
 * example's PostgreSQL target when no PostgreSQL was set up); those are listed in
 * `skippedTargets` so the broker can say so at start.
 */
function buildTargets(raw: RawConfig, ctx: BuildContext): { targets: Record<string, TargetConfig>; skippedTargets: { name: string; reason: string }[] } {
  const targets: Record<string, TargetConfig> = Object.create(null) as Record<string, TargetConfig>;
  const skippedTargets: { name: string; reason: string }[] = [];
  for (const [name, target] of Object.entries(raw.targets)) {
    const own: ConfigProblem[] = [];
    const built = buildTarget(target, name, raw, { ...ctx, problems: own });
    if (own.length > 0 && target.optional === true) {
      skippedTargets.push({ name, reason: own.map((p) => p.problem).join('; ') });
      continue;
    }
    ctx.problems.push(...own);
    targets[name] = built;
  }
  return { targets, skippedTargets };
}

function buildTarget(raw: RawTarget, name: string, rawConfig: RawConfig, ctx: BuildContext): TargetConfig {
  const path = ['targets', name];
  const resolveRefs = (text: string, at: readonly KeySegment[]): unknown => (isSecretRef(text) ? secret(text, at, ctx) : text);
  return {
    name,
    connector: raw.connector,
    connection: copyFreeForm(raw.connection, [...path, 'connection'], ctx.problems, resolveRefs) as Record<string, unknown>,
    env: raw.env,
    tenant: raw.tenant,
    owners: [...raw.owners],
    attributes: mapRecord(raw.attributes, (v) => v),
    roles: mapRecord(raw.roles, (role, roleName) => ({
      name: roleName,
      maxTtlSeconds: seconds(role.maxTtl),
      approvals: role.approvals,
      riskTier: role.riskTier,
      grants: copyFreeForm(role.grants, [...path, 'roles', roleName, 'grants'], ctx.problems) as Record<string, unknown>,
    })),
    breakGlassMaxTtlSeconds: seconds(raw.breakGlassMaxTtl ?? rawConfig.grants.breakGlassMaxTtl),
    requireDpop: raw.requireDpop,
  };
}

function secret(ref: string, path: readonly KeySegment[], ctx: BuildContext): Secret | undefined {
  try {
    return resolveSecretRef(ref, ctx.baseDir, ctx.env);
  } catch (e) {
    if (!isStintError(e)) throw e;
    ctx.problems.push({ path, problem: e.detail });
    return undefined;
  }
}

/** Absolute form of `path`, which must already exist as a `kind` (reported otherwise). */
function existingPath(path: string, at: readonly KeySegment[], kind: 'file' | 'directory', ctx: BuildContext): string {
  const absolute = resolve(ctx.baseDir, path);
  let stats;
  try {
    stats = statSync(absolute, { throwIfNoEntry: false });
  } catch (e) {
    ctx.problems.push({ path: at, problem: `${kind} ${absolute} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})` });
    return absolute;
  }
  if (stats === undefined) ctx.problems.push({ path: at, problem: `${kind} ${absolute} does not exist` });
  else if (kind === 'directory' ? !stats.isDirectory() : !stats.isFile()) ctx.problems.push({ path: at, problem: `${absolute} is not a ${kind}` });
  return absolute;
}

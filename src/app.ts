/**
 * The composition root: the only place that picks adapters for the ports and wires the
 * services and the HTTP interface together. Nothing else imports both a port's user and its
 * adapter.
 */
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from './config/index.js';
import { StintError } from './core/errors.js';
import type { StintConfig } from './config/types.js';
import { openStore } from './adapters/store-sql/index.js';
import { loadCedarPolicies } from './adapters/policy-cedar/index.js';
import { createIdentityVerifier, devPublicJwks, loadOrCreateDevIssuerKey } from './adapters/identity-jwt/index.js';
import { issueAccessToken, loadOrCreateTokenKeys, verifyAccessToken, type TokenKeyRing } from './adapters/tokens-jose/index.js';
import { createTokenConnector } from './adapters/connector-token/index.js';
import { createPostgresConnector } from './adapters/connector-postgres/index.js';
import { createRedisConnector } from './adapters/connector-redis/index.js';
import { createAesGcmSealer, loadOrCreateSealKey } from './adapters/sealer-aesgcm/index.js';
import { createCheckpointSigner, loadOrCreateAuditKey } from './audit/signed-note.js';
import { systemClock, type Clock } from './ports/clock.js';
import type { Connector, ConnectorRegistry } from './ports/connector.js';
import type { AccessTokens } from './ports/tokens.js';
import type { Store } from './ports/store.js';
import { EventBus, timeSortableId, type Logger, type ServiceDeps } from './service/context.js';
import { GrantInsertBatcher } from './service/grant-batcher.js';
import { createMetrics } from './service/metrics.js';
import { CredentialService } from './service/credential-service.js';
import { GrantService } from './service/grant-service.js';
import { ExpiryWorker } from './service/worker.js';
import { AuditService } from './service/audit-service.js';
import { IntrospectionService } from './service/introspection.js';
import { TargetService } from './service/target-service.js';
import { OAuthError, TokenExchangeService } from './service/token-exchange.js';
import { dpopErrorOf, oauthErrorForDpop, storeReplayGuard, verifyDpopProof } from './adapters/dpop/index.js';
import { buildHttpServer } from './http/server.js';

export interface BrokerOptions {
  readonly configPath: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Injectable clock (tests). Default: the system clock. */
  readonly clock?: Clock;
  /** Run the expiry worker on a timer (default true). Tests drive `worker.runOnce()` instead. */
  readonly startWorker?: boolean;
  /** Overrides config `log.level`. */
  readonly logLevel?: string;
  readonly host?: string;
  /** Overrides config `server.port` (0 = any free port). */
  readonly port?: number;
  /**
   * Reuse policy answers for requests Cedar cannot tell apart (default true; decision-memo.ts).
   * Off only to measure or test Cedar answering every request.
   */
  readonly policyDecisionMemo?: boolean;
}

export interface Broker {
  /** Base URL the server listens on. */
  readonly url: string;
  readonly config: StintConfig;
  readonly clock: Clock;
  readonly store: Store;
  readonly worker: ExpiryWorker;
  readonly grants: GrantService;
  readonly audit: AuditService;
  readonly targets: TargetService;
  readonly http: FastifyInstance;
  readonly bus: EventBus;
  close(): Promise<void>;
}

/** Adapts the jose token key ring to the AccessTokens port. */
function accessTokens(ring: TokenKeyRing, issuer: string): AccessTokens {
  return {
    issue: (grant, now, cnfJkt) => issueAccessToken(ring, { issuer, grant, now, ...(cnfJkt !== undefined ? { cnfJkt } : {}) }),
    verify: (token, now) => verifyAccessToken(ring, token, { issuer, now }),
    jwks: () => ring.publicJwks() as { keys: object[] },
  };
}

/** Starts a broker: loads and checks everything first, catches up on due work, then listens. */
export async function startBroker(opts: BrokerOptions): Promise<Broker> {
  const config = await loadConfig(opts.configPath, opts.env ?? process.env);
  const clock = opts.clock ?? systemClock;
  const log: Logger & pino.Logger = pino({
    level: opts.logLevel ?? config.log.level,
    base: { service: 'stint' },
    // Belt and braces: these fields never carry secrets by design; redact them if one slips in.
    redact: ['*.password', '*.token', '*.accessToken', '*.authorization', '*.url'],
  });
  if (config.dev.enabled) {
    log.warn(
      { issuer: config.dev.issuer },
      'DEV MODE: the built-in development identity issuer is ON. Anyone with its key file can mint identities. Never run this in production.',
    );
  }

  // Independent start-up work runs together: PGlite's WASM start overlaps policy validation,
  // key loading and file I/O (restart time is a goal: docs/benchmarks.md).
  const roleNames = [...new Set(Object.values(config.targets).flatMap((t) => Object.keys(t.roles)))];
  const opening = config.store.kind === 'postgres'
    ? openStore({ kind: 'postgres', url: config.store.url!.reveal() })
    : openStore({ kind: 'pglite', dataDir: config.store.dataDir });
  const loading = Promise.all([
    loadCedarPolicies({ dir: config.policyDir, roleNames, ...(opts.policyDecisionMemo === false ? { memo: false } : {}) }),
    loadOrCreateTokenKeys(config.tokens.keysFile, config.tokens.algorithm),
    loadOrCreateAuditKey(config.audit.keyFile),
    loadOrCreateSealKey(config.credentials.sealKeyFile),
    config.dev.enabled ? loadOrCreateDevIssuerKey(config.dev.keyFile) : Promise.resolve(undefined),
  ]);
  const [opened, loaded] = await Promise.allSettled([opening, loading]);
  if (loaded.status === 'rejected') {
    if (opened.status === 'fulfilled') await opened.value.close();
    throw loaded.reason;
  }
  if (opened.status === 'rejected') throw opened.reason;
  const store = opened.value;
  const [policy, ring, auditKey, sealKey, devKey] = loaded.value;
  const sealer = createAesGcmSealer(sealKey);

  const closers: (() => Promise<void>)[] = [];
  try {
    // Remembers verified tokens (a workload presents one token for many calls), re-checking
    // time claims and the issuer's key on every call: src/adapters/identity-jwt/verified-tokens.ts.
    const identity = createIdentityVerifier({
      issuers: config.issuers,
      ...(devKey ? { dev: { config: config.dev, publicJwks: devPublicJwks(devKey) } } : {}),
      clock,
    });
    const tokens = accessTokens(ring, config.server.publicUrl);
    const bus = new EventBus();
    const memo = policy.memo;
    const metrics = createMetrics(() => store.countByStatus(), memo === undefined ? {} : { policyMemoCounts: () => memo.counts });
    const connectorList: Connector[] = [createTokenConnector({ readGrant: (id) => store.getGrant(id), clock }), createPostgresConnector({ clock }), createRedisConnector({ clock })];
    const connectors: ConnectorRegistry = { get: (kind) => connectorList.find((c) => c.kind === kind) };
    closers.push(async () => {
      for (const c of connectorList) await c.close?.();
    });
    for (const target of Object.values(config.targets)) {
      const connector = connectors.get(target.connector);
      if (!connector) throw new StintError('config_invalid', `${config.source}: targets.${target.name}.connector: no "${target.connector}" connector in this build`);
      connector.validateTarget?.(target, Object.fromEntries(Object.values(target.roles).map((r) => [r.name, r.grants])));
    }
    for (const skipped of config.skippedTargets) {
      log.warn({ target: skipped.name, reason: skipped.reason }, 'optional target left out: its connection could not be resolved');
    }
    const deps: ServiceDeps = {
      store,
      policy,
      connectors,
      tokens,
      sealer,
      clock,
      config,
      bus,
      log,
      metrics,
      // PostgreSQL commits on the server: the next half of the callers is worked on meanwhile.
      newGrants: new GrantInsertBatcher(store, clock, bus, { commitsOffThread: store.commitsOffThread, commitsInFlight: store.groupCommitsInFlight }),
      newId: () => timeSortableId(clock.now()),
    };
    const credentials = new CredentialService(deps);
    const grants = new GrantService(deps, credentials);
    const worker = new ExpiryWorker(deps, credentials);
    const audit = new AuditService(store, createCheckpointSigner(config.audit.origin, auditKey), clock, log, {
      origin: config.audit.origin,
      checkpointFile: config.audit.checkpointFile,
      intervalSeconds: config.audit.checkpointIntervalSeconds,
    });
    const targets = new TargetService(deps);
    const introspection = new IntrospectionService(tokens, store, clock, config.server.publicUrl);

    await audit.start();
    await store.transaction(async (tx) =>
      bus.publish(
        await tx.appendAudit(
          [{ type: 'broker.started', actor: 'system', data: { store: store.kind, devMode: config.dev.enabled, policies: [...policy.policyIds] } }],
          clock.now(),
        ),
      ),
    );
    // Catch up on everything that fell due while the broker was down before taking traffic.
    let ready = false;
    const caughtUp = await worker.runOnce();
    if (caughtUp.expired + caughtUp.lapsed + caughtUp.revoked > 0) log.info({ ...caughtUp }, 'caught up on work that fell due while stopped');
    // Credentials Stint made that no live grant backs (a restored database, a manual change).
    await targets.reconcileAll();
    ready = true;

    const dpopReplay = storeReplayGuard(store);
    const auditAuthFailure = async (reason: string, req: { method: string; url: string; ip: string }): Promise<void> => {
      const records = await store.transaction((tx) =>
        tx.appendAudit([{ type: 'auth.failed', actor: 'anonymous', data: { reason, method: req.method, path: req.url, ip: req.ip } }], clock.now()),
      );
      bus.publish(records);
    };
    const tokenExchange = new TokenExchangeService(deps, grants, identity, config.server.publicUrl, (reason) =>
      auditAuthFailure(reason, { method: 'POST', url: '/oauth/token', ip: '' }),
    );
    const http = await buildHttpServer({
      config,
      identity,
      grants,
      audit,
      targets,
      introspection,
      tokens,
      metrics,
      store,
      log,
      isReady: () => ready && audit.integrityProblem === undefined,
      auditAuthFailure,
      tokenExchange,
      clock,
      verifyDpop: async (proof, expected) => {
        try {
          return (await verifyDpopProof(proof, { ...expected, now: clock.now() }, dpopReplay)).jkt;
        } catch (e) {
          const reason = dpopErrorOf(e);
          if (reason === undefined) throw e;
          throw new OAuthError(oauthErrorForDpop(reason), 'invalid DPoP proof', 400, {}, e instanceof StintError ? e.internalReason : reason);
        }
      },
    });
    const host = opts.host ?? config.server.host;
    const port = opts.port ?? config.server.port;
    await http.listen({ host, port });
    const address = http.server.address();
    const boundPort = typeof address === 'object' && address ? address.port : port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
    if (opts.startWorker !== false) worker.start();
    log.info({ url, store: store.kind, policies: policy.policyIds.length, targets: Object.keys(config.targets).length }, 'stint is listening');

    let closed: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closed ??= (async () => {
        await worker.stop();
        await http.close();
        await store
          .transaction(async (tx) => bus.publish(await tx.appendAudit([{ type: 'broker.stopped', actor: 'system', data: {} }], clock.now())))
          .catch((e: unknown) => log.warn({ err: String(e) }, 'could not record broker.stopped'));
        await audit.stop();
        await store.close();
        for (const close of closers) await close().catch((e: unknown) => log.warn({ err: String(e) }, 'close failed'));
        log.flush?.();
      })());
    return { url, config, clock, store, worker, grants, audit, targets, http, bus, close };
  } catch (e) {
    for (const close of closers) await close().catch(() => undefined);
    await store.close();
    throw e;
  }
}

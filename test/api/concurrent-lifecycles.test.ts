/**
 * Many lifecycles at once, through the HTTP API, with time moving and the expiry worker running
 * between and during them (issue #2, items 4, 5, 7 and 11): generated requests, approvals,
 * denials, completions, revocations, extensions, reviews and activations by the example
 * configuration's workloads and humans, sent concurrently, on PGlite (one broker) and on
 * PostgreSQL (two replicas on one database, each request to either). Whatever the interleaving:
 * no answer is a 5xx, every refusal is problem+json, and the log that results is one gapless,
 * verifiable chain whose events obey the lifecycle's rules (one end per grant, nothing after it
 * but the credential's revocation and the break-glass review; approvals only by distinct humans
 * other than the requester, as many as the role requires before `grant.approved`; one review,
 * of break-glass only; extensions applied only once approved and never lapsed afterwards; every
 * credential of an ended grant revoked and proven dead; nobody who acted for the requester
 * approves). Token exchanges (RFC 8693, by the subject or by an actor it names in `may_act`, an
 * agent or a human approver) run among the rest; an actor picks up only a grant it requested.
 * The moment a completion or revocation is acknowledged, the grant's tokens introspect inactive on
 * every replica (RFC 7662, "the instant a grant ends"). At the end, exactly the unreviewed
 * break-glass grants are listed as needing review, and every signed checkpoint an auditor
 * fetched from either replica during the run is consistent with the final log. Once everything is due, no access
 * token handed out during the run introspects as active, and the stored grants agree with the log.
 * A third case adds real targets, PostgreSQL (a private cluster with password logins) and Redis
 * (the machine's server, with a broker ACL user of the run's own): sessions opened with issued
 * credentials stay open while the run goes on, and afterwards no grant role or ACL user is left,
 * every such session was killed and no credential logs in.
 * (It found an applied extension lapsing an hour later with a false "nobody decided in time".)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { createClient } from '@redis/client';
import { BROKER_ACL_SETUSER } from '../../src/adapters/connector-redis/index.js';
import { loadOrCreateDevIssuerKey, mintDevToken } from '../../src/adapters/identity-jwt/index.js';
import { verifyAuditLog } from '../../src/audit/index.js';
import { ManualClock } from '../../src/ports/clock.js';
import { ENDS, STATUS_OF_END, ruleBreaks } from '../helpers/lifecycle-rules.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { testSeed } from '../helpers/seed.js';
import { createPostgresTestEnv, loginCode, withPostgresTarget, type PostgresTestEnv } from '../connectors/postgres-env.js';

const PRINCIPALS = ['workload:deploy-bot', 'workload:support-agent', 'workload:ci-runner', 'human:alice', 'human:bob', 'human:carol', 'human:root', 'human:audrey'] as const;
const ACTIONS = ['approve', 'deny', 'complete', 'revoke', 'extend', 'review', 'activate'] as const;
/** Stands for the principal that requested the grant an action picks. */
const REQUESTER = 'requester';

type Step =
  | { readonly kind: 'request'; readonly as: string; readonly replica: number; readonly body: Record<string, unknown> }
  | { readonly kind: 'act'; readonly action: (typeof ACTIONS)[number] | 'get'; readonly as: string; readonly replica: number; readonly body: unknown; readonly pick: number }
  | { readonly kind: 'tick'; readonly ms: number }
  /**
   * Both DBAs vote on one grant at once, then its requester picks it up, and maybe says the task
   * is done: what a real approval looks like.
   */
  | { readonly kind: 'approval'; readonly replica: number; readonly pick: number; readonly finish: boolean }
  /**
   * RFC 8693 token exchange at /oauth/token, by the subject itself or by an actor it names in
   * `may_act` (an agent, or a human, who then must never approve the grant); with `poll`, the
   * same exchange again for the newest grant (`grant_id`), as a client polls a pending one.
   */
  | { readonly kind: 'exchange'; readonly replica: number; readonly subject: string; readonly actor?: string; readonly body: Record<string, unknown>; readonly poll: boolean }
  /** An auditor fetches the signed checkpoint from a replica; all of them must agree with the final log. */
  | { readonly kind: 'checkpoint'; readonly replica: number };

/** Who may act for whom in the exchange steps (the `may_act` of the subject's token). */
const DELEGATIONS: Readonly<Record<string, readonly string[]>> = { 'workload:deploy-bot': ['workload:support-agent', 'human:alice'], 'workload:ci-runner': ['workload:support-agent'] };

/** The real PostgreSQL target of the third case (a private cluster, test/connectors/pg-cluster.ts). */
const PG_TARGET = 'orders-pg-live';
/** The real Redis target of the third case: the machine's Redis, with a broker ACL user of this run's. */
const REDIS_TARGET = 'cache-live';
const REDIS_RUN = randomBytes(4).toString('hex');
const REDIS_ADMIN = `stint-admin-${REDIS_RUN}`;
const REDIS_ADMIN_PASSWORD = randomBytes(24).toString('base64url');

/** A RESP3 client that never reconnects (a connection a revocation killed stays dead). */
function redisClient(login: { username?: string; password?: string } = {}) {
  const client = createClient({ socket: { host: '127.0.0.1', port: 6379, reconnectStrategy: false, connectTimeout: 2000 }, RESP: 3, disableClientInfo: true, ...login });
  client.on('error', () => undefined);
  return client;
}

/** Adds the Redis target (the documented broker user, test/connectors/redis.test.ts) to the example configuration. */
function withRedisTarget(yaml: string): string {
  return yaml.replace(
    'targets:\n',
    `targets:
  ${REDIS_TARGET}:
    connector: redis
    env: prod
    owners: [group:dba]
    connection:
      url: env:STINT_REDIS_ADMIN_URL
    roles:
      read: { maxTtl: 1h, riskTier: low, grants: { rules: ["~t${REDIS_RUN}:orders:*", "+@read", "-@dangerous"] } }
`,
  );
}

const text = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== '');
const requestBody = (targets: readonly string[]) => fc
  .record({
    target: fc.constantFrom(...targets),
    role: fc.constantFrom('read', 'write', 'write', 'admin'),
    task: text,
    reason: text,
    ticket: fc.option(fc.constantFrom('CHG-1234', 'INC-42'), { nil: undefined }),
    ttl: fc.constantFrom('1m', '5m', '15m', '30s'),
    breakGlass: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
const actionBodies: Readonly<Record<(typeof ACTIONS)[number] | 'get', fc.Arbitrary<unknown>>> = {
  approve: fc.record({ reason: text }, { requiredKeys: [] }),
  deny: fc.record({ reason: text }),
  complete: fc.record({ note: text }, { requiredKeys: [] }),
  revoke: fc.record({ reason: text }),
  extend: fc.record({ ttl: fc.constantFrom('1m', '5m', '2h'), reason: text, ticket: fc.constantFrom('CHG-1234', 'INC-42') }, { requiredKeys: ['ttl', 'reason'] }),
  review: fc.record({ outcome: fc.constantFrom('justified', 'unjustified', 'needs_follow_up'), notes: text }),
  activate: fc.constant({}),
  get: fc.constant(undefined),
};

function steps(replicas: number, targets: readonly string[]): fc.Arbitrary<Step[]> {
  const who = fc.constantFrom(...PRINCIPALS);
  const replica = fc.integer({ min: 0, max: replicas - 1 });
  const request = fc.record({ kind: fc.constant('request' as const), as: who, replica, body: requestBody(targets) });
  // Mostly someone who may act (the requester for its own grant, the example's approvers for
  // votes), so that the run reaches the states past each action, and sometimes anyone.
  const approver = fc.constantFrom('human:alice', 'human:bob', 'human:alice', 'human:bob', 'human:carol', 'human:root');
  const actor = (action: (typeof ACTIONS)[number] | 'get'): fc.Arbitrary<string> =>
    action === 'approve' || action === 'deny'
      ? fc.oneof({ arbitrary: approver, weight: 4 }, { arbitrary: fc.constant(REQUESTER), weight: 1 }, { arbitrary: who, weight: 1 })
      : action === 'review' || action === 'revoke'
        ? fc.oneof({ arbitrary: fc.constant('human:root'), weight: 2 }, { arbitrary: fc.constant(REQUESTER), weight: 1 }, { arbitrary: who, weight: 1 })
        : fc.oneof({ arbitrary: fc.constant(REQUESTER), weight: 3 }, { arbitrary: who, weight: 1 });
  const act = fc
    .constantFrom(...ACTIONS, 'approve' as const, 'approve' as const, 'complete' as const, 'complete' as const, 'revoke' as const, 'get' as const)
    .chain((action) => fc.record({ kind: fc.constant('act' as const), action: fc.constant(action), as: actor(action), replica, body: actionBodies[action], pick: fc.nat() }));
  const tick = fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1_000, max: 5 * 60_000 }) });
  const approval = fc.record({ kind: fc.constant('approval' as const), replica, pick: fc.nat(), finish: fc.boolean() });
  const exchange = fc.constantFrom(...Object.keys(DELEGATIONS)).chain((subject) =>
    fc.record(
      {
        kind: fc.constant('exchange' as const),
        replica,
        subject: fc.constant(subject),
        actor: fc.constantFrom(...DELEGATIONS[subject]!),
        body: requestBody(targets).map(({ target, role, ttl, breakGlass: _b, ...rest }) => ({ ...rest, audience: target, scope: role, ttl })),
        poll: fc.boolean(),
      },
      { requiredKeys: ['kind', 'replica', 'subject', 'body', 'poll'] },
    ),
  );
  const checkpoint = fc.record({ kind: fc.constant('checkpoint' as const), replica });
  return fc.array(
    fc.oneof({ arbitrary: request, weight: 3 }, { arbitrary: act, weight: 6 }, { arbitrary: approval, weight: 2 }, { arbitrary: exchange, weight: 2 }, { arbitrary: tick, weight: 1 }, { arbitrary: checkpoint, weight: 1 }),
    { minLength: 1, maxLength: 16 },
  );
}

describe.each([
  { store: 'pglite' as const, replicas: 1, liveTarget: false },
  { store: 'postgres' as const, replicas: 2, liveTarget: false },
  { store: 'postgres' as const, replicas: 2, liveTarget: true },
])('concurrent lifecycles on $store, $replicas replica(s), real PostgreSQL target: $liveTarget', ({ store, replicas, liveTarget }) => {
  const clock = new ManualClock(Date.now());
  const targets = ['orders-db', 'orders-db', 'reports-db', 'payments-api', ...(liveTarget ? [PG_TARGET, PG_TARGET, REDIS_TARGET, REDIS_TARGET, REDIS_TARGET] : [])];
  let target: PostgresTestEnv | undefined;
  /** Sessions opened with issued credentials and held open, as a workload would (bounded by the cluster's connections). */
  const sessions: { grantId: string; url: string; client: pg.Client }[] = [];
  const redisSessions: { grantId: string; client: ReturnType<typeof redisClient> }[] = [];
  const redisAdmin = redisClient();
  const brokers: TestBroker[] = [];
  const tokens: Map<string, string>[] = [];
  /** Grants seen in answers, and who requested each. */
  const ids: string[] = [];
  const requesterOf = new Map<string, string>();
  /** Subject tokens with `may_act`, by subject. */
  const delegating = new Map<string, string>();

  beforeAll(async () => {
    target = liveTarget ? await createPostgresTestEnv() : undefined;
    if (liveTarget) {
      await redisAdmin.connect();
      await redisAdmin.sendCommand(BROKER_ACL_SETUSER.replace('stint-admin', REDIS_ADMIN).replace(/>\S+/u, `>${REDIS_ADMIN_PASSWORD}`).split(' '));
    }
    const withTarget =
      target !== undefined
        ? {
            configPatch: (yaml: string) => withRedisTarget(withPostgresTarget(PG_TARGET)(yaml)),
            env: { ORDERS_PG_ADMIN_URL: target.adminUrl, STINT_REDIS_ADMIN_URL: `redis://${REDIS_ADMIN}:${REDIS_ADMIN_PASSWORD}@127.0.0.1:6379` },
          }
        : {};
    const first = await startTestBroker({ clock, store, ...withTarget });
    brokers.push(first);
    // Replicas share the configuration, the key files and the database (durability.test.ts).
    for (let i = 1; i < replicas; i++) brokers.push(await startTestBroker({ clock, databaseUrl: first.databaseUrl!, dir: first.dir, ...withTarget }));
    for (const b of brokers) tokens.push(new Map(await Promise.all(PRINCIPALS.map(async (p) => [p, await b.tokenFor(p)] as const))));
    // Subject tokens that name their actors in may_act (RFC 8693 section 4.4).
    const { dev } = first.broker.config;
    const key = await loadOrCreateDevIssuerKey(dev.keyFile);
    for (const [subject, actors] of Object.entries(DELEGATIONS)) {
      delegating.set(subject, await mintDevToken({ key, issuer: dev.issuer, audience: dev.audience, principalId: subject, principal: dev.principals[subject]!, ttlSeconds: 7 * 86_400, now: clock.now(), mayAct: actors.map((sub) => ({ sub })) }));
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all(sessions.map((session) => session.client.end().catch(() => undefined)));
    for (const session of redisSessions) session.client.destroy();
    if (liveTarget) {
      // Whatever a failed run left on the shared server: this run's grant users and broker user.
      for (const id of ids) await redisAdmin.sendCommand(['ACL', 'DELUSER', `stint_${id}`]);
      await redisAdmin.sendCommand(['ACL', 'DELUSER', REDIS_ADMIN]);
      redisAdmin.destroy();
    }
    for (const b of brokers.slice(1).reverse()) await b.stop();
    await brokers[0]?.cleanup();
    await target?.destroy();
  });

  it('never answers 5xx, refuses in problem+json, and leaves one verifiable log that obeys the lifecycle', async () => {
    const answers = new Map<string, number>();
    /** Every access token handed out, and every password. */
    const issued: string[] = [];
    const handedOut: string[] = [];
    const faults: string[] = [];

    /** Every database credential handed out, and sessions on the first few, kept open. */
    const credentials: { grantId: string; url: string }[] = [];
    const holdSession = async (grantId: string, url: string): Promise<void> => {
      credentials.push({ grantId, url });
      if (sessionsOpening + sessions.length >= 15) return;
      sessionsOpening += 1;
      try {
        await openHeldSession(grantId, url);
      } finally {
        sessionsOpening -= 1;
      }
    };
    let sessionsOpening = 0;
    const redisCredentials: { grantId: string; username: string; password: string }[] = [];
    const holdRedisSession = async (grantId: string, username: string, password: string): Promise<void> => {
      redisCredentials.push({ grantId, username, password });
      const client = redisClient({ username, password });
      try {
        await client.connect();
        await client.get(`t${REDIS_RUN}:orders:1`);
      } catch (err) {
        // Ended in the instant between the answer and the login, by design.
        client.destroy();
        if (!/WRONGPASS|NOAUTH|closed|Socket/iu.test(String(err))) faults.push(`redis session for ${grantId}: ${String(err)}`);
        return;
      }
      redisSessions.push({ grantId, client });
    };
    const openHeldSession = async (grantId: string, url: string): Promise<void> => {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
      // A terminated backend makes the client emit 'error'; the check below looks at its next query.
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT count(*) FROM orders');
      } catch (err) {
        // The grant may have ended in the instant between the answer and the login, by design.
        await client.end().catch(() => undefined);
        if (!['28P01', '28000'].includes((err as { code?: string }).code ?? '')) faults.push(`session for ${grantId}: ${String(err)}`);
        return;
      }
      sessions.push({ grantId, url, client });
    };
    const send = async (replica: number, as: string, method: string, path: string, body: unknown): Promise<void> => {
      const broker = brokers[replica]!;
      const headers: Record<string, string> = { authorization: `Bearer ${tokens[replica]!.get(as)}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${broker.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const raw = await res.text();
      const parsed = JSON.parse(raw) as { code?: string; grant?: { id?: string; status?: string }; accessToken?: string; credential?: { url?: string } };
      if (typeof parsed.accessToken === 'string') {
        issued.push(parsed.accessToken);
        if (parsed.grant?.id !== undefined) tokensOf(parsed.grant.id).push(parsed.accessToken);
      }
      // The instant an end is acknowledged, no replica accepts the grant's tokens any more.
      const ended = parsed.grant?.status;
      if (res.status === 200 && (ended === 'completed' || ended === 'revoked') && parsed.grant?.id !== undefined) await expectDead(parsed.grant.id, `${method} ${path}`);
      const credential = parsed.credential as { url?: string; username?: string; password?: string } | undefined;
      if (typeof credential?.password === 'string') handedOut.push(credential.password);
      const url = credential?.url;
      if (typeof url === 'string' && parsed.grant?.id !== undefined) {
        if (url.startsWith('redis://')) await holdRedisSession(parsed.grant.id, credential!.username!, credential!.password!);
        else await holdSession(parsed.grant.id, url);
      }
      if (res.status >= 500) faults.push(`${res.status} ${method} ${path} as ${as}: ${raw.slice(0, 300)}`);
      if (res.status >= 400 && !(res.headers.get('content-type') ?? '').startsWith('application/problem+json')) faults.push(`${res.status} without problem+json: ${method} ${path}`);
      const id = parsed.grant?.id;
      if (res.status < 300 && typeof id === 'string' && !requesterOf.has(id)) {
        ids.push(id);
        requesterOf.set(id, path === '/v1/grants' ? as : requesterOf.get(path.split('/')[3]!)!);
      }
      const key = `${res.status} ${parsed.code ?? parsed.grant?.status ?? ''}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
    };
    /** Access tokens handed out, by grant. */
    const tokensByGrant = new Map<string, string[]>();
    const tokensOf = (grantId: string): string[] => {
      let list = tokensByGrant.get(grantId);
      if (list === undefined) tokensByGrant.set(grantId, (list = []));
      return list;
    };
    const introspect = async (replica: number, token: string): Promise<unknown> => {
      const res = await fetch(`${brokers[replica]!.url}/oauth/introspect`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[replica]!.get('human:root')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
      });
      return res.json();
    };
    let introspectedAfterEnd = 0;
    const expectDead = async (grantId: string, after: string): Promise<void> => {
      for (const token of tokensByGrant.get(grantId) ?? []) {
        for (let replica = 0; replica < brokers.length; replica++) {
          const answer = (await introspect(replica, token)) as { active?: boolean };
          introspectedAfterEnd += 1;
          if (answer.active !== false) faults.push(`${grantId}: a token introspects ${JSON.stringify(answer)} on replica ${replica} right after ${after} was acknowledged`);
        }
      }
    };
    /** Grants an actor picked up by polling the exchange, and who. */
    const pickups: { grantId: string; actor: string }[] = [];
    /** One token exchange; its grant joins the others, its token the ones checked at the end. */
    const exchangeToken = async (step: Extract<Step, { kind: 'exchange' }>): Promise<void> => {
      const form: Record<string, string> = {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: delegating.get(step.subject)!,
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        ...(step.actor !== undefined ? { actor_token: tokens[step.replica]!.get(step.actor)!, actor_token_type: 'urn:ietf:params:oauth:token-type:jwt' } : {}),
      };
      const newest = [...ids].reverse().find((id) => requesterOf.get(id) === step.subject);
      Object.assign(form, step.poll && newest !== undefined ? { grant_id: newest } : (step.body as Record<string, string>));
      const res = await fetch(`${brokers[step.replica]!.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
      const raw = await res.text();
      const parsed = JSON.parse(raw) as { access_token?: string; grant_id?: string; error?: string; credential?: { password?: string } };
      if (res.status >= 500) faults.push(`${res.status} exchange ${JSON.stringify(step)}: ${raw.slice(0, 300)}`);
      if (res.status >= 400 && parsed.error === undefined) faults.push(`${res.status} exchange without an RFC 6749 error: ${raw.slice(0, 200)}`);
      if (typeof parsed.access_token === 'string') {
        issued.push(parsed.access_token);
        if (typeof parsed.grant_id === 'string') tokensOf(parsed.grant_id).push(parsed.access_token);
      }
      if (typeof parsed.access_token === 'string' && form.grant_id !== undefined && step.actor !== undefined) pickups.push({ grantId: form.grant_id, actor: step.actor });
      if (typeof parsed.credential?.password === 'string') handedOut.push(parsed.credential.password);
      if (typeof parsed.grant_id === 'string' && !requesterOf.has(parsed.grant_id)) {
        ids.push(parsed.grant_id);
        requesterOf.set(parsed.grant_id, step.subject);
      }
      const key = `exchange ${res.status} ${parsed.error ?? 'issued'}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
    };
    /** Signed checkpoints fetched during the run (C2SP signed notes). */
    const checkpoints: { note: string; verifierKey: string; origin: string }[] = [];
    const run = async (step: Step): Promise<void> => {
      if (step.kind === 'exchange') return exchangeToken(step);
      if (step.kind === 'checkpoint') {
        const res = await fetch(`${brokers[step.replica]!.url}/v1/audit/checkpoint`, { headers: { authorization: `Bearer ${tokens[step.replica]!.get('human:audrey')}` } });
        if (res.status !== 200) faults.push(`checkpoint on replica ${step.replica}: ${res.status} ${await res.text()}`);
        else checkpoints.push((await res.json()) as { note: string; verifierKey: string; origin: string });
        return;
      }
      if (step.kind === 'tick') {
        clock.advance(step.ms);
        // Every replica's expiry worker, concurrently with the requests of this round.
        await Promise.all(brokers.map((b) => b.broker.worker.runOnce()));
        return;
      }
      if (step.kind === 'request') return send(step.replica, step.as, 'POST', '/v1/grants', step.body);
      // Mostly one of the newest grants: the older ones have mostly ended.
      const recent = ids.slice(-8);
      const id = recent[step.pick % Math.max(1, recent.length)];
      if (id === undefined) return;
      if (step.kind === 'approval') {
        await Promise.all(['human:alice', 'human:bob'].map((human) => send(step.replica, human, 'POST', `/v1/grants/${id}/approve`, {})));
        await send(step.replica, requesterOf.get(id)!, 'POST', `/v1/grants/${id}/activate`, {});
        if (step.finish) await send(step.replica, requesterOf.get(id)!, 'POST', `/v1/grants/${id}/complete`, { note: 'task done' });
        return;
      }
      const as = step.as === REQUESTER ? requesterOf.get(id)! : step.as;
      if (step.action === 'get') return send(step.replica, as, 'GET', `/v1/grants/${id}`, undefined);
      return send(step.replica, as, 'POST', `/v1/grants/${id}/${step.action}`, step.body);
    };

    await fc.assert(
      fc.asyncProperty(steps(replicas, targets), async (round) => {
        await Promise.all(round.map(run));
      }),
      // STINT_TEST_SOAK=<runs> for a longer run by hand; CI runs 150.
      { numRuns: Number(process.env.STINT_TEST_SOAK ?? 150), seed: testSeed() },
    );
    expect(faults).toEqual([]);
    if (process.env.STINT_TEST_LOG_ANSWERS) console.log(JSON.stringify([...answers].sort((a, b) => b[1] - a[1])), `introspected right after an end: ${introspectedAfterEnd}`);
    expect(introspectedAfterEnd).toBeGreaterThan(0);

    // The run reached the interesting answers, not only refusals.
    for (const seen of ['201 active', '201 pending_approval', '201 denied', '200 approved', '200 revoked', '200 completed', '409 invalid_state', '403 self_approval', 'exchange 200 issued', 'exchange 400 authorization_pending']) {
      expect(answers.get(seen) ?? 0, `${seen} in ${JSON.stringify([...answers])}`).toBeGreaterThan(0);
    }
    // Whatever is due ends, on every replica, before the log is read.
    clock.advance(3 * 3600_000);
    await Promise.all(brokers.map((b) => b.broker.worker.runOnce()));

    // The test of success: once the tasks have ended, no token handed out is accepted anywhere.
    expect(issued.length).toBeGreaterThan(0);
    for (const [i, token] of issued.entries()) expect(await introspect(i % brokers.length, token)).toEqual({ active: false });

    if (target !== undefined) {
      // Every database credential is dead: no role left, every session held open killed, no login.
      if (process.env.STINT_TEST_LOG_ANSWERS) console.log(`database credentials: ${credentials.length}, sessions held: ${sessions.length}`);
      expect(credentials.length).toBeGreaterThan(0);
      expect(sessions.length).toBeGreaterThan(0);
      expect(await target.superuser(`SELECT rolname FROM pg_roles WHERE rolname LIKE 'stint\\_%'`)).toEqual([]);
      for (const session of sessions) await expect(session.client.query('SELECT 1'), session.grantId).rejects.toThrow();
      for (const credential of credentials) expect(await loginCode(credential.url), credential.grantId).not.toBe('ok');
      // The same on Redis: no grant user left, every held connection closed, no login.
      if (process.env.STINT_TEST_LOG_ANSWERS) console.log(`redis credentials: ${redisCredentials.length}, connections held: ${redisSessions.length}`);
      expect(redisSessions.length).toBeGreaterThan(0);
      const users = (await redisAdmin.sendCommand(['ACL', 'USERS'])) as string[];
      expect(users.filter((u) => ids.some((id) => u === `stint_${id}`))).toEqual([]);
      for (const session of redisSessions) await expect(session.client.get(`t${REDIS_RUN}:orders:1`), session.grantId).rejects.toThrow();
      for (const credential of redisCredentials) {
        const login = redisClient({ username: credential.username, password: credential.password });
        await expect(login.connect(), credential.grantId).rejects.toThrow();
        login.destroy();
      }
    }

    const store = brokers[0]!.broker.store;
    // Every checkpoint either replica signed during the run is consistent with the final log.
    expect(checkpoints.length).toBeGreaterThan(0);
    const { verifierKey, origin } = checkpoints[0]!;
    expect(checkpoints.every((c) => c.verifierKey === verifierKey && c.origin === origin)).toBe(true);
    const report = await verifyAuditLog(store, { checkpoints: checkpoints.map((c) => c.note), verifierKey, origin });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checkpointsChecked).toBeGreaterThan(0);
    const head = await store.auditHead();
    const records = await store.readAudit(0, head.size);
    expect(ruleBreaks(records)).toEqual([]);
    // No secret handed out reached the log or the stored grants: not the access tokens, not
    // the database and Redis passwords.
    const stored = JSON.stringify(await Promise.all(ids.map((id) => store.getGrant(id))));
    const log = records.map((r) => r.canonical).join('\n');
    const secrets = [...issued.map((token) => token.split('.')[2]!), ...handedOut];
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(log.includes(secret)).toBe(false);
      expect(stored.includes(secret)).toBe(false);
    }
    // Break-glass stays loud: exactly the break-glass grants that conferred privilege and have no
    // review are listed as needing one, on every replica.
    const unreviewed = new Set<string>();
    const byGrant = new Map<string, Set<string>>();
    for (const r of records) if (r.grantId !== undefined) (byGrant.get(r.grantId) ?? byGrant.set(r.grantId, new Set()).get(r.grantId)!).add(r.type);
    for (const [id, types] of byGrant) if (types.has('breakglass.activated') && !types.has('grant.reviewed')) unreviewed.add(id);
    expect(unreviewed.size + [...byGrant.values()].filter((types) => types.has('grant.reviewed')).length, 'break-glass grants in the run').toBeGreaterThan(0);
    for (let replica = 0; replica < brokers.length; replica++) {
      const listed: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await fetch(`${brokers[replica]!.url}/v1/grants?needsReview=true&limit=100${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${tokens[replica]!.get('human:root')}` } });
        const body = (await page.json()) as { items: { id: string }[]; nextCursor?: string };
        listed.push(...body.items.map((g) => g.id));
        cursor = body.nextCursor;
      } while (cursor !== undefined);
      expect(listed.sort(), `needs review on replica ${replica}`).toEqual([...unreviewed].sort());
    }
    // An actor picked up only grants it had requested for its subject (core/access.ts mayPickUp).
    for (const { grantId, actor } of pickups) expect((await store.getGrant(grantId))?.actorChain, `${actor} picked up ${grantId}`).toEqual([actor]);
    // The stored state agrees with the log: each ended grant has the status of its end, and
    // three hours on nothing is still live or waiting.
    const ends = new Map(records.filter((r) => ENDS.has(r.type) && r.grantId !== undefined).map((r) => [r.grantId!, STATUS_OF_END[r.type]!]));
    for (const id of ids) {
      const grant = await store.getGrant(id);
      expect(grant, id).toBeDefined();
      const ended = ends.get(id);
      if (ended !== undefined) expect(grant!.status, id).toBe(ended);
      // An applied extension ends at approved (core/lifecycle.ts applyExtension), with nothing pending.
      else if (grant!.kind === 'extension' && grant!.status === 'approved') expect([grant!.endedAt, grant!.decisionDeadline], id).toEqual([expect.any(Number), undefined]);
      else expect(['active', 'approved', 'pending_approval'], `${id} ${grant!.status}`).not.toContain(grant!.status);
    }
  }, 300_000);
});

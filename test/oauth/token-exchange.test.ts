/**
 * RFC 8693 token exchange, RFC 7662 introspection, RFC 7009 revocation and RFC 8414 metadata,
 * driven with an independent, widely used OAuth client (oauth4webapi), against a real broker.
 * The subject token comes from a locally served issuer whose tokens look like GitHub Actions'.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oauth from 'oauth4webapi';
import { createServer, type Server } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { ManualClock } from '../../src/ports/clock.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { loadOrCreateDevIssuerKey, mintDevToken } from '../../src/adapters/identity-jwt/index.js';

/** Stint's protected OAuth endpoints authenticate callers by their identity token (bearer), not a client secret. */
const bearerAuth =
  (token: string): oauth.ClientAuth =>
  (_as, _client, _body, headers) => {
    headers.set('authorization', `Bearer ${token}`);
  };

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

describe('OAuth token exchange with a standard client', () => {
  let t: TestBroker;
  let jwksServer: Server;
  let issuerUrl: string;
  let sign: (claims: Record<string, unknown>, iss?: string) => Promise<string>;
  let ghKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  const clock = new ManualClock(Date.now());
  let as: oauth.AuthorizationServer;
  const client: oauth.Client = { client_id: 'github-actions' };
  const insecure = { [oauth.allowInsecureRequests]: true };

  beforeAll(async () => {
    // A GitHub-Actions-like issuer served locally: RS256 keys at a JWKS URL.
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    ghKey = privateKey;
    const jwk = { ...(await exportJWK(publicKey)), kid: 'gh-1', alg: 'RS256', use: 'sig' };
    jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    const port = (jwksServer.address() as { port: number }).port;
    issuerUrl = `http://127.0.0.1:${port}`;
    sign = (claims, iss = issuerUrl) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'gh-1', typ: 'JWT' })
        .setIssuer(iss)
        .setAudience('stint')
        .setIssuedAt(Math.floor(clock.now() / 1000))
        .setExpirationTime(Math.floor(clock.now() / 1000) + 600)
        .sign(privateKey);
    const issuerYaml = `issuers:
  - name: github
    issuer: ${issuerUrl}
    jwksUrl: ${issuerUrl}/jwks
    audiences: [stint]
    algorithms: [RS256]
    principal:
      type: workload
      kind: ci
      nameClaim: repository
      attributes: { env: environment, repository: repository }
      require: { repository_owner: acme }
  - name: k8s
    issuer: ${issuerUrl}/k8s
    jwksUrl: ${issuerUrl}/jwks
    audiences: [stint]
    algorithms: [RS256]
    principal:
      type: workload
      kind: service
      nameClaim: kubernetes.io.serviceaccount.name
      attributes: { namespace: kubernetes.io.namespace, env: kubernetes.io.namespace }
  - name: spiffe
    issuer: ${issuerUrl}/spire
    jwksUrl: ${issuerUrl}/jwks
    audiences: [stint]
    algorithms: [RS256]
    principal:
      type: workload
      kind: service
      nameClaim: sub
`;
    // reports-db grants only DPoP-bound tokens.
    const requireDpop = (yaml: string) => yaml.replace('  reports-db:\n    connector: token\n', '  reports-db:\n    connector: token\n    requireDpop: true\n');
    t = await startTestBroker({ clock, configPatch: (yaml) => requireDpop(yaml.replace('issuers: []\n', issuerYaml)) });
    as = await oauth.processDiscoveryResponse(new URL(t.url), await oauth.discoveryRequest(new URL(t.url), { algorithm: 'oauth2', ...insecure }));
  });
  afterAll(async () => {
    await t?.cleanup();
    await new Promise((r) => jwksServer?.close(r));
  });

  const ghToken = (extra: Record<string, unknown> = {}) =>
    sign({ sub: 'repo:acme/app:environment:prod', repository: 'acme/app', repository_owner: 'acme', environment: 'prod', job_workflow_ref: 'acme/app/.github/workflows/deploy.yml@refs/heads/main', ref: 'refs/heads/main', ...extra });

  const exchange = async (params: Record<string, string>) =>
    oauth.genericTokenEndpointRequest(as, client, oauth.None(), EXCHANGE, params, insecure);

  it('publishes RFC 8414 metadata for the token endpoint and token exchange', () => {
    expect(as.issuer).toBe(t.url);
    expect(as.token_endpoint).toBe(`${t.url}/oauth/token`);
    expect(as.grant_types_supported).toEqual([EXCHANGE]);
  });

  it('exchanges a GitHub Actions OIDC token for a 10-minute grant, introspects it, and revokes it', async () => {
    const res = await exchange({
      subject_token: await ghToken(),
      subject_token_type: JWT_TYPE,
      audience: 'orders-db',
      scope: 'read',
      task: 'deploy release 7.1',
      reason: 'pipeline run 42',
      ttl: '10m',
    });
    const body = await oauth.processGenericTokenEndpointResponse(as, client, res);
    expect(body.token_type.toLowerCase()).toBe('bearer');
    expect(body.expires_in).toBe(600);
    expect(body.scope).toBe('read');
    expect(body.issued_token_type).toBe('urn:ietf:params:oauth:token-type:access_token');
    const grantId = body.grant_id as string;
    const grant = await t.broker.store.getGrant(grantId);
    expect(grant).toMatchObject({ principal: 'workload:acme/app', status: 'active', ttlSeconds: 600, target: 'orders-db' });

    const introspect = async () =>
      oauth.processIntrospectionResponse(
        as,
        client,
        await oauth.introspectionRequest(as, client, bearerAuth(await t.tokenFor('human:alice')), body.access_token, insecure),
      );
    expect(await introspect()).toMatchObject({ active: true, sub: 'workload:acme/app', scope: 'read', client_id: 'workload:acme/app' });

    // The workload itself revokes it when the job is done (RFC 7009, authenticated by its identity token).
    const gh = await ghToken();
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, bearerAuth(gh), body.access_token, insecure));
    expect((await introspect()).active).toBe(false);
    expect((await t.broker.store.getGrant(grantId))?.status).toBe('completed');
    // Unknown tokens get 200 as well.
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, bearerAuth(gh), 'not-a-token', insecure));
  });

  it('answers authorization_pending with the grant id, slow_down when polled too fast, then the token once approved', async () => {
    const subject = await ghToken();
    const first = await exchange({ subject_token: subject, subject_token_type: JWT_TYPE, resource: `${t.url}/targets/orders-db`, scope: 'write', task: 'migration 42', reason: 'release', ticket: 'CHG-42', ttl: '15m' });
    expect(first.status).toBe(400);
    const pending = (await first.json()) as { error: string; grant_id: string; interval: number };
    expect(pending).toMatchObject({ error: 'authorization_pending', interval: 5 });
    const poll = () => exchange({ subject_token: subject, subject_token_type: JWT_TYPE, grant_id: pending.grant_id });
    clock.advance(5000);
    expect(((await (await poll()).json()) as { error: string }).error).toBe('authorization_pending');
    expect(((await (await poll()).json()) as { error: string }).error).toBe('slow_down');
    await t.call('human:alice', 'POST', `/v1/grants/${pending.grant_id}/approve`, {});
    await t.call('human:bob', 'POST', `/v1/grants/${pending.grant_id}/approve`, {});
    clock.advance(10_000);
    const body = await oauth.processGenericTokenEndpointResponse(as, client, await poll());
    expect(body.grant_id).toBe(pending.grant_id);
    expect(body.expires_in).toBe(900);
  });

  it('denies with a generic access_denied; the deciding policy is only in the audit log', async () => {
    const res = await exchange({ subject_token: await ghToken(), subject_token_type: JWT_TYPE, audience: 'payments-api', scope: 'admin', task: 'x', reason: 'y', ttl: '5m' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.error).toBe('access_denied');
    expect(JSON.stringify(body)).not.toMatch(/forbid|policy|human-/);
    const requested = (await t.call('human:audrey', 'GET', '/v1/audit?limit=1000')).body.items.filter((e: { type: string; grantId?: string }) => e.type === 'grant.requested' && e.grantId === body.grant_id);
    expect(requested).toHaveLength(1);
    expect(JSON.parse(requested[0].canonical).data.decision).toMatchObject({ outcome: 'deny' });
  });

  it('refuses bad requests with the right OAuth error and grants nothing', async () => {
    const before = (await t.broker.store.listGrants({}, { limit: 500 })).items.length;
    const cases: [Record<string, string>, string][] = [
      [{ subject_token: await ghToken(), subject_token_type: JWT_TYPE, audience: 'nope', scope: 'read', task: 'x', reason: 'y' }, 'invalid_target'],
      [{ subject_token: await ghToken(), subject_token_type: JWT_TYPE, resource: 'not a uri', scope: 'read', task: 'x', reason: 'y' }, 'invalid_target'],
      [{ subject_token: await ghToken(), subject_token_type: JWT_TYPE, audience: 'orders-db', scope: 'superuser', task: 'x', reason: 'y' }, 'invalid_scope'],
      [{ subject_token: await ghToken(), subject_token_type: JWT_TYPE, audience: 'orders-db', scope: 'read' }, 'invalid_request'],
      [{ subject_token: await ghToken(), subject_token_type: 'urn:ietf:params:oauth:token-type:saml2', audience: 'orders-db', scope: 'read', task: 'x', reason: 'y' }, 'invalid_request'],
      [{ subject_token: await ghToken({ repository_owner: 'evil' }), subject_token_type: JWT_TYPE, audience: 'orders-db', scope: 'read', task: 'x', reason: 'y' }, 'invalid_grant'],
      [{ subject_token: 'garbage', subject_token_type: JWT_TYPE, audience: 'orders-db', scope: 'read', task: 'x', reason: 'y' }, 'invalid_grant'],
      [{ subject_token: await ghToken(), subject_token_type: JWT_TYPE, audience: 'orders-db', scope: 'read', task: 'x', reason: 'y', ttl: '5 years' }, 'invalid_request'],
    ];
    for (const [params, error] of cases) {
      const res = await exchange(params);
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(((await res.json()) as { error: string }).error, JSON.stringify(params)).toBe(error);
    }
    const wrongGrant = await fetch(`${t.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    expect(await wrongGrant.json()).toMatchObject({ error: 'unsupported_grant_type' });
    const notForm = await fetch(`${t.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(notForm.status).toBe(400);
    expect(await notForm.json()).toMatchObject({ error: 'invalid_request' });
    expect((await t.broker.store.listGrants({}, { limit: 500 })).items.length).toBe(before);
  });

  it('delegation: an agent acts for a workload that names it in may_act; the chain is in the token and the audit log', async () => {
    const key = await loadOrCreateDevIssuerKey(t.broker.config.dev.keyFile);
    const { issuer, audience } = t.broker.config.dev;
    const subject = await mintDevToken({ key, issuer, audience, principalId: 'workload:deploy-bot', principal: t.broker.config.dev.principals['workload:deploy-bot']!, now: clock.now(), mayAct: { sub: 'workload:support-agent' } });
    const actor = await t.tokenFor('workload:support-agent');
    const body = await oauth.processGenericTokenEndpointResponse(
      as,
      client,
      await exchange({ subject_token: subject, subject_token_type: JWT_TYPE, actor_token: actor, actor_token_type: JWT_TYPE, audience: 'orders-db', scope: 'read', task: 'agent reads orders', reason: 'user asked', ttl: '5m' }),
    );
    const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1]!, 'base64url').toString());
    expect(claims.sub).toBe('workload:deploy-bot');
    expect(claims.act).toEqual({ sub: 'workload:support-agent' });
    const grant = await t.broker.store.getGrant(body.grant_id as string);
    expect(grant?.actorChain).toEqual(['workload:support-agent']);
    const requested = (await t.call('human:audrey', 'GET', '/v1/audit?limit=1000')).body.items.find((e: { type: string; grantId?: string }) => e.type === 'grant.requested' && e.grantId === body.grant_id);
    expect(JSON.parse(requested.canonical).data.actorChain).toEqual(['workload:support-agent']);

    // Not named in may_act: refused. No may_act at all: refused. Acting for itself: a loop.
    const stranger = await t.tokenFor('workload:ci-runner');
    const refused = await exchange({ subject_token: subject, subject_token_type: JWT_TYPE, actor_token: stranger, actor_token_type: JWT_TYPE, audience: 'orders-db', scope: 'read', task: 'x', reason: 'y' });
    expect(await refused.json()).toMatchObject({ error: 'invalid_grant' });
    const noMayAct = await exchange({ subject_token: await t.tokenFor('workload:deploy-bot'), subject_token_type: JWT_TYPE, actor_token: actor, actor_token_type: JWT_TYPE, audience: 'orders-db', scope: 'read', task: 'x', reason: 'y' });
    expect(await noMayAct.json()).toMatchObject({ error: 'invalid_grant' });
    const self = await mintDevToken({ key, issuer, audience, principalId: 'workload:support-agent', principal: t.broker.config.dev.principals['workload:support-agent']!, now: clock.now(), mayAct: { sub: 'workload:support-agent' } });
    const loop = await exchange({ subject_token: self, subject_token_type: JWT_TYPE, actor_token: actor, actor_token_type: JWT_TYPE, audience: 'orders-db', scope: 'read', task: 'x', reason: 'y' });
    expect(await loop.json()).toMatchObject({ error: 'invalid_request' });
    // A delegated request never gets break-glass-like shortcuts, and the actor cannot approve it.
    const pending = await exchange({ subject_token: subject, subject_token_type: JWT_TYPE, actor_token: actor, actor_token_type: JWT_TYPE, audience: 'orders-db', scope: 'write', task: 'x', reason: 'y', ticket: 'T-1' });
    const pendingBody = (await pending.json()) as { grant_id: string };
    const g = await t.broker.store.getGrant(pendingBody.grant_id);
    expect(g?.status).toBe('pending_approval');
  });

  it('delegation: only the subject or the chain that requested a grant picks it up, never an approver named in may_act', async () => {
    const key = await loadOrCreateDevIssuerKey(t.broker.config.dev.keyFile);
    const { issuer, audience } = t.broker.config.dev;
    // deploy-bot lets an agent and a human act for it; the agent asks for a write that needs two DBAs.
    const subject = await mintDevToken({ key, issuer, audience, principalId: 'workload:deploy-bot', principal: t.broker.config.dev.principals['workload:deploy-bot']!, now: clock.now(), mayAct: [{ sub: 'workload:support-agent' }, { sub: 'human:alice' }] });
    const agent = { actor_token: await t.tokenFor('workload:support-agent'), actor_token_type: JWT_TYPE };
    const alice = { actor_token: await t.tokenFor('human:alice'), actor_token_type: JWT_TYPE };
    const asked = (await (await exchange({ subject_token: subject, subject_token_type: JWT_TYPE, ...agent, audience: 'orders-db', scope: 'write', task: 'fix order 12', reason: 'customer ticket', ticket: 'INC-12', ttl: '10m' })).json()) as { error: string; grant_id: string };
    expect(asked.error).toBe('authorization_pending');
    // alice is not in the recorded chain, so she may approve; then she must not fetch the credential as an actor.
    expect((await t.call('human:alice', 'POST', `/v1/grants/${asked.grant_id}/approve`, {})).status).toBe(200);
    expect((await t.call('human:bob', 'POST', `/v1/grants/${asked.grant_id}/approve`, {})).body.grant.status).toBe('approved');
    clock.advance(10_000);
    const byApprover = await exchange({ subject_token: subject, subject_token_type: JWT_TYPE, ...alice, grant_id: asked.grant_id });
    expect(byApprover.status).toBe(400);
    expect(await byApprover.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringContaining('delegation chain') });
    expect((await t.broker.store.getGrant(asked.grant_id))?.status).toBe('approved');
    // The agent that asked picks it up; the subject itself may fetch a token for it too.
    clock.advance(10_000);
    const picked = await oauth.processGenericTokenEndpointResponse(as, client, await exchange({ subject_token: subject, subject_token_type: JWT_TYPE, ...agent, grant_id: asked.grant_id }));
    expect(JSON.parse(Buffer.from(picked.access_token.split('.')[1]!, 'base64url').toString()).act).toEqual({ sub: 'workload:support-agent' });
    clock.advance(10_000);
    const own = await oauth.processGenericTokenEndpointResponse(as, client, await exchange({ subject_token: subject, subject_token_type: JWT_TYPE, grant_id: asked.grant_id }));
    expect(own.grant_id).toBe(asked.grant_id);
  });

  it('DPoP: binds the token to the client key (cnf.jkt), and refuses replayed or misdirected proofs', async () => {
    const keyPair = (await generateKeyPair('ES256', { extractable: false })) as Parameters<typeof oauth.DPoP>[1];
    const dpop = oauth.DPoP(client, keyPair);
    const params = { subject_token: await ghToken(), subject_token_type: JWT_TYPE, audience: 'orders-db', scope: 'read', task: 'bound token', reason: 'dpop', ttl: '5m' };
    const res = await oauth.genericTokenEndpointRequest(as, client, oauth.None(), EXCHANGE, params, { DPoP: dpop, ...insecure });
    const body = await oauth.processGenericTokenEndpointResponse(as, client, res);
    expect(body.token_type.toLowerCase()).toBe('dpop');
    const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1]!, 'base64url').toString());
    expect(claims.cnf.jkt).toBe(await dpop.calculateThumbprint());
    const introspection = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, bearerAuth(await t.tokenFor('human:alice')), body.access_token, insecure),
    );
    expect(introspection.cnf).toEqual({ jkt: claims.cnf.jkt });
    const grant = await t.broker.store.getGrant(body.grant_id as string);
    expect(grant?.dpopJkt).toBe(claims.cnf.jkt);

    // Replay: the same proof twice. Misdirected: a proof for another URL. Both refused, nothing granted.
    const k = await generateKeyPair('ES256');
    const jwk = await exportJWK(k.publicKey);
    const proof = (htu: string) =>
      new SignJWT({ htm: 'POST', htu, jti: `jti-${htu}`, iat: Math.floor(clock.now() / 1000) })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .sign(k.privateKey);
    const send = (p: string) =>
      fetch(`${t.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: p },
        body: new URLSearchParams({ grant_type: EXCHANGE, ...params }).toString(),
      });
    const good = await proof(`${t.url}/oauth/token`);
    expect((await send(good)).status).toBe(200);
    const replayed = await send(good);
    expect(replayed.status).toBe(400);
    expect(await replayed.json()).toMatchObject({ error: 'invalid_dpop_proof' });
    const elsewhere = await send(await proof(`${t.url}/somewhere/else`));
    expect(await elsewhere.json()).toMatchObject({ error: 'invalid_dpop_proof' });
    // The grant's tokens go only to the key holder: a plain bearer poll for it is refused.
    const poll = await exchange({ subject_token: await ghToken(), subject_token_type: JWT_TYPE, grant_id: body.grant_id as string });
    expect(await poll.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('maps Kubernetes service-account and SPIFFE JWT-SVID tokens to workloads', async () => {
    const k8s = await sign(
      { sub: 'system:serviceaccount:prod:orders-api', 'kubernetes.io': { namespace: 'prod', pod: { name: 'orders-api-7d9', uid: 'u1' }, serviceaccount: { name: 'orders-api', uid: 'u2' } } },
      `${issuerUrl}/k8s`,
    );
    const k = await oauth.processGenericTokenEndpointResponse(
      as,
      client,
      await exchange({ subject_token: k8s, subject_token_type: JWT_TYPE, audience: 'orders-db', scope: 'read', task: 'k8s job', reason: 'nightly', ttl: '5m' }),
    );
    expect((await t.broker.store.getGrant(k.grant_id as string))?.principal).toBe('workload:orders-api');
    const svid = await sign({ sub: 'spiffe://example.org/ns/prod/sa/billing' }, `${issuerUrl}/spire`);
    const sp = await oauth.processGenericTokenEndpointResponse(
      as,
      client,
      await exchange({ subject_token: svid, subject_token_type: JWT_TYPE, audience: 'orders-db', scope: 'read', task: 'svid job', reason: 'billing run', ttl: '5m' }),
    );
    expect((await t.broker.store.getGrant(sp.grant_id as string))?.principal).toBe('workload:spiffe://example.org/ns/prod/sa/billing');
  });

  it('a target can require DPoP: bearer requests are refused, DPoP-bound ones granted', async () => {
    const params = { subject_token: await ghToken(), subject_token_type: JWT_TYPE, audience: 'reports-db', scope: 'read', task: 'report', reason: 'weekly', ttl: '5m' };
    const bearer = await exchange(params);
    expect(bearer.status).toBe(400);
    expect(await bearer.json()).toMatchObject({ error: 'invalid_request' });
    expect((await t.call('workload:deploy-bot', 'POST', '/v1/grants', { target: 'reports-db', role: 'read', task: 'x', reason: 'y', ttl: '5m' })).body.code).toBe('invalid_request');
    const keyPair = (await generateKeyPair('ES256', { extractable: false })) as Parameters<typeof oauth.DPoP>[1];
    const res = await oauth.genericTokenEndpointRequest(as, client, oauth.None(), EXCHANGE, params, { DPoP: oauth.DPoP(client, keyPair), ...insecure });
    const body = await oauth.processGenericTokenEndpointResponse(as, client, res);
    expect(body.token_type.toLowerCase()).toBe('dpop');
  });

  it('refuses every kind of bad subject token with invalid_grant, audits why, and grants nothing', async () => {
    const before = (await t.broker.store.listGrants({}, { limit: 500 })).items.length;
    const auditBefore = (await t.broker.store.auditHead()).size;
    const now = Math.floor(clock.now() / 1000);
    const claims = { sub: 'repo:acme/app:environment:prod', repository: 'acme/app', repository_owner: 'acme' };
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const { privateKey: otherKey } = await generateKeyPair('RS256');
    const jwks = (await (await fetch(`${issuerUrl}/jwks`)).json()) as { keys: { n: string }[] };
    const hsHeader = b64({ alg: 'HS256', kid: 'gh-1' });
    const hsPayload = b64({ ...claims, iss: issuerUrl, aud: 'stint', iat: now, exp: now + 600 });
    const { createHmac } = await import('node:crypto');
    const bad: Record<string, string> = {
      expired: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'gh-1' }).setIssuer(issuerUrl).setAudience('stint').setIssuedAt(now - 7200).setExpirationTime(now - 3600).sign(ghKey),
      notYetValid: await sign({ ...claims, nbf: now + 3600 }),
      wrongAudience: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'gh-1' }).setIssuer(issuerUrl).setAudience('someone-else').setIssuedAt(now).setExpirationTime(now + 600).sign(ghKey),
      unknownIssuer: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'gh-1' }).setIssuer('https://evil.example').setAudience('stint').setIssuedAt(now).setExpirationTime(now + 600).sign(ghKey),
      forged: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'gh-1' }).setIssuer(issuerUrl).setAudience('stint').setIssuedAt(now).setExpirationTime(now + 600).sign(otherKey),
      algNone: `${b64({ alg: 'none' })}.${hsPayload}.`,
      hsWithPublicKey: `${hsHeader}.${hsPayload}.${createHmac('sha256', Buffer.from(jwks.keys[0]!.n, 'base64url')).update(`${hsHeader}.${hsPayload}`).digest('base64url')}`,
    };
    for (const [name, token] of Object.entries(bad)) {
      const res = await exchange({ subject_token: token, subject_token_type: JWT_TYPE, audience: 'orders-db', scope: 'read', task: 'x', reason: 'y' });
      expect(res.status, name).toBe(400);
      expect(((await res.json()) as { error: string }).error, name).toBe('invalid_grant');
    }
    expect((await t.broker.store.listGrants({}, { limit: 500 })).items.length).toBe(before);
    const failures = (await t.broker.store.readAudit(auditBefore, 1000)).filter((e) => e.type === 'auth.failed');
    expect(failures.length).toBe(Object.keys(bad).length);
    for (const f of failures) for (const token of Object.values(bad)) expect(f.canonical).not.toContain(token.split('.')[2] || token);
  });
});

/**
 * Whole grant lifecycles over HTTP against a real broker, on PGlite and on PostgreSQL
 * (issue #2, "Done when"). Time moves only through a manual clock: no sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/ports/clock.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { verifyInclusion } from '../../src/audit/proofs.js';
import { fromHex } from '../../src/audit/merkle.js';
import { verifyAuditLog } from '../../src/audit/verify.js';

const BOT = 'workload:deploy-bot';
const AGENT = 'workload:support-agent';

const withIntruder = (yaml: string): string =>
  yaml.replace('    human:alice: {}', '    workload:intruder:\n      kind: service\n      tenant: other\n      attributes: { env: prod }\n    human:alice: {}');

describe.each(['pglite', 'postgres'] as const)('grant lifecycle over HTTP on %s', (store) => {
  let t: TestBroker;
  const clock = new ManualClock();

  beforeAll(async () => {
    t = await startTestBroker({ store, clock, configPatch: withIntruder });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const request = (who: string, body: Record<string, unknown>) => t.call(who, 'POST', '/v1/grants', body);
  const introspect = async (who: string, token: string) => {
    const res = await fetch(`${t.url}/oauth/introspect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await t.tokenFor(who)}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('auto-approves a low-risk read, issues a token that introspects active, and ends it on completion with proof', async () => {
    const res = await request(BOT, { target: 'orders-db', role: 'read', task: 'run migration 42 dry-run', reason: 'verify schema', ttl: '15m' });
    expect(res.status).toBe(201);
    const grant = res.body.grant;
    expect(grant.status).toBe('active');
    expect(grant.decision.outcome).toBe('auto');
    expect(grant.decision.policies).toEqual(['auto-read']);
    expect(new Date(grant.expiresAt).getTime() - new Date(grant.activatedAt).getTime()).toBe(15 * 60_000);
    expect(typeof res.body.accessToken).toBe('string');
    const [header, payload] = (res.body.accessToken as string).split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ jti: grant.id, sub: BOT, aud: 'orders-db', scope: 'read', task: 'run migration 42 dry-run' });

    const active = await introspect('human:alice', res.body.accessToken);
    expect(active.body).toMatchObject({ active: true, sub: BOT, scope: 'read', jti: grant.id });

    const done = await t.call(BOT, 'POST', `/v1/grants/${grant.id}/complete`, { note: 'migration verified' });
    expect(done.status).toBe(200);
    expect(done.body.grant.status).toBe('completed');
    expect(done.body.grant.credential.state).toBe('revoked');
    expect(done.body.grant.credential.evidence.verified).toBe(true);
    expect(await introspect('human:alice', res.body.accessToken)).toEqual({ status: 200, body: { active: false } });

    // The same identity cannot keep using the grant: no new token, no reactivation.
    expect((await t.call(BOT, 'POST', `/v1/grants/${grant.id}/token`, {})).body.code).toBe('invalid_state');
    expect((await t.call(BOT, 'POST', `/v1/grants/${grant.id}/activate`, {})).body.code).toBe('invalid_state');
  });

  it('routes a production write to two distinct human approvers, never the requester', async () => {
    const res = await request(BOT, { target: 'orders-db', role: 'write', task: 'run migration 42', reason: 'release 7.1', ticket: 'CHG-1234', ttl: '15m' });
    expect(res.status).toBe(201);
    const id = res.body.grant.id;
    expect(res.body.grant.status).toBe('pending_approval');
    expect(res.body.grant.decision).toMatchObject({ outcome: 'approval', policies: ['human-write-prod'], approvalsRequired: 2 });
    expect(res.body.accessToken).toBeUndefined();

    expect((await t.call(BOT, 'POST', `/v1/grants/${id}/approve`, {})).body.code).toBe('self_approval');
    expect((await t.call('human:carol', 'POST', `/v1/grants/${id}/approve`, {})).body.code).toBe('forbidden');
    const first = await t.call('human:alice', 'POST', `/v1/grants/${id}/approve`, { reason: 'ticket checked' });
    expect(first.status).toBe(200);
    expect(first.body.grant.status).toBe('pending_approval');
    expect((await t.call('human:alice', 'POST', `/v1/grants/${id}/approve`, {})).body.code).toBe('already_decided');
    // The requester cannot pick it up before it is approved.
    expect((await t.call(BOT, 'POST', `/v1/grants/${id}/activate`, {})).body.code).toBe('invalid_state');
    const second = await t.call('human:bob', 'POST', `/v1/grants/${id}/approve`, {});
    expect(second.body.grant.status).toBe('approved');
    expect(second.body.accessToken).toBeUndefined();
    // Approvers never receive the requester's credential.
    expect((await t.call('human:bob', 'POST', `/v1/grants/${id}/activate`, {})).body.code).toBe('forbidden');

    clock.advance(60_000);
    const act = await t.call(BOT, 'POST', `/v1/grants/${id}/activate`, {});
    expect(act.status).toBe(200);
    expect(act.body.grant.status).toBe('active');
    expect(act.body.grant.approvals.map((a: { approver: string }) => a.approver)).toEqual(['human:alice', 'human:bob']);
    // TTL starts at activation, not at request time.
    expect(new Date(act.body.grant.expiresAt).getTime()).toBe(clock.now() + 15 * 60_000);
    expect(typeof act.body.accessToken).toBe('string');
  });

  it('lapses an approval the requester never picks up', async () => {
    const res = await request(BOT, { target: 'orders-db', role: 'write', task: 'late pickup', reason: 'x', ticket: 'CHG-5', ttl: '5m' });
    const id = res.body.grant.id;
    await t.call('human:alice', 'POST', `/v1/grants/${id}/approve`, {});
    await t.call('human:bob', 'POST', `/v1/grants/${id}/approve`, {});
    clock.advance(3600_000);
    expect((await t.call(BOT, 'GET', `/v1/grants/${id}`)).body.status).toBe('expired');
    expect((await t.call(BOT, 'POST', `/v1/grants/${id}/activate`, {})).body.code).toBe('invalid_state');
    const pass = await t.broker.worker.runOnce();
    expect(pass.lapsed).toBeGreaterThanOrEqual(1);
    const stored = await t.broker.store.getGrant(id);
    expect(stored).toMatchObject({ status: 'expired', endNote: 'nobody decided in time' });
    expect(stored?.credential.state).toBe('none');
  });

  it('denies what policy forbids and records which policy decided', async () => {
    const res = await request(AGENT, { target: 'payments-api', role: 'admin', task: 'refund', reason: 'customer ticket', ticket: 'SUP-1', ttl: '10m' });
    expect(res.status).toBe(201);
    expect(res.body.grant.status).toBe('denied');
    expect(res.body.grant.decision.outcome).toBe('deny');
    expect(res.body.grant.decision.policies).toContain('forbid-agent-admin');
    expect(res.body.accessToken).toBeUndefined();
  });

  it('a human deny ends a pending request with its reason', async () => {
    const res = await request(BOT, { target: 'orders-db', role: 'write', task: 'hotfix', reason: 'bug 9', ticket: 'CHG-9', ttl: '10m' });
    const id = res.body.grant.id;
    expect((await t.call('human:alice', 'POST', `/v1/grants/${id}/deny`, {})).body.code).toBe('invalid_body');
    const denied = await t.call('human:alice', 'POST', `/v1/grants/${id}/deny`, { reason: 'use the release train' });
    expect(denied.body.grant.status).toBe('denied');
    expect(denied.body.grant.endNote).toBe('use the release train');
    expect((await t.call('human:bob', 'POST', `/v1/grants/${id}/approve`, {})).body.code).toBe('invalid_state');
  });

  it('expires exactly on time: reported expired on read before any worker runs, then revoked by the worker', async () => {
    const res = await request(BOT, { target: 'orders-db', role: 'read', task: 'nightly export', reason: 'report', ttl: '15m' });
    const id = res.body.grant.id;
    const token = res.body.accessToken as string;
    clock.advance(15 * 60_000 - 1);
    expect((await t.call(BOT, 'GET', `/v1/grants/${id}`)).body.status).toBe('active');
    expect((await introspect('human:alice', token)).body.active).toBe(true);
    clock.advance(1);
    expect((await t.call(BOT, 'GET', `/v1/grants/${id}`)).body.status).toBe('expired');
    expect((await introspect('human:alice', token)).body).toEqual({ active: false });
    expect((await t.call(BOT, 'POST', `/v1/grants/${id}/complete`, {})).body.code).toBe('invalid_state');

    const pass = await t.broker.worker.runOnce();
    expect(pass.expired).toBeGreaterThanOrEqual(1);
    const stored = await t.broker.store.getGrant(id);
    expect(stored?.status).toBe('expired');
    expect(stored?.endedBy).toBe('system');
    expect(stored?.endedAt).toBe(stored?.expiresAt);
    expect(stored?.credential.state).toBe('revoked');
    expect(stored?.credential.evidence?.verified).toBe(true);
    // A second pass finds nothing more to do for this grant.
    await t.broker.worker.runOnce();
    expect((await t.broker.store.getGrant(id))?.version).toBe(stored?.version);
  });

  it('lapses a request nobody decides on within the pending timeout', async () => {
    const res = await request(BOT, { target: 'orders-db', role: 'write', task: 'schema change', reason: 'feature', ticket: 'CHG-2', ttl: '10m' });
    const id = res.body.grant.id;
    clock.advance(3600_000);
    expect((await t.call(BOT, 'GET', `/v1/grants/${id}`)).body.status).toBe('expired');
    expect((await t.call('human:alice', 'POST', `/v1/grants/${id}/approve`, {})).body.code).toBe('invalid_state');
    await t.broker.worker.runOnce();
    expect((await t.broker.store.getGrant(id))?.status).toBe('expired');
  });

  it('break-glass is active at once, capped, loud, and listed until a human reviews it', async () => {
    const over = await request('human:carol', { target: 'payments-api', role: 'admin', task: 'stop the bleeding', reason: 'INC-77 outage', ttl: '20m', breakGlass: true });
    expect(over.body.code).toBe('ttl_exceeds_max');
    const res = await request('human:carol', { target: 'payments-api', role: 'admin', task: 'stop the bleeding', reason: 'INC-77 outage', ttl: '10m', breakGlass: true });
    expect(res.body.grant.status).toBe('active');
    expect(res.body.grant.breakGlass).toBe(true);
    expect(res.body.grant.decision.policies).toEqual(['break-glass']);
    expect(res.body.grant.needsReview).toBe(true);
    const id = res.body.grant.id;
    const listed = await t.call('human:alice', 'GET', '/v1/grants?needsReview=true');
    expect(listed.body.items.map((g: { id: string }) => g.id)).toContain(id);

    expect((await t.call('human:carol', 'POST', `/v1/grants/${id}/review`, { outcome: 'justified', notes: 'mine' })).body.code).toBe('self_approval');
    const reviewed = await t.call('human:alice', 'POST', `/v1/grants/${id}/review`, { outcome: 'justified', notes: 'INC-77 confirmed, access used as stated' });
    expect(reviewed.status).toBe(200);
    expect(reviewed.body.grant.needsReview).toBe(false);
    expect(reviewed.body.grant.review).toMatchObject({ reviewer: 'human:alice', outcome: 'justified' });
    expect((await t.call('human:bob', 'POST', `/v1/grants/${id}/review`, { outcome: 'justified', notes: 'again' })).body.code).toBe('already_reviewed');
    const after = await t.call('human:alice', 'GET', '/v1/grants?needsReview=true');
    expect(after.body.items.map((g: { id: string }) => g.id)).not.toContain(id);

    const audit = await t.call('human:audrey', 'GET', '/v1/audit?from=0&limit=1000');
    expect(audit.body.items.some((e: { type: string; grantId?: string }) => e.type === 'breakglass.activated' && e.grantId === id)).toBe(true);
  });

  it('extensions are new decisions: approved ones move the expiry without a gap, denied ones change nothing', async () => {
    const res = await request(BOT, { target: 'orders-db', role: 'read', task: 'long export', reason: 'quarter close', ttl: '30m' });
    const id = res.body.grant.id;
    const expiresAt = new Date(res.body.grant.expiresAt).getTime();
    const ext = await t.call(BOT, 'POST', `/v1/grants/${id}/extend`, { ttl: '15m', reason: 'export slower than planned' });
    expect(ext.status).toBe(201);
    expect(ext.body.grant.kind).toBe('extension');
    expect(ext.body.grant.parentId).toBe(id);
    expect(ext.body.grant.status).toBe('approved');
    expect(ext.body.grant.decision.policies).toEqual(['auto-read']);
    const parent = await t.call(BOT, 'GET', `/v1/grants/${id}`);
    expect(new Date(parent.body.expiresAt).getTime()).toBe(expiresAt + 15 * 60_000);
    // The new token carries the new expiry.
    const payload = JSON.parse(Buffer.from((ext.body.accessToken as string).split('.')[1]!, 'base64url').toString());
    expect(payload.exp * 1000).toBe(expiresAt + 15 * 60_000);

    expect((await t.call(BOT, 'POST', `/v1/grants/${id}/extend`, { ttl: '30m', reason: 'more' })).body.code).toBe('ttl_exceeds_max');
    expect((await t.call('human:alice', 'POST', `/v1/grants/${id}/extend`, { ttl: '5m', reason: 'x' })).body.code).toBe('forbidden');

    const w = await request(BOT, { target: 'orders-db', role: 'write', task: 'backfill', reason: 'bug 12', ticket: 'CHG-12', ttl: '10m' });
    const wid = w.body.grant.id;
    await t.call('human:alice', 'POST', `/v1/grants/${wid}/approve`, {});
    await t.call('human:bob', 'POST', `/v1/grants/${wid}/approve`, {});
    const act = await t.call(BOT, 'POST', `/v1/grants/${wid}/activate`, {});
    const before = new Date(act.body.grant.expiresAt).getTime();
    const wext = await t.call(BOT, 'POST', `/v1/grants/${wid}/extend`, { ttl: '10m', reason: 'backfill slow' });
    expect(wext.body.grant.status).toBe('pending_approval');
    await t.call('human:bob', 'POST', `/v1/grants/${wext.body.grant.id}/deny`, { reason: 'stop and retry tomorrow' });
    expect(new Date((await t.call(BOT, 'GET', `/v1/grants/${wid}`)).body.expiresAt).getTime()).toBe(before);
    // An approved extension needs both approvals, like the grant itself.
    const wext2 = await t.call(BOT, 'POST', `/v1/grants/${wid}/extend`, { ttl: '10m', reason: 'backfill slow, again' });
    await t.call('human:alice', 'POST', `/v1/grants/${wext2.body.grant.id}/approve`, {});
    expect(new Date((await t.call(BOT, 'GET', `/v1/grants/${wid}`)).body.expiresAt).getTime()).toBe(before);
    const applied = await t.call('human:bob', 'POST', `/v1/grants/${wext2.body.grant.id}/approve`, {});
    expect(applied.body.grant.status).toBe('approved');
    expect(new Date((await t.call(BOT, 'GET', `/v1/grants/${wid}`)).body.expiresAt).getTime()).toBe(before + 10 * 60_000);
    // The applied extension has ended; access is cut by ending the grant it extended.
    const revokeApplied = await t.call('human:root', 'POST', `/v1/grants/${wext2.body.grant.id}/revoke`, { reason: 'too long' });
    expect(revokeApplied.status).toBe(409);
    expect(revokeApplied.body.code).toBe('invalid_state');
    expect(revokeApplied.body.detail).toContain(wid);
    expect(new Date((await t.call(BOT, 'GET', `/v1/grants/${wid}`)).body.expiresAt).getTime()).toBe(before + 10 * 60_000);

    // An applied extension has nothing pending: past the decision timeout it neither reads as
    // lapsed nor is lapsed by the worker, whose "nobody decided in time" would be false in the
    // log (found by concurrent-lifecycles.test.ts).
    clock.advance(2 * 3600_000);
    await t.broker.worker.runOnce();
    const appliedIds = [ext.body.grant.id, wext2.body.grant.id];
    for (const appliedId of appliedIds) {
      const extension = (await t.call(BOT, 'GET', `/v1/grants/${appliedId}`)).body;
      expect(extension.status, appliedId).toBe('approved');
      expect(extension.decisionDeadline).toBeUndefined();
    }
    const audit = await t.call('human:audrey', 'GET', '/v1/audit?limit=1000');
    expect(audit.body.nextCursor).toBeUndefined();
    const endsOfApplied = audit.body.items.filter((e: { type: string; grantId?: string }) => appliedIds.includes(e.grantId ?? '') && e.type === 'grant.expired');
    expect(endsOfApplied).toEqual([]);
  });

  it('owners revoke with a reason; requesters cannot revoke; the ended grant stays ended', async () => {
    const res = await request(BOT, { target: 'orders-db', role: 'read', task: 'audit query', reason: 'SOX', ttl: '30m' });
    const id = res.body.grant.id;
    expect((await t.call(BOT, 'POST', `/v1/grants/${id}/revoke`, { reason: 'x' })).body.code).toBe('forbidden');
    expect((await t.call('human:alice', 'POST', `/v1/grants/${id}/revoke`, {})).body.code).toBe('invalid_body');
    const revoked = await t.call('human:alice', 'POST', `/v1/grants/${id}/revoke`, { reason: 'suspicious activity' });
    expect(revoked.body.grant.status).toBe('revoked');
    expect(revoked.body.grant.endedBy).toBe('human:alice');
    expect(revoked.body.grant.credential.state).toBe('revoked');
    expect((await introspect('human:alice', res.body.accessToken)).body).toEqual({ active: false });
    // Revoking again is refused and changes nothing.
    expect((await t.call('human:root', 'POST', `/v1/grants/${id}/revoke`, { reason: 'again' })).body.code).toBe('invalid_state');
    // A new task needs a new grant: a new id, a new decision.
    const again = await request(BOT, { target: 'orders-db', role: 'read', task: 'audit query 2', reason: 'SOX', ttl: '30m' });
    expect(again.body.grant.id).not.toBe(id);
  });

  it('keeps tenants apart: another tenant cannot see, approve or introspect', async () => {
    const res = await request(BOT, { target: 'orders-db', role: 'read', task: 'check', reason: 'tenancy', ttl: '5m' });
    const id = res.body.grant.id;
    expect((await t.call('workload:intruder', 'GET', `/v1/grants/${id}`)).body.code).toBe('grant_not_found');
    expect((await t.call('workload:intruder', 'POST', `/v1/grants/${id}/complete`, {})).body.code).toBe('grant_not_found');
    expect((await introspect('workload:intruder', res.body.accessToken)).body).toEqual({ active: false });
    const list = await t.call('workload:intruder', 'GET', '/v1/grants');
    expect(list.body.items).toEqual([]);
    expect((await request('workload:intruder', { target: 'orders-db', role: 'read', task: 'x', reason: 'y', ttl: '5m' })).body.code).toBe('unknown_target');
    // Workloads see only their own grants.
    const agentList = await t.call(AGENT, 'GET', '/v1/grants');
    expect(agentList.body.items.every((g: { principal: string }) => g.principal === AGENT)).toBe(true);
  });

  it('serves a verifiable audit log: signed checkpoint, inclusion proofs, clean verification', async () => {
    expect((await t.call(BOT, 'GET', '/v1/audit')).body.code).toBe('forbidden');
    const cp = await t.call('human:audrey', 'GET', '/v1/audit/checkpoint');
    expect(cp.status).toBe(200);
    expect(cp.body.note.split('\n')[1]).toBe(String(cp.body.size));
    const proof = await t.call('human:audrey', 'GET', '/v1/audit/proof/3');
    expect(verifyInclusion(fromHex(proof.body.leafHash), 3, proof.body.size, proof.body.proof.map(fromHex), fromHex(proof.body.rootHash))).toBe(true);
    expect((await t.call('human:audrey', 'GET', `/v1/audit/proof/${cp.body.size + 5}`)).body.code).toBe('audit_proof_unavailable');

    const source = {
      readAudit: async (from: number, limit: number) => (await t.call('human:audrey', 'GET', `/v1/audit?from=${from}&limit=${Math.min(limit, 1000)}`)).body.items,
    };
    const report = await verifyAuditLog(source, { checkpoints: [cp.body.note], verifierKey: cp.body.verifierKey, origin: cp.body.origin });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const types = new Set((await source.readAudit(0, 1000)).map((e: { type: string }) => e.type));
    for (const type of ['grant.requested', 'grant.approved', 'grant.activated', 'grant.completed', 'grant.expired', 'grant.revoked', 'grant.denied', 'grant.extended', 'grant.reviewed', 'credential.verified_revoked']) {
      expect(types).toContain(type);
    }
  });
});

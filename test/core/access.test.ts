/**
 * Who may see, complete and pick up a grant (src/core/access.ts): requesters, humans of the
 * tenant, and the actors of a delegation chain (issue #4 item 2); nobody across tenants.
 */
import { describe, expect, it } from 'vitest';
import { isActorOf, mayComplete, mayPickUp, mayView } from '../../src/core/access.js';
import type { Principal } from '../../src/core/principal.js';

const workload = (id: string, tenant = 'acme'): Principal => ({ type: 'workload', id, tenant, attributes: {}, issuer: 'dev', subject: id });
const human = (id: string, tenant = 'acme'): Principal => ({ type: 'human', id, tenant, attributes: {}, issuer: 'dev', subject: id });

const delegated = { tenant: 'acme', principal: 'workload:deploy-bot', actorChain: ['workload:support-agent', 'workload:orchestrator'] };
const direct = { tenant: 'acme', principal: 'workload:deploy-bot', actorChain: [] as string[] };

describe('mayView', () => {
  it('lets the requester and humans of the tenant see a grant, not other workloads', () => {
    expect(mayView(workload('workload:deploy-bot'), direct)).toBe(true);
    expect(mayView(human('human:audrey'), direct)).toBe(true);
    expect(mayView(workload('workload:support-agent'), direct)).toBe(false);
  });

  it('lets every actor of the delegation chain see the grant it requested', () => {
    expect(mayView(workload('workload:support-agent'), delegated)).toBe(true);
    expect(mayView(workload('workload:orchestrator'), delegated)).toBe(true);
    expect(mayView(workload('workload:other-agent'), delegated)).toBe(false);
  });

  it('never crosses tenants, not even for a named actor or a human', () => {
    expect(mayView(workload('workload:support-agent', 'globex'), delegated)).toBe(false);
    expect(mayView(workload('workload:deploy-bot', 'globex'), delegated)).toBe(false);
    expect(mayView(human('human:audrey', 'globex'), delegated)).toBe(false);
  });
});

describe('mayComplete', () => {
  it('lets the requester and the actors of its chain complete, nobody else', () => {
    expect(mayComplete(workload('workload:deploy-bot'), delegated)).toBe(true);
    expect(mayComplete(workload('workload:support-agent'), delegated)).toBe(true);
    expect(mayComplete(workload('workload:support-agent'), direct)).toBe(false);
    expect(mayComplete(workload('workload:other-agent'), delegated)).toBe(false);
  });

  it('does not let humans complete (owners revoke instead), nor anyone across tenants', () => {
    expect(mayComplete(human('human:audrey'), delegated)).toBe(false);
    expect(mayComplete(workload('workload:support-agent', 'globex'), delegated)).toBe(false);
    expect(isActorOf(workload('workload:support-agent', 'globex'), delegated)).toBe(false);
  });
});

describe('mayPickUp (token exchange polls)', () => {
  const subjectWith = (actorChain?: string[], tenant = 'acme'): Principal => ({ ...workload('workload:deploy-bot', tenant), ...(actorChain !== undefined ? { actorChain } : {}) });

  it('lets the subject itself, or exactly the chain the grant was requested with, pick it up', () => {
    expect(mayPickUp(subjectWith(), delegated)).toBe(true);
    expect(mayPickUp(subjectWith([]), direct)).toBe(true);
    expect(mayPickUp(subjectWith(['workload:support-agent', 'workload:orchestrator']), delegated)).toBe(true);
  });

  it('refuses any other chain: another actor, a part of the chain, the chain reordered, an actor on a direct grant', () => {
    expect(mayPickUp(subjectWith(['human:alice']), delegated)).toBe(false);
    expect(mayPickUp(subjectWith(['workload:support-agent']), delegated)).toBe(false);
    expect(mayPickUp(subjectWith(['workload:orchestrator', 'workload:support-agent']), delegated)).toBe(false);
    expect(mayPickUp(subjectWith(['workload:support-agent']), direct)).toBe(false);
  });

  it('never for another principal or across tenants', () => {
    expect(mayPickUp({ ...workload('workload:support-agent'), actorChain: [] }, delegated)).toBe(false);
    expect(mayPickUp(subjectWith(undefined, 'globex'), delegated)).toBe(false);
  });
});

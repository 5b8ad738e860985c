/**
 * The Stint MCP tools (issue #4 item 6): an agent asks for just-in-time access for one task,
 * checks on it, and gives it back when the task is done. Every tool acts as the identity the
 * StintClient was built with (the agent's own workload token), never as a token passed in an
 * argument: no tool accepts one.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod/v4';
import type { StintClient } from '../client/client.js';
import type { GrantQuery } from '../client/types.js';
import { GRANT_STATUSES, type GrantStatus } from '../core/grant.js';
import { DEFAULT_MAX_WAIT_SECONDS, DEFAULT_POLL_INTERVAL_MS } from './defaults.js';
import { requestOnBehalf, type Delegation } from './delegation.js';
import { handoutResult, type AccessHandout } from './handout.js';
import { credentialSummary, grantSummary, toolError, toolResult, type CredentialSummary } from './results.js';

/** Options of {@link registerStintTools}. */
export interface StintToolOptions {
  /**
   * The caller's principal id, when known (the broker's /mcp endpoint knows it). `list_my_grants`
   * then asks only for the caller's own grants; without it the broker's visibility rules apply
   * (a workload only ever sees its own grants).
   */
  readonly principal?: string;
  /** Pause between polls while `request_access` waits for approval (ms, default 2000). */
  readonly pollIntervalMs?: number;
  /** Upper bound of `wait_seconds` (default 900). */
  readonly maxWaitSeconds?: number;
  /**
   * Act on behalf of a subject (`stint mcp --on-behalf-of-token`): `request_access` then goes
   * through the RFC 8693 token exchange with the agent as actor; the other tools keep using
   * the agent's own token.
   */
  readonly delegation?: Delegation;
}

const AFTER_TASK = 'Access is temporary and ends when the task does: call complete_task as soon as you are done (it also ends at the expiry at the latest).';

const grantId = z.string().min(1).max(200).describe('Id of the grant, as returned by request_access');

/**
 * Registers `request_access`, `activate_grant`, `grant_status`, `complete_task` and
 * `list_my_grants` on `server`, acting through `client`.
 */
export function registerStintTools(server: McpServer, client: StintClient, opts: StintToolOptions = {}): void {
  const pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const maxWaitSeconds = opts.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS;

  server.registerTool(
    'request_access',
    {
      title: 'Request temporary access',
      description: [
        'Asks Stint for temporary access to one role on one target (a database, an API) for one task, as you (your own identity).',
        'Policy decides: the access is granted at once, sent to humans for approval, or denied.',
        'When granted, the result contains an access token and, for some targets, a credential: these are secrets for this task only.',
        'When approval is needed, the result says pending_approval with the grant id; set wait_seconds to wait for the decision.',
        AFTER_TASK,
      ].join(' '),
      inputSchema: {
        target: z.string().min(1).max(200).describe('Target name as configured in Stint, e.g. "orders-db"'),
        role: z.string().min(1).max(200).describe('Role on the target, e.g. "read" or "write"'),
        task: z.string().min(1).max(1000).describe('The task the access is for (shown to approvers and in the audit log)'),
        reason: z.string().min(1).max(1000).describe('Why the task needs this access'),
        ttl: z.string().min(1).max(20).describe('How long the access may last at most once active, e.g. "15m" or "1h"'),
        ticket: z.string().min(1).max(200).optional().describe('Change or incident ticket id (production writes need one)'),
        wait_seconds: z
          .number()
          .int()
          .min(0)
          .max(maxWaitSeconds)
          .default(0)
          .describe(`If approval is needed, wait up to this many seconds for it (0, the default, returns at once; at most ${maxWaitSeconds})`),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      try {
        if (opts.delegation !== undefined) return await requestOnBehalf(client, opts.delegation, args);
        const created = await client.requestGrant({
          target: args.target,
          role: args.role,
          task: args.task,
          reason: args.reason,
          ttl: args.ttl,
          ...(args.ticket !== undefined ? { ticket: args.ticket } : {}),
        });
        if (created.grant.status !== 'pending_approval' || args.wait_seconds === 0) return handoutResult(created);
        const waited = await client.waitForGrant(created.grant.id, { timeoutMs: args.wait_seconds * 1000, intervalMs: pollIntervalMs, signal: extra.signal });
        // Active without a token means another session of the same identity picked it up first.
        const handout: AccessHandout = waited.outcome === 'active' && waited.accessToken === undefined ? await client.token(created.grant.id) : waited;
        return handoutResult(handout);
      } catch (e) {
        return toolError(e);
      }
    },
  );

  server.registerTool(
    'activate_grant',
    {
      title: 'Pick up approved access',
      description: [
        'For one of your grants that humans approved after request_access returned pending_approval: starts it now (its time limit starts running) and returns the access token and credential, secrets for this task only.',
        'For a grant that is already active, returns a fresh access token for it. Any other grant gives no access and none is returned.',
        AFTER_TASK,
      ].join(' '),
      inputSchema: { grant_id: grantId },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args) => {
      try {
        const grant = await client.getGrant(args.grant_id);
        if (grant.status === 'approved') return handoutResult(await client.activate(grant.id));
        if (grant.status === 'active') return handoutResult(await client.token(grant.id));
        return handoutResult({ grant });
      } catch (e) {
        return toolError(e);
      }
    },
  );

  server.registerTool(
    'grant_status',
    {
      title: 'Check a grant',
      description:
        'Reads the current state of one of your grants: its status (pending_approval, active, completed, expired, revoked, ...), when it expires or ended, ' +
        'and whether its target credential has been revoked, with the evidence that it no longer works. Returns no secrets.',
      inputSchema: { grant_id: grantId },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        const g = await client.getGrant(args.grant_id);
        const credential = credentialSummary(g);
        const approvals = { required: g.decision?.approvalsRequired ?? 0, received: g.approvals.filter((a) => a.verdict === 'approve').length };
        const when = g.endedAt !== undefined ? `, ended ${g.endedAt}` : g.expiresAt !== undefined ? `, expires ${g.expiresAt}` : '';
        return toolResult(
          `Grant ${g.id} (role "${g.role}" on "${g.target}", task "${g.task}") is ${g.status}${when}. Credential: ${credentialText(credential)}.`,
          { ...grantSummary(g), approvals, credential },
        );
      } catch (e) {
        return toolError(e);
      }
    },
  );

  server.registerTool(
    'complete_task',
    {
      title: 'Finish the task and end access',
      description:
        'Tells Stint the task is done and ends the grant now: its access token stops working and the target credential is revoked. ' +
        'Returns the final status and whether Stint verified the credential is dead. Call it as soon as the task is finished; it cannot be undone.',
      inputSchema: {
        grant_id: grantId,
        note: z.string().max(1000).optional().describe('What was done, for the audit log'),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async (args) => {
      try {
        const { grant: g } = await client.complete(args.grant_id, args.note !== undefined ? { note: args.note } : {});
        const credential = credentialSummary(g);
        return toolResult(`Task complete: grant ${g.id} is ${g.status} and its access has ended. Credential: ${credentialText(credential)}.`, {
          ...grantSummary(g),
          credential,
        });
      } catch (e) {
        return toolError(e);
      }
    },
  );

  server.registerTool(
    'list_my_grants',
    {
      title: 'List my grants',
      description: 'Lists your own grants, newest first: id, target, role, status and expiry. Optionally only those with one status (e.g. "active"). Returns no secrets.',
      inputSchema: {
        status: z.enum(GRANT_STATUSES as [GrantStatus, ...GrantStatus[]]).optional().describe('Only grants with this status'),
        limit: z.number().int().min(1).max(100).default(20).describe('At most this many grants (default 20)'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        const query: GrantQuery = {
          limit: args.limit,
          ...(args.status !== undefined ? { status: args.status } : {}),
          ...(opts.principal !== undefined ? { principal: opts.principal } : {}),
        };
        const page = await client.listGrants(query);
        const grants = page.items.map(grantSummary);
        const lines = grants.map((g) => `${g.grant_id}  ${g.target}/${g.role}  ${g.status}${g.expires_at !== undefined ? `  expires ${g.expires_at}` : ''}`);
        const more = page.nextCursor !== undefined;
        return toolResult([`${grants.length} grant(s)${more ? ' (more exist)' : ''}`, ...lines].join('\n'), { grants, more });
      } catch (e) {
        return toolError(e);
      }
    },
  );
}

/** The credential state in a few words. */
function credentialText(c: CredentialSummary): string {
  if (c.state === 'none') return 'none issued';
  if (c.state !== 'revoked') return c.state === 'revoke_failed' ? 'revocation not confirmed yet (Stint keeps retrying)' : c.state;
  return c.revocation_verified ? `revoked and verified dead (${c.checks.map((k) => k.check).join(', ') || 'no checks'})` : 'revoked (not verified)';
}

/**
 * `request_access` on behalf of a subject (issue #4 item 2, RFC 8693 section 1.1 delegation):
 * the agent exchanges the subject's token, with its own token as the actor token, at
 * `POST /oauth/token`. The grant belongs to the subject and records the agent in its actor
 * chain; the subject token must name the agent in `may_act`.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { StintClient } from '../client/client.js';
import { StintOAuthError } from '../client/errors.js';
import type { GrantJson } from '../client/types.js';
import { handoutResult } from './handout.js';

/** The subject the agent acts for, and the agent's own (actor) token. */
export interface Delegation {
  /** The subject's identity token (JWT) naming the agent in `may_act`. */
  readonly subjectToken: string;
  /** The agent's own identity token, sent as `actor_token`. */
  readonly actorToken: string;
}

/** What `request_access` asks for. */
export interface DelegatedRequest {
  readonly target: string;
  readonly role: string;
  readonly task: string;
  readonly reason: string;
  readonly ttl: string;
  readonly ticket?: string;
}

const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** The RFC 8693 form of one delegated request. */
export function exchangeForm(d: Delegation, req: DelegatedRequest): Record<string, string> {
  return {
    grant_type: TOKEN_EXCHANGE,
    subject_token: d.subjectToken,
    subject_token_type: JWT_TOKEN_TYPE,
    actor_token: d.actorToken,
    actor_token_type: JWT_TOKEN_TYPE,
    audience: req.target,
    scope: req.role,
    task: req.task,
    reason: req.reason,
    ttl: req.ttl,
    ...(req.ticket !== undefined ? { ticket: req.ticket } : {}),
  };
}

/** Adds who the access is for (the subject) and through whom (the chain) to a tool result. */
function onBehalfOf(result: CallToolResult, g: GrantJson): CallToolResult {
  const chain = [...g.actorChain].reverse().concat(g.principal).join(' -> ');
  const first = result.content[0];
  const text = first?.type === 'text' ? first.text : '';
  return {
    ...result,
    content: [{ type: 'text', text: `On behalf of ${g.principal} (delegation chain: ${chain}).\n${text}` }],
    structuredContent: { ...result.structuredContent, on_behalf_of: g.principal, actor_chain: [...g.actorChain] },
  };
}

/**
 * Runs the exchange and reports the grant as `request_access` does. A pending answer
 * (`authorization_pending`) reports the pending grant with its id; other OAuth errors propagate
 * (the caller turns them into tool errors). It does not wait for approval.
 */
export async function requestOnBehalf(client: StintClient, d: Delegation, req: DelegatedRequest): Promise<CallToolResult> {
  try {
    const issued = await client.tokenExchange(exchangeForm(d, req));
    // The agent may read the grant: it is in its actor chain (src/core/access.ts mayView).
    const grant = await client.getGrant(issued.grant_id);
    return onBehalfOf(handoutResult({ grant, accessToken: issued.access_token, ...(issued.credential !== undefined ? { credential: issued.credential } : {}) }), grant);
  } catch (e) {
    if (!(e instanceof StintOAuthError) || e.error !== 'authorization_pending' || e.grantId === undefined) throw e;
    // Reported like a pending POST /v1/grants answer, with the subject and chain added.
    const grant = await client.getGrant(e.grantId);
    return onBehalfOf(handoutResult({ grant }), grant);
  }
}

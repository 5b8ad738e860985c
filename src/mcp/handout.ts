/**
 * The result of asking for (or picking up) access: active with its secrets, waiting for
 * humans, denied, or otherwise unusable. Shared by `request_access` and `activate_grant`.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { GrantJson, IssuedCredentialJson } from '../client/types.js';
import { SECRET_WARNING, denialOf, grantSummary, secretLines, toolResult } from './results.js';

/** A grant and what was handed over with it (only when it became active in this call). */
export interface AccessHandout {
  readonly grant: GrantJson;
  readonly accessToken?: string;
  readonly credential?: IssuedCredentialJson;
}

const pickUpHint = (id: string): string => `once it is approved, call activate_grant with grant_id "${id}" to start it and receive the access token`;

function approvalsOf(g: GrantJson): { required: number; received: number } {
  return { required: g.decision?.approvalsRequired ?? 0, received: g.approvals.filter((a) => a.verdict === 'approve').length };
}

/** Turns a handout into the tool result an agent reads. */
export function handoutResult(h: AccessHandout): CallToolResult {
  const g = h.grant;
  const summary = grantSummary(g);
  if (g.status === 'active' && h.accessToken !== undefined) {
    return toolResult(
      [
        `Access granted: grant ${g.id} gives role "${g.role}" on "${g.target}" until ${g.expiresAt ?? 'its expiry'}.`,
        `Call complete_task with grant_id "${g.id}" as soon as the task is done: access ends then, or at expiry at the latest.`,
        ...secretLines(h.accessToken, h.credential),
      ].join('\n'),
      {
        ...summary,
        access_token: h.accessToken,
        token_type: 'Bearer',
        ...(h.credential !== undefined ? { credential: h.credential } : {}),
        secrets: SECRET_WARNING,
      },
    );
  }
  switch (g.status) {
    case 'active':
      return toolResult(`Grant ${g.id} is already active (until ${g.expiresAt ?? 'its expiry'}); call activate_grant to receive a fresh access token for it.`, summary);
    case 'pending_approval': {
      const approvals = approvalsOf(g);
      return toolResult(
        `Waiting for human approval: grant ${g.id} needs ${approvals.required} approval(s), ${approvals.received} so far` +
          `${g.decisionDeadline !== undefined ? `, before ${g.decisionDeadline}` : ''}. Nothing is usable yet; check with grant_status, and ${pickUpHint(g.id)}.`,
        { ...summary, approvals, ...(g.decisionDeadline !== undefined ? { decision_deadline: g.decisionDeadline } : {}) },
      );
    }
    case 'approved':
      return toolResult(`Grant ${g.id} is approved but not started: call activate_grant with grant_id "${g.id}" to start it and receive the access token.`, summary);
    case 'denied': {
      const denial = denialOf(g);
      const why =
        denial.denied_by.length > 0
          ? `by ${denial.denied_by.join(', ')}`
          : `by policy: ${denial.policies.length > 0 ? denial.policies.join(', ') : 'no policy permits this request'}`;
      return toolResult(`Denied: grant ${g.id} (role "${g.role}" on "${g.target}") was denied ${why}. No access was given.`, { ...summary, ...denial });
    }
    default:
      return toolResult(`Grant ${g.id} is ${g.status}: it gives no access.`, summary);
  }
}

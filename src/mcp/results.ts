/**
 * What the MCP tools hand back: structured content (for the agent's code) plus one short text
 * (for the model). Grants are reduced to what an agent needs; secrets appear only in the
 * results that hand them over, and are labelled as secrets for this task only.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { StintApiError, StintNetworkError, StintOAuthError } from '../client/errors.js';
import type { GrantJson, IssuedCredentialJson } from '../client/types.js';

/** A grant as the tools report it (snake_case, like the tool arguments). */
export type GrantSummary = {
  readonly grant_id: string;
  readonly target: string;
  readonly role: string;
  readonly task: string;
  readonly status: string;
  readonly end_reason?: string;
  readonly created_at: string;
  readonly expires_at?: string;
  readonly ended_at?: string;
};

/** Revocation state of a grant's target-side credential, and the evidence that it is dead. */
export type CredentialSummary = {
  readonly state: string;
  readonly revoked_at?: string;
  /** True only when the connector proved the credential no longer works. */
  readonly revocation_verified: boolean;
  readonly checks: { check: string; passed: boolean }[];
};

/** Line that precedes every secret in a text result. */
export const SECRET_WARNING =
  'SECRETS FOR THIS TASK ONLY: use them for this task, do not log, store or share them; they stop working when the grant ends (complete_task or expiry).';

/** The agent-facing fields of a grant. */
export function grantSummary(g: GrantJson): GrantSummary {
  return {
    grant_id: g.id,
    target: g.target,
    role: g.role,
    task: g.task,
    status: g.status,
    ...(g.endReason !== undefined ? { end_reason: g.endReason } : {}),
    created_at: g.createdAt,
    ...(g.expiresAt !== undefined ? { expires_at: g.expiresAt } : {}),
    ...(g.endedAt !== undefined ? { ended_at: g.endedAt } : {}),
  };
}

/** The credential state of a grant, with the revocation checks (their details stay with the broker). */
export function credentialSummary(g: GrantJson): CredentialSummary {
  const evidence = g.credential.evidence;
  return {
    state: g.credential.state,
    ...(g.credential.revokedAt !== undefined ? { revoked_at: g.credential.revokedAt } : {}),
    revocation_verified: evidence?.verified === true,
    checks: (evidence?.checks ?? []).map((c) => ({ check: c.check, passed: c.passed })),
  };
}

/** Who or what said no: the humans who denied it, else the deciding policy ids. */
export function denialOf(g: GrantJson): { denied_by: string[]; policies: string[] } {
  return {
    denied_by: g.approvals.filter((a) => a.verdict === 'deny').map((a) => a.approver),
    policies: g.decision?.policies ?? [],
  };
}

/** Text lines that hand over an access token and credential, behind the secrets warning. */
export function secretLines(accessToken: string, credential: IssuedCredentialJson | undefined): string[] {
  return [
    SECRET_WARNING,
    `access_token (send as "Authorization: Bearer <token>"): ${accessToken}`,
    ...Object.entries(credential ?? {}).map(([key, value]) => `credential.${key}: ${value}`),
  ];
}

/** A successful tool result. */
export function toolResult(text: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: structured };
}

/** Error code used when the broker could not be reached at all (not a broker error code). */
export const UNREACHABLE = 'broker_unreachable';

/**
 * Any failure as an MCP tool error (`isError: true`): the broker's problem `code` and detail,
 * so the agent can react. Neither carries a token (StintClient errors never contain one);
 * anything unexpected is reported generically.
 */
export function toolError(e: unknown): CallToolResult {
  let error: { code: string; detail: string; status?: number };
  if (e instanceof StintApiError) error = { code: e.code, detail: e.detail, status: e.status };
  else if (e instanceof StintOAuthError) error = { code: e.error, detail: e.description, status: e.status };
  else if (e instanceof StintNetworkError) error = { code: UNREACHABLE, detail: e.timedOut ? 'the Stint broker did not answer in time' : 'the Stint broker could not be reached' };
  else error = { code: 'internal', detail: 'unexpected error in the Stint MCP server' };
  return { isError: true, content: [{ type: 'text', text: `Error ${error.code}: ${error.detail}` }], structuredContent: { error } };
}

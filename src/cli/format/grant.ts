/** How grants read on a terminal: the `grants` table, the short summary and `show`'s full view. */
import { formatDuration } from '../../core/duration.js';
import type { DecisionJson, GrantJson } from '../../client/types.js';
import { renderFields, renderTable } from './table.js';
import { when } from './time.js';

/** `BG` for break-glass, `REVIEW` while its review is due, `EXT` for an extension request. */
export function grantFlags(g: GrantJson): string {
  return [g.breakGlass ? 'BG' : '', g.needsReview ? 'REVIEW' : '', g.kind === 'extension' ? 'EXT' : ''].filter((f) => f !== '').join(' ');
}

/** `1/2 approvals`: distinct approvers so far against those required; undefined when none are. */
export function approvalProgress(g: GrantJson): string | undefined {
  const required = g.decision?.approvalsRequired ?? 0;
  if (required === 0) return undefined;
  const given = new Set(g.approvals.filter((a) => a.verdict === 'approve').map((a) => a.approver)).size;
  return `${given}/${required} approvals`;
}

function statusText(g: GrantJson): string {
  const progress = g.status === 'pending_approval' ? approvalProgress(g) : undefined;
  const ended = g.endReason !== undefined && g.endReason !== g.status ? `ended: ${g.endReason}` : undefined;
  const extra = [progress, ended].filter((x) => x !== undefined);
  return extra.length > 0 ? `${g.status} (${extra.join(', ')})` : g.status;
}

/** `approval by human-write-prod (2 approvals required)`. */
export function decisionText(d: DecisionJson): string {
  const by = d.policies.length > 0 ? ` by ${d.policies.join(', ')}` : ' (no policy matched)';
  const approvals = d.outcome === 'approval' ? ` (${d.approvalsRequired} approval${d.approvalsRequired === 1 ? '' : 's'} required)` : '';
  return `${d.outcome}${by}${approvals}`;
}

/** The end of a grant's life so far: when it ended, expires, or lapses undecided. */
function deadlineText(g: GrantJson, now: number): string {
  if (g.endedAt !== undefined) return `ended ${when(g.endedAt, now)}`;
  if (g.expiresAt !== undefined) return `expires ${when(g.expiresAt, now)}`;
  if (g.decisionDeadline !== undefined) return `lapses ${when(g.decisionDeadline, now)}`;
  return '-';
}

/** The `stint grants` table. */
export function grantsTable(grants: readonly GrantJson[], now: number): string {
  return renderTable(
    ['ID', 'STATUS', 'PRINCIPAL', 'TARGET/ROLE', 'TTL', 'EXPIRES/ENDED', 'FLAGS'],
    grants.map((g) => [g.id, g.status, g.principal, `${g.target}/${g.role}`, formatDuration(g.ttlSeconds), deadlineText(g, now), grantFlags(g)]),
  );
}

function endedText(g: GrantJson, now: number): string | undefined {
  if (g.endedAt === undefined) return undefined;
  const by = g.endedBy !== undefined ? ` by ${g.endedBy}` : '';
  const reason = g.endReason !== undefined ? ` (${g.endReason})` : '';
  return `${when(g.endedAt, now)}${by}${reason}`;
}

/** A few lines that say where a grant stands (request, approve, revoke... output). */
export function grantSummary(g: GrantJson, now: number): string {
  const flags = grantFlags(g);
  return renderFields([
    ['grant', g.id],
    ['status', statusText(g)],
    ['principal', g.principal],
    ['target/role', `${g.target}/${g.role}`],
    ['ttl', formatDuration(g.ttlSeconds)],
    ['decision', g.decision ? decisionText(g.decision) : undefined],
    ['lapses', g.decisionDeadline !== undefined && (g.status === 'pending_approval' || g.status === 'approved') ? when(g.decisionDeadline, now) : undefined],
    ['expires', g.expiresAt !== undefined && g.endedAt === undefined ? when(g.expiresAt, now) : undefined],
    ['ended', endedText(g, now)],
    ['flags', flags === '' ? undefined : flags],
  ]);
}

function credentialText(g: GrantJson): string {
  const c = g.credential;
  const connector = c.connector !== undefined ? ` (connector ${c.connector})` : '';
  // revokeAttempts counts the attempts that failed (a success is not counted there).
  const failed = c.revokeAttempts === 0 ? '' : `, ${c.revokeAttempts} failed revoke attempt${c.revokeAttempts === 1 ? '' : 's'}`;
  return `${c.state}${connector}${failed}`;
}

/** Everything about a grant (`stint show`). */
export function grantDetails(g: GrantJson, now: number): string {
  const d = g.decision;
  const c = g.credential;
  const fields = renderFields([
    ['grant', g.id],
    ['kind', g.kind === 'extension' ? `extension of ${g.parentId ?? '?'}` : g.kind],
    ['status', statusText(g)],
    ['tenant', g.tenant],
    ['principal', `${g.principal} (${g.principalType})`],
    ['actor chain', g.actorChain.length > 0 ? g.actorChain.join(' -> ') : undefined],
    ['target/role', `${g.target}/${g.role}`],
    ['task', g.task],
    ['reason', g.reason],
    ['ticket', g.ticket],
    ['ttl', formatDuration(g.ttlSeconds)],
    ['break-glass', g.breakGlass ? 'yes' : 'no'],
    ['created', when(g.createdAt, now)],
    ['decision', d ? `${decisionText(d)}, decided ${when(d.decidedAt, now)}` : undefined],
    ['policy errors', d && d.errors.length > 0 ? d.errors.join('; ') : undefined],
    ['decide by', g.decisionDeadline !== undefined && (g.status === 'pending_approval' || g.status === 'approved') ? when(g.decisionDeadline, now) : undefined],
    ['activated', g.activatedAt !== undefined ? when(g.activatedAt, now) : undefined],
    ['expires', g.expiresAt !== undefined ? when(g.expiresAt, now) : undefined],
    ['ended', endedText(g, now)],
    ['end note', g.endNote],
    ['credential', credentialText(g)],
    ['revoked', c.revokedAt !== undefined ? when(c.revokedAt, now) : undefined],
    ['next revoke', c.revokeNextAt !== undefined ? when(c.revokeNextAt, now) : undefined],
    ['revoke error', c.revokeLastError],
    ['review', g.review ? `${g.review.outcome} by ${g.review.reviewer}, ${when(g.review.at, now)}: ${g.review.notes}` : g.needsReview ? 'due (break-glass)' : undefined],
  ]);
  const sections = [fields];
  if (g.approvals.length > 0) {
    const rows = g.approvals.map((a) => [a.approver, a.verdict, when(a.at, now), a.reason ?? '']);
    sections.push(`approvals:\n${indent(renderTable(['APPROVER', 'VERDICT', 'AT', 'REASON'], rows))}`);
  }
  if (c.evidence) {
    const checks = c.evidence.checks.map((x) => `[${x.passed ? 'pass' : 'FAIL'}] ${x.check}: ${x.detail}`);
    const head = `revocation evidence: ${c.evidence.verified ? 'verified' : 'NOT verified'}, ${when(c.evidence.at, now)}`;
    sections.push(checks.length > 0 ? `${head}\n${indent(checks.join('\n'))}` : `${head} (no checks recorded)`);
  }
  return sections.join('\n\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

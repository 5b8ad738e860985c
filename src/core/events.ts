/**
 * Lifecycle events, named noun.verb. Each one is appended to the audit log in the same
 * database transaction as the state change it describes, and published on the in-process
 * event bus (for webhooks later).
 */
export const EVENT_TYPES = [
  'grant.requested',
  'grant.denied',
  'grant.pending',
  'grant.approval_recorded',
  'grant.approved',
  'grant.activated',
  'grant.extension_requested',
  'grant.extended',
  'grant.completed',
  'grant.revoked',
  'grant.expired',
  'grant.reviewed',
  'breakglass.activated',
  'credential.provisioning',
  'credential.issued',
  'credential.revoking',
  'credential.revoked',
  'credential.revoke_failed',
  'credential.verified_revoked',
  'credential.still_usable',
  'target.reconciled',
  'auth.failed',
  'audit.checkpoint',
  'broker.started',
  'broker.stopped',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/**
 * An audit event before it is sequenced. `data` must be JSON (no undefined, no functions,
 * finite numbers) and must never carry a secret: callers pass only ids, names and reasons.
 */
export interface AuditEventInput {
  readonly type: EventType;
  /** Principal id, or `system` for automatic actions (expiry, retries). */
  readonly actor: string;
  readonly grantId?: string;
  readonly tenant?: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** An audit event as stored: sequenced, timestamped, canonicalised. */
export interface AuditRecord {
  /** 0-based index in the log == Merkle leaf index. */
  readonly seq: number;
  /** Epoch ms. */
  readonly time: number;
  readonly type: EventType;
  readonly actor: string;
  readonly grantId?: string;
  /** RFC 8785 canonical JSON of the whole event {seq,time,type,actor,grantId,tenant,data}. */
  readonly canonical: string;
  /** Hex SHA-256(0x00 || canonical) (RFC 6962 leaf hash). */
  readonly leafHash: string;
}

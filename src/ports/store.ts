import type { CredentialState, Grant, GrantStatus } from '../core/grant.js';
import type { AuditEventInput, AuditRecord } from '../core/events.js';

/** Filters for listing grants. All optional; `tenant` is always set by the service layer. */
export interface GrantFilter {
  readonly tenant?: string;
  readonly status?: GrantStatus;
  readonly target?: string;
  readonly principal?: string;
  /** Break-glass grants that have no post-review yet. */
  readonly needsReview?: boolean;
  readonly kind?: Grant['kind'];
  readonly parentId?: string;
}

export interface PageRequest {
  /** 1..500 */
  readonly limit: number;
  /** Opaque cursor returned by the previous page. */
  readonly cursor?: string;
}

export interface Page<T> {
  readonly items: T[];
  /** Present when more items follow. */
  readonly nextCursor?: string;
}

/**
 * What decides whether a grant's access token is active (RFC 7662 introspection): the grant's
 * status and the times `isLive` checks against the clock on every read, and the fields the
 * answer names. A narrow view of the grant, so the hot read does not carry the whole row.
 */
export interface GrantLiveness {
  readonly status: GrantStatus;
  readonly expiresAt?: number;
  readonly decisionDeadline?: number;
  readonly tenant: string;
  readonly principal: string;
  readonly task: string;
}

/** A signed audit checkpoint (C2SP signed note) as stored. */
export interface StoredCheckpoint {
  readonly size: number;
  /** Hex SHA-256 Merkle root (RFC 6962) of the first `size` events. */
  readonly rootHash: string;
  /** The full signed note text. */
  readonly note: string;
  readonly createdAt: number;
}

/** The running state of the Merkle log: its size and the RFC 6962 compact-range frontier. */
export interface AuditHead {
  readonly size: number;
  /** Hex roots of the perfect subtrees covering [0, size), largest first. */
  readonly frontier: readonly string[];
}

/**
 * Events with seq in [fromSeq, fromSeq + limit) as two text values instead of 7 fields per event
 * (issue #2, item 13: a driver that parses every field in JavaScript, like PGlite's, made reading
 * the bottleneck of `stint audit verify`). The format is defined and decoded by
 * src/audit/packed-batch.ts (`unpackAuditBatch`), which gives exactly what `readAudit` gives.
 */
export interface PackedAuditBatch {
  readonly fromSeq: number;
  readonly limit: number;
  /** Number of events in the range. */
  readonly count: number;
  /** The events' `canonical` texts in ascending seq, joined with U+0002 ("" for none). */
  readonly canonical: string;
  /**
   * Per event in ascending seq, joined with U+0002: seq, time, type, actor, grant ("" when the
   * grant id is NULL, else "+" and the id) and the leaf hash in lowercase hex, joined with U+0001.
   */
  readonly columns: string;
}

/**
 * Events with seq in [fromSeq, fromSeq + limit) as the database answered the query for them: the
 * PostgreSQL wire protocol response, columns in binary format, unparsed (issue #2, item 13: PGlite
 * parses and decodes every field in JavaScript on the thread that opened it, which made reading
 * the bottleneck of `stint audit verify`; these bytes can be parsed on another thread). The
 * statement and the format are src/adapters/store-sql/audit-wire.ts; src/audit/wire-batch.ts
 * decodes the bytes into exactly the records `readAudit` returns, or refuses them.
 */
export interface WireAuditBatch {
  readonly fromSeq: number;
  readonly limit: number;
  /** The response, exactly; its buffer belongs to the caller (it can be transferred). */
  readonly bytes: Uint8Array;
}

/**
 * The store contract (the node-oidc-provider model: small, one shared conformance suite,
 * test/store-conformance.test.ts, runs it against every real backend).
 *
 * Implementations never load all grants into memory; every list is paged and indexed.
 */
export interface Store {
  readonly kind: 'pglite' | 'postgres';
  /**
   * The database works off the calling thread while a commit is in flight (a PostgreSQL server;
   * PGlite on its worker thread): the group commit then overlaps one half of the callers'
   * requests with the other half's commit (service/grant-batcher.ts).
   */
  readonly commitsOffThread: boolean;
  /**
   * How many group commits (`commitNewGrants`) may usefully be in flight at once: 2 where the
   * database runs them in order on one session (PGlite on its worker thread: the next is queued
   * behind the running one, chained to the head it will leave), 1 elsewhere.
   */
  readonly groupCommitsInFlight: number;
  /** Applies migrations. Idempotent and safe when several replicas start at once. */
  migrate(): Promise<void>;
  /**
   * Runs `fn` in one database transaction: commits when it resolves, rolls back when it
   * throws (and rethrows). Grant changes and their audit events always commit together.
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * `transaction((tx) => tx.insertGrantsWithAudit(grants, events, time))`, with the same rows,
   * records and errors; the store may do it in fewer round trips (the group commit of new grants).
   */
  commitNewGrants(grants: readonly Grant[], events: readonly AuditEventInput[], time: number): Promise<AuditRecord[]>;
  getGrant(id: string): Promise<Grant | undefined>;
  /**
   * The grant's liveness fields as last committed, or undefined for an unknown id. Never older
   * than the last commit that returned: a change is visible here before the committing
   * `transaction()` call resolves, a rolled-back change never, and on a store shared by several
   * replicas, a change any of them committed is visible to all (issue #2: a token is inactive
   * the instant its grant ends). The caller applies `isLive` with its clock.
   */
  grantLiveness(id: string): Promise<GrantLiveness | undefined>;
  listGrants(filter: GrantFilter, page: PageRequest): Promise<Page<Grant>>;
  /** Counts per stored status (for metrics). */
  countByStatus(): Promise<Partial<Record<GrantStatus, number>>>;
  /**
   * Ids of grants on `target` whose credential may exist there (provisioning, issued, revoking,
   * revoke_failed). Anything else Stint made on the target is an orphan (issue #3).
   */
  credentialHolders(target: string): Promise<string[]>;
  /** Earliest `expiresAt` of an active grant, and earliest due revocation (for the worker's timer). */
  nextDueAt(): Promise<number | undefined>;

  auditHead(): Promise<AuditHead>;
  /** Events with seq in [fromSeq, fromSeq + limit), ascending. */
  readAudit(fromSeq: number, limit: number): Promise<AuditRecord[]>;
  /**
   * The events `readAudit(fromSeq, limit)` returns, packed into two text values
   * ({@link PackedAuditBatch}); decode with `unpackAuditBatch` (src/audit/packed-batch.ts).
   */
  readAuditPacked(fromSeq: number, limit: number): Promise<PackedAuditBatch>;
  /**
   * The events `readAudit(fromSeq, limit)` returns, as the database's unparsed answer
   * ({@link WireAuditBatch}); decode with `decodeWireBatch` (src/audit/wire-batch.ts). Only on
   * stores whose driver hands out its wire bytes (PGlite).
   */
  readAuditWire?(fromSeq: number, limit: number): Promise<WireAuditBatch>;
  /** Raw leaf hashes (32 bytes each) for seq in [from, to), ascending; for proofs. */
  readLeafHashes(from: number, to: number): Promise<Uint8Array[]>;
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  /**
   * Records that the DPoP proof `jti` signed by the key with thumbprint `jkt` was used, until
   * `expiresAt` (epoch ms). Resolves true when the pair was new, false when it is already
   * recorded and not yet expired (a replay, RFC 9449 section 11.1). Atomic across replicas:
   * of concurrent calls with the same pair exactly one resolves true. Also deletes a bounded
   * number of rows that expired before `now`, so the table stays as small as the live window.
   * Text that PostgreSQL cannot store exactly is refused with `invalid_request`.
   */
  rememberDpopJti(jkt: string, jti: string, expiresAt: number, now: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface StoreTx {
  insertGrant(grant: Grant): Promise<void>;
  /**
   * Inserts several new grants at once (group commit), exactly as `insertGrant` would one by
   * one, in fewer statements. All or nothing: a duplicate id throws `conflict` and an
   * unstorable value `invalid_request`, and the caller's transaction must then roll back.
   */
  insertGrants(grants: readonly Grant[]): Promise<void>;
  /**
   * `insertGrants(grants)` then `appendAudit(events, time)`, in as few statements as the store
   * can (group commit of new grants). Same rows, same records, same errors.
   */
  insertGrantsWithAudit(grants: readonly Grant[], events: readonly AuditEventInput[], time: number): Promise<AuditRecord[]>;
  /** Reads and locks one grant (`SELECT ... FOR UPDATE`). */
  lockGrant(id: string): Promise<Grant | undefined>;
  /**
   * Writes the whole grant. `grant.version` must be exactly the stored version + 1,
   * otherwise throws `StintError('conflict')` and writes nothing.
   */
  updateGrant(grant: Grant): Promise<void>;
  /**
   * Reads and locks (`SELECT ... FOR UPDATE`) every stored grant among `ids` at once, in id
   * order (so replicas locking overlapping sets cannot deadlock). The map holds exactly the
   * grants that exist, keyed by id; unknown ids are absent. Same rows as `lockGrant` one by one.
   */
  lockGrants(ids: readonly string[]): Promise<Map<string, Grant>>;
  /**
   * Writes every grant, in order, exactly as `updateGrant` would one by one, in fewer
   * statements. All or nothing: when any grant's `version` is not exactly the stored version + 1
   * (as it is after the earlier grants of the call), throws `StintError('conflict')` naming the
   * first such grant, and the caller's transaction must then roll back (it cannot commit).
   */
  updateGrants(grants: readonly Grant[]): Promise<void>;
  /** Active grants with expiresAt <= now, locked with `FOR UPDATE SKIP LOCKED`, oldest first. */
  claimExpired(now: number, limit: number): Promise<Grant[]>;
  /**
   * Grants in `pending_approval` or `approved` (not yet activated) with decisionDeadline <= now,
   * locked with `FOR UPDATE SKIP LOCKED`.
   */
  claimStalePending(now: number, limit: number): Promise<Grant[]>;
  /**
   * Grants whose credential state is one of `states` and whose revokeNextAt <= now,
   * locked with `FOR UPDATE SKIP LOCKED`, earliest first.
   */
  claimCredentialWork(states: readonly CredentialState[], now: number, limit: number): Promise<Grant[]>;
  /**
   * Appends events to the audit log at `time` (epoch ms): assigns consecutive seq numbers
   * under a lock on the log head, canonicalises (RFC 8785), hashes (RFC 6962 leaf) and
   * advances the frontier. Commits or rolls back with the surrounding transaction.
   */
  appendAudit(events: readonly AuditEventInput[], time: number): Promise<AuditRecord[]>;
  saveCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
}

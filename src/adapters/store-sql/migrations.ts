/**
 * The one schema, for PGlite and PostgreSQL alike, as numbered migrations. Applied versions
 * are recorded in `schema_migrations`; `migrate()` applies the missing ones in one transaction
 * under a transaction-scoped advisory lock, so replicas starting together neither race on
 * `CREATE TABLE` nor apply a migration twice.
 *
 * Layout notes (1,000,000 grants must fit in a small broker): fixed-width columns come first
 * to avoid alignment padding; columns exist only for what is filtered, ordered or claimed on,
 * and everything else of a grant lives once in `doc`. Every time is bigint epoch ms written by
 * the broker's injectable clock (never SQL `now()`). Ids use the "C" collation: byte order is
 * what makes time-sortable ids sort by time, and it is the same on both backends.
 */
import type { SqlDriver } from './driver.js';

/** One schema change. Statements run in order, one at a time (PGlite's extended protocol takes one per call). */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

/** Every migration, oldest first. Never edit an applied one: append a new version. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'grants and audit log',
    statements: [
      `CREATE TABLE grants (
        created_at bigint NOT NULL,
        expires_at bigint,
        decision_deadline bigint,
        revoke_next_at bigint,
        version integer NOT NULL,
        break_glass boolean NOT NULL,
        needs_review boolean NOT NULL,
        id text COLLATE "C" PRIMARY KEY,
        kind text NOT NULL,
        parent_id text COLLATE "C",
        tenant text NOT NULL,
        principal text NOT NULL,
        principal_type text NOT NULL,
        target text NOT NULL,
        role text NOT NULL,
        status text NOT NULL,
        credential_state text NOT NULL,
        doc jsonb NOT NULL
      )`,
      // Worker claims and nextDueAt: each due set is its own small partial index.
      `CREATE INDEX grants_active_expiry ON grants (expires_at) WHERE status = 'active'`,
      `CREATE INDEX grants_pending_deadline ON grants (decision_deadline) WHERE status IN ('pending_approval', 'approved')`,
      `CREATE INDEX grants_credential_work ON grants (revoke_next_at)
        WHERE credential_state IN ('provisioning', 'revoking', 'revoke_failed')`,
      // Keyset-paged listings, newest first, per tenant and filter.
      `CREATE INDEX grants_tenant ON grants (tenant, id DESC)`,
      `CREATE INDEX grants_tenant_principal ON grants (tenant, principal, id DESC)`,
      `CREATE INDEX grants_tenant_target ON grants (tenant, target, id DESC)`,
      `CREATE INDEX grants_tenant_status ON grants (tenant, status, id DESC)`,
      `CREATE INDEX grants_needs_review ON grants (id) WHERE needs_review`,
      `CREATE INDEX grants_parent ON grants (parent_id) WHERE parent_id IS NOT NULL`,
      `CREATE TABLE audit_events (
        seq bigint PRIMARY KEY,
        time bigint NOT NULL,
        type text NOT NULL,
        actor text NOT NULL,
        grant_id text COLLATE "C",
        canonical text NOT NULL,
        leaf_hash bytea NOT NULL
      )`,
      `CREATE INDEX audit_events_grant ON audit_events (grant_id) WHERE grant_id IS NOT NULL`,
      // The single row every append locks: it serialises appends across replicas (no gaps).
      `CREATE TABLE audit_head (
        id integer PRIMARY KEY CHECK (id = 1),
        size bigint NOT NULL,
        frontier jsonb NOT NULL,
        last_leaf text NOT NULL
      )`,
      `INSERT INTO audit_head (id, size, frontier, last_leaf) VALUES (1, 0, '[]', '')`,
      `CREATE TABLE audit_checkpoints (
        size bigint PRIMARY KEY,
        root_hash text NOT NULL,
        note text NOT NULL,
        created_at bigint NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'credential holders per target',
    statements: [
      // Reconciliation asks "which grants may hold a credential on this target?" (issue #3).
      `CREATE INDEX grants_credential_holders ON grants (target)
        WHERE credential_state IN ('provisioning', 'issued', 'revoking', 'revoke_failed')`,
    ],
  },
  {
    version: 3,
    name: 'dpop proof ids',
    statements: [
      // RFC 9449 section 11.1: a DPoP proof is used once. One row per (key thumbprint, jti),
      // kept until the proof could no longer pass the iat window; shared by every replica.
      `CREATE TABLE dpop_jti (
        expires_at bigint NOT NULL,
        jkt text COLLATE "C" NOT NULL,
        jti text COLLATE "C" NOT NULL,
        PRIMARY KEY (jkt, jti)
      )`,
      // The bounded sweep of expired rows probes this index.
      `CREATE INDEX dpop_jti_expiry ON dpop_jti (expires_at)`,
    ],
  },
  {
    version: 4,
    name: 'applied extensions pend no more',
    statements: [
      // An applied extension ends at approved (core/lifecycle.ts applyExtension). Until this
      // version it kept its decision deadline, so once that passed it read as expired and the
      // worker lapsed it with "nobody decided on the extension in time", a false entry in the
      // log. An extension that is approved and ended was applied: nothing about it is pending.
      `UPDATE grants SET decision_deadline = NULL, version = version + 1
        WHERE kind = 'extension' AND status = 'approved' AND decision_deadline IS NOT NULL AND doc ->> 'endedAt' IS NOT NULL`,
    ],
  },
];

/** Advisory lock key for migrations: the ASCII bytes of "Stint". */
const MIGRATION_LOCK_KEY = '358435352180';

/** Applies every migration not yet recorded. Idempotent; safe to run from several replicas at once. */
export async function migrate(driver: SqlDriver): Promise<void> {
  await driver.transaction(async (tx) => {
    // Taken before anything else: concurrent CREATE TABLE IF NOT EXISTS can still fail on
    // the catalog's unique index, so nothing may touch the catalog without this lock.
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    await tx.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL)');
    const rows = await tx.query('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => Number(row.version)));
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
    }
  });
}

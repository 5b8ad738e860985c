/**
 * `stint reconcile` (issue #3, item 7) for one PostgreSQL target:
 *   orphans:  roles named `stint_g<hex>` whose grant id is not live. Roles carry a note naming
 *             the target that made them (ownership.ts); roles noted for another target are
 *             left alone, roles without a note are treated as this target's (the name says
 *             Stint made them, and Stint always writes the note in the same transaction).
 *   standing: LOGIN roles Stint did not make that hold a privileged role, directly or through
 *             other roles: standing privilege that no grant backs. The broker's own admin role
 *             is left out (it needs the ADMIN OPTION), and so are superusers' implicit powers,
 *             which no membership shows.
 */
import type pg from 'pg';
import type { Orphan, StandingPrivilege } from '../../ports/connector.js';
import { grantIdOfRole, STINT_ROLE_SQL_PATTERN } from './names.js';
import { readOwnershipNote } from './ownership.js';

interface StintRoleRow {
  readonly name: string;
  readonly canlogin: boolean;
  /** ISO 8601 UTC, or null for no expiry (NULL or 'infinity'). */
  readonly validuntil: string | null;
  readonly note: string | null;
}

/** The Stint roles of `target` whose grant is not in `liveGrantIds`. */
export async function findOrphans(pool: pg.Pool, target: string, liveGrantIds: ReadonlySet<string>): Promise<Orphan[]> {
  const { rows } = await pool.query<StintRoleRow>(
    // 'infinity' would become an invalid JS Date; format on the server and treat it as no expiry.
    `SELECT rolname AS name, rolcanlogin AS canlogin, shobj_description(oid, 'pg_authid') AS note,
            CASE WHEN isfinite(rolvaliduntil) THEN to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END AS validuntil
       FROM pg_roles WHERE rolname ~ $1 ORDER BY rolname`,
    [STINT_ROLE_SQL_PATTERN],
  );
  const orphans: Orphan[] = [];
  for (const row of rows) {
    const grantId = grantIdOfRole(row.name);
    if (grantId === undefined || liveGrantIds.has(grantId)) continue;
    const owner = readOwnershipNote(row.note);
    if (owner !== undefined && owner.target !== target) continue;
    const validUntil = row.validuntil === null ? 'no expiry' : `valid until ${row.validuntil}`;
    const provenance = owner === undefined ? '; it carries no Stint note' : '';
    orphans.push({ name: row.name, grantId, detail: `role ${row.name} (${row.canlogin ? 'LOGIN' : 'NOLOGIN'}, ${validUntil}) has no live grant${provenance}` });
  }
  return orphans;
}

interface StandingRow {
  readonly name: string;
  readonly holds: string;
  readonly direct: string | null;
}

/** LOGIN roles outside Stint holding any of `privileged`, directly or transitively. */
export async function findStandingPrivilege(pool: pg.Pool, privileged: readonly string[]): Promise<StandingPrivilege[]> {
  if (privileged.length === 0) return [];
  // pg_auth_members has no cycles (PostgreSQL refuses circular grants), so the walk ends.
  const { rows } = await pool.query<StandingRow>(
    `WITH RECURSIVE members(member, via, depth) AS (
        SELECT m.member, p.rolname, 1 FROM pg_auth_members m JOIN pg_roles p ON p.oid = m.roleid WHERE p.rolname = ANY($1::text[])
        UNION
        SELECT m.member, members.via, members.depth + 1 FROM pg_auth_members m JOIN members ON m.roleid = members.member
      )
      SELECT r.rolname AS name,
             string_agg(DISTINCT members.via, ', ' ORDER BY members.via) AS holds,
             string_agg(DISTINCT members.via, ', ' ORDER BY members.via) FILTER (WHERE members.depth = 1) AS direct
        FROM members JOIN pg_roles r ON r.oid = members.member
       WHERE r.rolcanlogin AND r.rolname <> current_user AND r.rolname !~ $2
       GROUP BY r.rolname ORDER BY r.rolname`,
    [privileged, STINT_ROLE_SQL_PATTERN],
  );
  return rows.map((row) => ({
    name: row.name,
    holds: row.holds,
    detail:
      row.direct === row.holds
        ? `LOGIN role ${row.name} is a member of ${row.holds}; no grant backs it`
        : `LOGIN role ${row.name} holds ${row.holds}${row.direct === null ? ' through other roles' : ` (directly: ${row.direct}; the rest through other roles)`}; no grant backs it`,
  }));
}

/**
 * The note (`COMMENT ON ROLE`) Stint puts on each grant role: which target and grant made it.
 * Roles live cluster-wide, so two Stint targets on one server (two databases) see each other's
 * roles; reconcile() of one target must never remove the other's.
 */

const PREFIX = 'stint:';

/** Who made a role. */
export interface Ownership {
  readonly target: string;
  readonly grant: string;
}

/** The comment text for a role. */
export function ownershipNote(owner: Ownership): string {
  return `${PREFIX}${JSON.stringify({ target: owner.target, grant: owner.grant })}`;
}

/** Reads a role's comment back; undefined when it is missing or not one of Stint's notes. */
export function readOwnershipNote(note: string | null): Ownership | undefined {
  if (note === null || !note.startsWith(PREFIX)) return undefined;
  try {
    const parsed = JSON.parse(note.slice(PREFIX.length)) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { target, grant } = parsed as Record<string, unknown>;
    return typeof target === 'string' && typeof grant === 'string' ? { target, grant } : undefined;
  } catch {
    return undefined;
  }
}

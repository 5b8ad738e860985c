/**
 * Quoting for the statements PostgreSQL cannot take parameters in (utility commands such as
 * CREATE ROLE, GRANT, COMMENT ON ROLE). Everything else in this connector is parameterised.
 */
import pg from 'pg';
import { StintError } from '../../core/errors.js';

/** A NUL byte ends a string on the server side; nothing legitimate contains one. */
function refuseNul(value: string): void {
  if (value.includes('\0')) throw new StintError('internal', 'a value for a PostgreSQL statement contains a NUL byte');
}

/** `"name"` with embedded quotes doubled (pg's escapeIdentifier, the libpq rule). */
export function quoteIdent(name: string): string {
  refuseNul(name);
  return pg.escapeIdentifier(name);
}

/**
 * A string literal. pg's escapeLiteral doubles quotes and, when the value has a backslash,
 * uses the E'' form, so the result is right whatever `standard_conforming_strings` says.
 */
export function quoteLiteral(value: string): string {
  refuseNul(value);
  return pg.escapeLiteral(value);
}

/** A comma-separated list of quoted identifiers. */
export function quoteIdentList(names: readonly string[]): string {
  return names.map(quoteIdent).join(', ');
}

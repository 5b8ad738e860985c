/**
 * Client-side SCRAM-SHA-256 password verifiers (RFC 5802 section 3, RFC 7677), in the format
 * PostgreSQL stores in `pg_authid.rolpassword`:
 *   SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
 * PostgreSQL stores a password given in this form as is ("If the presented password string is
 * already in MD5-encrypted or SCRAM-encrypted format, then it is stored as-is": CREATE ROLE
 * docs). Sending the verifier instead of the password means the plaintext never reaches the
 * server, so it cannot end up in a server log (log_statement, or log_min_error_statement when
 * a statement fails), in pg_stat_statements or in pg_stat_activity.query. psql's `\password`
 * does the same (PQencryptPasswordConn).
 */
import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** PostgreSQL's default (scram_iterations, SCRAM_SHA_256_DEFAULT_ITERATIONS). */
const ITERATIONS = 4096;
/** PostgreSQL's default salt length (SCRAM_DEFAULT_SALT_LEN). */
const SALT_BYTES = 16;

/**
 * PostgreSQL runs the password through SASLprep before hashing. For printable ASCII without
 * spaces SASLprep is the identity; the generated passwords are base64url, so restrict to that
 * instead of implementing RFC 4013.
 */
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/** The SCRAM-SHA-256 verifier of `password` with a fresh random salt. */
export async function scramSha256Verifier(password: string): Promise<string> {
  if (!PRINTABLE_ASCII.test(password)) throw new TypeError('scramSha256Verifier takes printable ASCII passwords only');
  const salt = randomBytes(SALT_BYTES);
  const salted = await pbkdf2Async(password, salt, ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

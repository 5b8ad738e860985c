import type { IssuedCredential } from './connector.js';

/**
 * Seals issued target credentials for the time a grant is live, so the post-revocation proof can
 * try the real credential (issue #3) without the store ever holding it in plaintext. The grant id
 * is bound in as associated data: a sealed blob moved to another grant does not open.
 */
export interface CredentialSealer {
  seal(grantId: string, credential: IssuedCredential): string;
  /** Throws when the blob was tampered with, sealed for another grant, or under another key. */
  open(grantId: string, sealed: string): IssuedCredential;
}

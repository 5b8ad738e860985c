/** Result types of the audit log verifier (src/audit/verify.ts). */

/**
 * What is wrong at an index of the log:
 * - `modified`: the entry's content differs from what was appended (its stored leaf hash, its
 *   columns, or the next entry's `prev` link disagree with it);
 * - `inserted` / `deleted` / `reordered`: entries were added, removed or moved, told apart by
 *   each entry's own `seq` and `prev` link;
 * - `non_canonical`: the text is not RFC 8785 canonical JSON of a well-formed entry;
 * - `broken_chain`: a `prev` link is wrong in a way no single edit explains;
 * - `truncated`: a signed checkpoint covers more entries than the log holds;
 * - `rolled_back`: the log is shorter than a checkpoint and its entries also differ from
 *   another checkpoint's: the database was restored from an older state;
 * - `root_mismatch`: the RFC 6962 root at a checkpoint's size (or at the stored head) differs;
 * - `bad_checkpoint`: a checkpoint note is malformed, not signed by the verifier key, or for
 *   another origin.
 */
export type AuditProblemKind =
  | 'modified'
  | 'inserted'
  | 'deleted'
  | 'reordered'
  | 'non_canonical'
  | 'broken_chain'
  | 'truncated'
  | 'rolled_back'
  | 'root_mismatch'
  | 'bad_checkpoint';

/**
 * One finding. `index` is a 0-based position in the log as read; for `bad_checkpoint` it is
 * the position of the checkpoint in the list given to the verifier instead.
 */
export interface AuditProblem {
  readonly kind: AuditProblemKind;
  readonly index: number;
  readonly detail: string;
}

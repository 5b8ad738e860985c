/**
 * The tamper-evident audit log library: RFC 8785 canonical entries, RFC 6962 / RFC 9162 Merkle
 * hashing and proofs, C2SP signed-note checkpoints, and the log verifier.
 */
export { canonicalize } from './jcs.js';
export { EMPTY_ROOT, frontierAppend, frontierRoot, fromHex, leafHash, nodeHash, rootFromLeaves, toHex } from './merkle.js';
export { buildAuditEntry, type AuditEntryBody } from './event.js';
export { consistencyProof, inclusionProof, rootAt, verifyConsistency, verifyInclusion } from './proofs.js';
export {
  createCheckpointSigner,
  formatCheckpointBody,
  parseCheckpoint,
  parseSignedNote,
  parseVerifierKey,
  type Checkpoint,
  type CheckpointSigner,
  type NoteSignature,
  type NoteVerifierKey,
  type SignedNote,
} from './signed-note.js';
export { loadOrCreateAuditKey } from './audit-key.js';
export {
  verifyAuditLog,
  type AuditProblem,
  type AuditProblemKind,
  type AuditSource,
  type AuditVerifyOptions,
  type AuditVerifyReport,
} from './verify.js';
export { verifyAuditLogInWorker, auditWorkerAvailable } from './verify-parallel.js';
export { readAuditFast, unpackAuditBatch, type PackedAuditReader } from './packed-batch.js';

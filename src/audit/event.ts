/**
 * The exact bytes of one audit log entry. Both the store (when appending) and the verifier
 * (when recomputing) build entries here, so the two can never disagree on the encoding.
 *
 * Entry = RFC 8785 canonical JSON of
 *   { seq, time, type, actor, grantId?, tenant?, data, prev }
 * where `prev` is the hex leaf hash of entry seq-1 ("" for seq 0). The Merkle tree makes the
 * log tamper-evident against a signed checkpoint; the `prev` link additionally pins each entry
 * to its predecessor, so an edit that also rewrites the stored leaf hash is still caught at the
 * exact index by the next entry.
 */
import type { AuditEventInput, AuditRecord } from '../core/events.js';
import { canonicalize } from './jcs.js';
import { leafHash, toHex } from './merkle.js';

/** The decoded form of an entry's canonical JSON. */
export interface AuditEntryBody {
  readonly seq: number;
  readonly time: number;
  readonly type: string;
  readonly actor: string;
  readonly grantId?: string;
  readonly tenant?: string;
  readonly data: Record<string, unknown>;
  readonly prev: string;
}

/** Builds the record for `input` at position `seq`, chained to the previous entry's leaf hash. */
export function buildAuditEntry(
  input: AuditEventInput,
  seq: number,
  time: number,
  prevLeafHashHex: string,
): { record: AuditRecord; leaf: Uint8Array } {
  const body: AuditEntryBody = {
    seq,
    time,
    type: input.type,
    actor: input.actor,
    ...(input.grantId !== undefined ? { grantId: input.grantId } : {}),
    ...(input.tenant !== undefined ? { tenant: input.tenant } : {}),
    data: input.data as Record<string, unknown>,
    prev: prevLeafHashHex,
  };
  const canonical = canonicalize(body);
  const leaf = leafHash(canonical);
  const record: AuditRecord = {
    seq,
    time,
    type: input.type,
    actor: input.actor,
    ...(input.grantId !== undefined ? { grantId: input.grantId } : {}),
    canonical,
    leafHash: toHex(leaf),
  };
  return { record, leaf };
}

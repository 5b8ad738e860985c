/**
 * The audit log's read side and its checkpoints (REFERENCE.md section 5). Entries are appended
 * by the store inside each state change's transaction; this service signs checkpoints (C2SP
 * signed notes over the RFC 6962 root) periodically, on demand and at shutdown, keeps the latest
 * one in a file outside the database, and serves entries and inclusion proofs.
 *
 * A hash tree alone cannot see a truncated tail or a rolled-back database: only a checkpoint
 * kept elsewhere can. So at start the service compares the store with the checkpoint file, and
 * it never signs a checkpoint smaller than, or different at the same size from, one it signed.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StintError } from '../core/errors.js';
import { formatCheckpointBody, type CheckpointSigner } from '../audit/signed-note.js';
import { frontierRoot, fromHex, toHex } from '../audit/merkle.js';
import { readAuditFast } from '../audit/packed-batch.js';
import { inclusionProof } from '../audit/proofs.js';
import type { Store, StoredCheckpoint } from '../ports/store.js';
import type { AuditRecord } from '../core/events.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from './context.js';

export interface AuditServiceOptions {
  readonly origin: string;
  /** File the latest signed checkpoint is also written to (outside the database). */
  readonly checkpointFile: string;
  readonly intervalSeconds: number;
}

export interface CheckpointView {
  readonly note: string;
  readonly size: number;
  readonly rootHash: string;
  readonly origin: string;
  readonly verifierKey: string;
}

/** Parses the size and root out of a checkpoint body (first three lines of the note). */
function sizeAndRoot(note: string): { size: number; rootHash: string } | undefined {
  const [, size, root] = note.split('\n');
  if (size === undefined || root === undefined || !/^\d+$/.test(size)) return undefined;
  return { size: Number(size), rootHash: Buffer.from(root, 'base64').toString('hex') };
}

export class AuditService {
  private timer: NodeJS.Timeout | undefined;
  private lastSigned: { size: number; rootHash: string } | undefined;
  /** Set when the store is behind a checkpoint it once had: signing stops, readiness reports it. */
  integrityProblem: string | undefined;
  private signing: Promise<StoredCheckpoint> | undefined;

  constructor(
    private readonly store: Store,
    private readonly signer: CheckpointSigner,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: AuditServiceOptions,
  ) {}

  /** Compares the store with the checkpoints kept in the file and in the store. */
  async start(): Promise<void> {
    const head = await this.store.auditHead();
    const fromStore = await this.store.latestCheckpoint();
    let fromFile: { size: number; rootHash: string } | undefined;
    try {
      fromFile = sizeAndRoot(await readFile(this.opts.checkpointFile, 'utf8'));
    } catch {
      fromFile = undefined;
    }
    for (const cp of [fromFile, fromStore]) {
      if (cp && (!this.lastSigned || cp.size > this.lastSigned.size)) this.lastSigned = { size: cp.size, rootHash: cp.rootHash };
    }
    if (this.lastSigned && head.size < this.lastSigned.size) {
      this.integrityProblem = `audit log has ${head.size} entries but a signed checkpoint covers ${this.lastSigned.size}: the store was truncated or rolled back`;
      this.log.error({ size: head.size, checkpointSize: this.lastSigned.size }, this.integrityProblem);
    }
    if (this.opts.intervalSeconds > 0) {
      this.timer = setInterval(() => {
        this.checkpoint().catch((e: unknown) => this.log.warn({ err: String(e) }, 'periodic checkpoint failed'));
      }, this.opts.intervalSeconds * 1000);
      this.timer.unref();
    }
  }

  /** Signs a final checkpoint and stops the timer. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    try {
      await this.checkpoint();
    } catch (e) {
      this.log.warn({ err: String(e) }, 'final checkpoint failed');
    }
  }

  /** Signs a checkpoint of the current log if it grew since the last one; returns the latest. */
  async checkpoint(): Promise<StoredCheckpoint> {
    // Serialise: two concurrent callers must not sign two different notes for one size.
    this.signing ??= this.signNow().finally(() => (this.signing = undefined));
    return this.signing;
  }

  private async signNow(): Promise<StoredCheckpoint> {
    if (this.integrityProblem) throw new StintError('audit_unavailable', this.integrityProblem);
    const head = await this.store.auditHead();
    const latest = await this.store.latestCheckpoint();
    if (latest && latest.size === head.size) {
      await this.writeFile(latest.note);
      return latest;
    }
    const root = frontierRoot(head.frontier.map(fromHex));
    const rootHash = toHex(root);
    if (this.lastSigned && (head.size < this.lastSigned.size || (head.size === this.lastSigned.size && rootHash !== this.lastSigned.rootHash))) {
      this.integrityProblem = `refusing to sign size ${head.size}: inconsistent with the checkpoint already signed at size ${this.lastSigned.size}`;
      this.log.error({}, this.integrityProblem);
      throw new StintError('audit_unavailable', this.integrityProblem);
    }
    const note = this.signer.sign(formatCheckpointBody({ origin: this.opts.origin, size: head.size, rootHash: root }));
    const checkpoint: StoredCheckpoint = { size: head.size, rootHash, note, createdAt: this.clock.now() };
    await this.store.transaction(async (tx) => tx.saveCheckpoint(checkpoint));
    await this.writeFile(note);
    this.lastSigned = { size: head.size, rootHash };
    return checkpoint;
  }

  private async writeFile(note: string): Promise<void> {
    await mkdir(dirname(this.opts.checkpointFile), { recursive: true });
    // A name of its own per write: replicas may share the directory and even the pid (pid 1 in
    // each container on one volume; replicas in one process in tests), and a shared temporary
    // name let one replica rename away the file another was about to rename (ENOENT, a 500).
    const tmp = `${this.opts.checkpointFile}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, note, { mode: 0o644 });
    await rename(tmp, this.opts.checkpointFile);
  }

  /** The latest checkpoint, signing a fresh one when the log grew. */
  async currentCheckpoint(): Promise<CheckpointView> {
    const cp = await this.checkpoint();
    return { note: cp.note, size: cp.size, rootHash: cp.rootHash, origin: this.opts.origin, verifierKey: this.signer.verifierKey };
  }

  /**
   * Entries [from, from+limit), read as one packed batch (src/audit/packed-batch.ts: the same
   * records as `readAudit`, 3 fields instead of 7 per entry from PGlite's parser), which is what
   * `stint audit verify` pages through.
   */
  async page(from: number, limit: number): Promise<{ size: number; items: AuditRecord[]; next?: number }> {
    const head = await this.store.auditHead();
    const items = await readAuditFast(this.store, from, limit);
    const next = from + items.length;
    return {
      size: head.size,
      items,
      ...(next < head.size ? { next } : {}),
    };
  }

  /** RFC 9162 inclusion proof of entry `index` in the tree of the latest checkpoint. */
  async proof(index: number): Promise<{ index: number; size: number; leafHash: string; rootHash: string; proof: string[]; note: string }> {
    const cp = await this.checkpoint();
    if (!Number.isSafeInteger(index) || index < 0 || index >= cp.size) {
      throw new StintError('audit_proof_unavailable', `no audit entry ${index} in the checkpointed log of size ${cp.size}`);
    }
    const leaves = await this.store.readLeafHashes(0, cp.size);
    const proof = inclusionProof(leaves, index, cp.size);
    return { index, size: cp.size, leafHash: toHex(leaves[index]!), rootHash: cp.rootHash, proof: proof.map(toHex), note: cp.note };
  }
}

import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type AuditEventInput, type AuditRecord } from '../../src/core/events.js';
import type { AuditHead } from '../../src/ports/store.js';
import { buildAuditEntry } from '../../src/audit/event.js';
import { canonicalize } from '../../src/audit/jcs.js';
import { frontierAppend, fromHex, leafHash, rootFromLeaves, toHex } from '../../src/audit/merkle.js';
import { createCheckpointSigner, formatCheckpointBody } from '../../src/audit/signed-note.js';
import { verifyAuditLog, type AuditProblemKind, type AuditSource, type AuditVerifyReport } from '../../src/audit/verify.js';

const T0 = 1_700_000_000_000;
const ORIGIN = 'stint.test/audit';
const signer = createCheckpointSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);

function inputFor(seq: number, salt: string): AuditEventInput {
  return {
    type: EVENT_TYPES[seq % EVENT_TYPES.length]!,
    actor: seq % 3 === 0 ? 'system' : `workload:ci-${seq % 7}`,
    ...(seq % 2 === 0 ? { grantId: `g-${salt}${seq >> 1}` } : {}),
    ...(seq % 5 === 0 ? { tenant: 'acme' } : {}),
    data: { n: seq, salt, reason: 'x'.repeat(seq % 4), nested: { ok: seq % 2 === 0, list: [seq, 'é', null] } },
  };
}

/** Appends `count` entries after `prefix`, chained like the store does. */
function extend(prefix: readonly AuditRecord[], count: number, salt = ''): AuditRecord[] {
  const records = [...prefix];
  for (let k = 0; k < count; k++) {
    const seq = records.length;
    const prev = records[seq - 1]?.leafHash ?? '';
    records.push(buildAuditEntry(inputFor(seq, salt), seq, T0 + seq * 1000, prev).record);
  }
  return records;
}
const buildLog = (n: number, salt = ''): AuditRecord[] => extend([], n, salt);

/** The stored table: rows read back in ascending stored seq, like `ORDER BY seq`. */
function source(rows: readonly AuditRecord[], opts: { rangeReads?: boolean; head?: AuditHead } = {}): AuditSource {
  const sorted = [...rows].sort((a, b) => a.seq - b.seq);
  return {
    readAudit: async (from, limit) =>
      opts.rangeReads === true
        ? sorted.filter((r) => r.seq >= from && r.seq < from + limit)
        : sorted.filter((r) => r.seq >= from).slice(0, limit),
    ...(opts.head !== undefined ? { auditHead: async () => opts.head! } : {}),
  };
}

/** What the store keeps in audit_head after appending `records`. */
function headOf(records: readonly AuditRecord[]): AuditHead {
  let frontier: Uint8Array[] = [];
  records.forEach((r, i) => (frontier = frontierAppend(frontier, i, fromHex(r.leafHash))));
  return { size: records.length, frontier: frontier.map(toHex) };
}

function checkpoint(records: readonly AuditRecord[], size: number, origin = ORIGIN): string {
  const rootHash = rootFromLeaves(records.slice(0, size).map((r) => fromHex(r.leafHash)));
  return signer.sign(formatCheckpointBody({ origin, size, rootHash }));
}

/** Renumbers stored seq by position: what an attacker must do to slot rows in or swap them. */
const renumber = (rows: readonly AuditRecord[]): AuditRecord[] => rows.map((r, seq) => ({ ...r, seq }));

type Field = 'data' | 'actor' | 'time' | 'type' | 'seq' | 'prev';
function edit(rec: AuditRecord, field: Field, rewriteHash: boolean, updateColumns: boolean): AuditRecord {
  const body = JSON.parse(rec.canonical) as Record<string, unknown> & { data: object; actor: string; time: number; seq: number };
  if (field === 'data') body.data = { ...body.data, tampered: true };
  if (field === 'actor') body.actor = `${body.actor}-evil`;
  if (field === 'time') body.time += 1;
  if (field === 'type') body.type = body.type === 'grant.revoked' ? 'grant.expired' : 'grant.revoked';
  if (field === 'seq') body.seq += 1000;
  if (field === 'prev') body.prev = 'ab'.repeat(32);
  const canonical = canonicalize(body);
  return {
    ...rec,
    canonical,
    leafHash: rewriteHash ? toHex(leafHash(canonical)) : rec.leafHash,
    ...(updateColumns ? { time: body.time, type: body.type as AuditRecord['type'], actor: body.actor } : {}),
  };
}

/** First position where the stored entries differ from the original ones (the test's own oracle). */
function firstDifference(original: readonly AuditRecord[], tampered: readonly AuditRecord[]): number {
  for (let i = 0; i < Math.max(original.length, tampered.length); i++) {
    const a = original[i];
    const b = tampered[i];
    if (a === undefined || b === undefined || a.canonical !== b.canonical || a.leafHash !== b.leafHash || a.actor !== b.actor) return i;
  }
  return -1;
}

function expectFirstBad(report: AuditVerifyReport, index: number, kind: AuditProblemKind): void {
  expect(report.ok).toBe(false);
  expect(report.firstBadIndex, JSON.stringify(report.problems)).toBe(index);
  expect(report.problems.filter((p) => p.index === index).map((p) => p.kind), JSON.stringify(report.problems)).toContain(kind);
  for (const p of report.problems) if (p.kind !== 'bad_checkpoint') expect(p.index).toBeGreaterThanOrEqual(index);
}

const sizes = fc.integer({ min: 2, max: 160 });
const batch = fc.integer({ min: 1, max: 40 });

describe('verifyAuditLog on clean logs', () => {
  it('reports a clean log, its size and root, with and without checkpoints and head', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 200 }), batch, fc.boolean(), async (n, batchSize, rangeReads) => {
        const log = buildLog(n);
        const cps = [0, n >> 2, n >> 1, n].map((s) => checkpoint(log, s));
        const report = await verifyAuditLog(source(log, { rangeReads, head: headOf(log) }), {
          checkpoints: cps,
          verifierKey: signer.verifierKey,
          origin: ORIGIN,
          batchSize,
        });
        expect(report.problems).toEqual([]);
        expect(report.ok).toBe(true);
        expect(report.firstBadIndex).toBeUndefined();
        expect(report.size).toBe(n);
        expect(report.rootHash).toBe(toHex(rootFromLeaves(log.map((r) => fromHex(r.leafHash)))));
        expect(report.checkpointsChecked).toBe(4);
      }),
      { numRuns: 60 },
    );
  });
});

describe('verifyAuditLog names the first bad index', () => {
  it('an edited event, its stored hash left alone', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizes.chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1))),
        fc.constantFrom<Field>('data', 'actor', 'time', 'type', 'seq', 'prev'),
        fc.boolean(),
        batch,
        async ([n, i], field, updateColumns, batchSize) => {
          const log = buildLog(n);
          const tampered = log.map((r, k) => (k === i ? edit(r, field, false, updateColumns) : r));
          expect(firstDifference(log, tampered)).toBe(i);
          expectFirstBad(await verifyAuditLog(source(tampered), { batchSize }), i, 'modified');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an edited event whose stored leaf hash was rewritten too (any entry but the last)', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizes.chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 2))),
        fc.constantFrom<Field>('data', 'actor', 'time', 'type', 'seq'),
        fc.boolean(),
        batch,
        async ([n, i], field, updateColumns, batchSize) => {
          const log = buildLog(n);
          const tampered = log.map((r, k) => (k === i ? edit(r, field, true, updateColumns) : r));
          expectFirstBad(await verifyAuditLog(source(tampered), { batchSize }), i, 'modified');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a deleted event (any entry but the last), also across a gap longer than a batch', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizes.chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 2))),
        fc.integer({ min: 1, max: 5 }),
        batch,
        fc.boolean(),
        async ([n, i], run, batchSize, rangeReads) => {
          const log = buildLog(n);
          const count = Math.min(run, n - 1 - i);
          const tampered = log.filter((_, k) => k < i || k >= i + count);
          // A store read by seq ranges needs the head to read on past an all-deleted range.
          const head = rangeReads ? { head: headOf(log) } : {};
          const report = await verifyAuditLog(source(tampered, { rangeReads, ...head }), { batchSize });
          expectFirstBad(report, i, 'deleted');
          expect(report.size).toBe(n - count);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('inserted events: a replayed entry, forged entries that fit the chain, or foreign rows', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizes.chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1), fc.nat(n - 1))),
        fc.constantFrom('replay', 'fitting', 'random', 'not-json'),
        fc.integer({ min: 1, max: 3 }),
        batch,
        async ([n, i, k], how, count, batchSize) => {
          const log = buildLog(n);
          const forged: AuditRecord[] = [];
          const forge = (seq: number, prev: string): AuditRecord =>
            buildAuditEntry({ type: 'grant.approved', actor: 'human:mallory', data: { forged: forged.length } }, seq, T0 + seq * 1000, prev).record;
          for (let f = 0; f < (how === 'replay' ? 1 : count); f++) {
            if (how === 'replay') {
              // A copy of entry i placed right before entry i is a copy of i placed after it.
              forged.push(log[k === i ? (i + 1) % n : k]!);
            } else if (how === 'fitting') {
              forged.push(forge(i + f, forged[f - 1]?.leafHash ?? log[i - 1]?.leafHash ?? ''));
            } else if (how === 'random') {
              forged.push(forge(k * 7 + 3 + f, 'cd'.repeat(32)));
            } else {
              forged.push({ ...log[0]!, canonical: `{"seq":${f}`, leafHash: toHex(leafHash(`{"seq":${f}`)) });
            }
          }
          const tampered = renumber([...log.slice(0, i), ...forged, ...log.slice(i)]);
          expect(firstDifference(log, tampered)).toBe(i);
          expectFirstBad(await verifyAuditLog(source(tampered), { batchSize }), i, 'inserted');
        },
      ),
      { numRuns: 400 },
    );
  });

  it('two swapped events', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizes.chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1), fc.nat(n - 1))),
        batch,
        async ([n, a, b], batchSize) => {
          fc.pre(a !== b);
          const [i, j] = a < b ? [a, b] : [b, a];
          const log = buildLog(n);
          const swapped = log.slice();
          [swapped[i], swapped[j]] = [log[j]!, log[i]!];
          const report = await verifyAuditLog(source(renumber(swapped)), { batchSize });
          expectFirstBad(report, i, 'reordered');
          expect(new Set(report.problems.map((p) => p.kind))).toEqual(new Set(['reordered']));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('an event moved to a later place', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizes.chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1), fc.nat(n - 1))),
        async ([n, from, to]) => {
          fc.pre(to > from + 1);
          const log = buildLog(n);
          const moved = [...log.slice(0, from), ...log.slice(from + 1, to + 1), log[from]!, ...log.slice(to + 1)];
          const report = await verifyAuditLog(source(renumber(moved)), { batchSize: 16 });
          expectFirstBad(report, from, 'reordered');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a truncated tail, against a saved checkpoint or the stored head', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizes.chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1))),
        fc.boolean(),
        batch,
        async ([n, m], useHead, batchSize) => {
          const log = buildLog(n);
          const kept = log.slice(0, m);
          const report = useHead
            ? await verifyAuditLog(source(kept, { head: headOf(log) }), { batchSize })
            : await verifyAuditLog(source(kept), {
                checkpoints: [checkpoint(log, m >> 1), checkpoint(log, n)],
                verifierKey: signer.verifierKey,
                origin: ORIGIN,
                batchSize,
              });
          expectFirstBad(report, m, 'truncated');
          expect(report.problems.map((p) => p.kind)).toEqual(['truncated']);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the last event rewritten with its hash: only a checkpoint or the head sees it', async () => {
    const log = buildLog(41);
    const tampered = log.map((r, k) => (k === 40 ? edit(r, 'data', true, true) : r));
    expect((await verifyAuditLog(source(tampered))).ok).toBe(true);

    const withCheckpoints = await verifyAuditLog(source(tampered), {
      checkpoints: [checkpoint(log, 32), checkpoint(log, 41)],
      verifierKey: signer.verifierKey,
      origin: ORIGIN,
    });
    // The checkpoint at 32 still matches, so the change lies in [32, 41).
    expect(withCheckpoints.problems).toEqual([expect.objectContaining({ kind: 'root_mismatch', index: 32 })]);
    expect(withCheckpoints.firstBadIndex).toBe(32);

    // 41 = 32 + 8 + 1: the stored frontier's last subtree is entry 40 alone.
    const withHead = await verifyAuditLog(source(tampered, { head: headOf(log) }));
    expect(withHead.problems).toEqual([expect.objectContaining({ kind: 'root_mismatch', index: 40 })]);
    expect(withHead.firstBadIndex).toBe(40);
  });

  it('a root mismatch gives way to the exact row-level index inside its range', async () => {
    const log = buildLog(64);
    const tampered = log.map((r, k) => (k === 37 ? edit(r, 'actor', true, true) : r));
    const report = await verifyAuditLog(source(tampered, { head: headOf(log) }), {
      checkpoints: [checkpoint(log, 16), checkpoint(log, 64)],
      verifierKey: signer.verifierKey,
    });
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'root_mismatch', index: 16 }));
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'modified', index: 37 }));
    expect(report.firstBadIndex).toBe(37);
  });

  it('a database rolled back and grown again: shorter than a checkpoint, and different', async () => {
    const log = buildLog(50);
    const cps = [10, 20, 50].map((s) => checkpoint(log, s));
    const restored = extend(log.slice(0, 10), 15, 'after-restore');
    const report = await verifyAuditLog(source(restored), { checkpoints: cps, verifierKey: signer.verifierKey, origin: ORIGIN });
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'root_mismatch', index: 10 }),
      expect.objectContaining({ kind: 'rolled_back', index: 10 }),
    ]);
    expect(report.firstBadIndex).toBe(10);
  });
});

describe('verifyAuditLog row checks', () => {
  it('flags text that is not canonical JSON even when its hash was rewritten', async () => {
    const log = buildLog(12);
    const spaced = JSON.stringify(JSON.parse(log[5]!.canonical), null, 1);
    const tampered = log.map((r, k) => (k === 5 ? { ...r, canonical: spaced, leafHash: toHex(leafHash(spaced)) } : r));
    const report = await verifyAuditLog(source(tampered));
    expect(report.problems.filter((p) => p.index === 5).map((p) => p.kind).sort()).toEqual(['modified', 'non_canonical']);
    expect(report.firstBadIndex).toBe(5);
  });

  it('flags a stored column that disagrees with the hashed entry', async () => {
    const log = buildLog(12);
    const tampered = log.map((r, k) => (k === 7 ? { ...r, actor: 'human:someone-else' } : r));
    const report = await verifyAuditLog(source(tampered));
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'modified', index: 7, detail: expect.stringContaining('actor') })]);
  });

  it('flags a JSON entry with a foreign member or a missing field as not an audit entry', async () => {
    const log = buildLog(6);
    const body = JSON.parse(log[2]!.canonical) as Record<string, unknown>;
    const extra = canonicalize({ ...body, admin: true });
    const tampered = log.map((r, k) => (k === 2 ? { ...r, canonical: extra, leafHash: toHex(leafHash(extra)) } : r));
    const report = await verifyAuditLog(source(tampered));
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'non_canonical', index: 2, detail: expect.stringContaining('admin') }));
    expect(report.firstBadIndex).toBe(2);
  });
});

describe('verifyAuditLog checkpoints', () => {
  it('reports checkpoints signed by another key, for another origin, or malformed, without blaming an entry', async () => {
    const log = buildLog(20);
    const stranger = createCheckpointSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
    const rootHash = rootFromLeaves(log.map((r) => fromHex(r.leafHash)));
    const report = await verifyAuditLog(source(log), {
      checkpoints: [
        stranger.sign(formatCheckpointBody({ origin: ORIGIN, size: 20, rootHash })),
        checkpoint(log, 20, 'other.test/log'),
        'not a note',
        checkpoint(log, 20),
      ],
      verifierKey: signer.verifierKey,
      origin: ORIGIN,
    });
    expect(report.problems.map((p) => [p.kind, p.index])).toEqual([
      ['bad_checkpoint', 0],
      ['bad_checkpoint', 1],
      ['bad_checkpoint', 2],
    ]);
    expect(report.problems[0]!.detail).toMatch(/no signature by stint\.test\/audit/);
    expect(report.problems[1]!.detail).toMatch(/origin "other\.test\/log"/);
    expect(report.firstBadIndex).toBeUndefined();
    expect(report.checkpointsChecked).toBe(1);
    expect(report.ok).toBe(false);
  });

  it('refuses to trust checkpoints when no verifier key is given', async () => {
    const log = buildLog(5);
    const report = await verifyAuditLog(source(log), { checkpoints: [checkpoint(log, 5)] });
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'bad_checkpoint', index: 0 })]);
    expect(report.checkpointsChecked).toBe(0);
  });
});

describe('verifyAuditLog throughput', () => {
  it('verifies a 20,000-entry log and reports events per second', async () => {
    const log = buildLog(20_000);
    const report = await verifyAuditLog(source(log, { head: headOf(log) }), {
      checkpoints: [checkpoint(log, 20_000)],
      verifierKey: signer.verifierKey,
    });
    expect(report.ok).toBe(true);
    expect(report.eventsPerSecond).toBeGreaterThan(0);
    console.log(`audit verify: ${Math.round(report.eventsPerSecond!)} events/s over ${report.size} events`);
  });
});

/**
 * Finds entries of the audit log that were inserted, deleted, moved or rewritten, and the
 * exact index where that happened, from two facts every entry carries (src/audit/event.ts):
 * its `seq` and its `prev` link (the leaf hash of entry seq-1).
 *
 * Rows are grouped while streaming into segments: maximal runs of rows where each row has the
 * next seq and links to the row before it. An untouched log is one segment; each tampering
 * splits it at a few places, so only a handful of small segment records are kept however long
 * the log is. At the end the segments are walked in order against the seq the original log
 * would have next (`expected`) and the last row taken as genuine (`anchor`):
 * - a segment that continues both the numbering and the chain is in place;
 * - a lone row followed by the numbering `expected + 1` stands where entry `expected` should be
 *   ("misfit"): a rewritten or a swapped entry;
 * - a segment followed, within a few segments, by one that continues `anchor` is inserted;
 * - a segment that continues the numbering but not the chain means the anchor row is not the
 *   row its successor hashed: the anchor was rewritten together with its stored leaf hash;
 * - a segment that starts past `expected` has the entries in between missing.
 * Missing entries and misfit slots whose seq turns up elsewhere in the log were reordered.
 */
import type { AuditProblem } from './verify-types.js';

/** How many leaf hashes of accepted rows to remember to find where an insertion started. */
const RECENT_ROWS = 8;
/** How many segments ahead to look for the one that resumes the chain after an insertion. */
const LOOKAHEAD_SEGMENTS = 16;

/** The facts of one row the order analysis needs. */
export interface OrderFacts {
  readonly index: number;
  readonly seq: number | null;
  readonly prev: string | null;
  readonly leafHex: string;
  readonly leafMismatch: boolean;
}

interface Segment {
  readonly pos: number;
  len: number;
  /** seq of the first row; null for a row that is not a well-formed entry (always alone). */
  readonly first: number | null;
  readonly firstPrev: string | null;
  readonly firstModified: boolean;
  /** Leaf hashes of the first rows, at most RECENT_ROWS. */
  readonly head: string[];
  /** Leaf hashes of the last rows, oldest first, at most RECENT_ROWS. */
  readonly tail: string[];
}

interface Anchor {
  readonly leaf: string;
  readonly pos: number;
  readonly seq: number;
  /** False for a misfit row: a chain break right after it is explained by the misfit. */
  readonly trusted: boolean;
}

interface Row {
  readonly pos: number;
  readonly seq: number;
  readonly leaf: string;
}

/** A seq range [from, to) found at stream positions starting at pos. */
interface SeqRange {
  readonly pos: number;
  readonly from: number;
  readonly to: number;
}

type Finding =
  /** Row `pos` is not the row that row `next` hashed; pos -1: row `next` should start the chain. */
  | { readonly type: 'blame'; readonly pos: number; readonly next: number }
  | { readonly type: 'broken'; readonly pos: number }
  | { readonly type: 'missing'; readonly pos: number; readonly from: number; readonly to: number }
  | {
      readonly type: 'misfit';
      readonly pos: number;
      readonly slot: number;
      readonly seq: number | null;
      readonly explained: boolean;
      readonly last: boolean;
    }
  | {
      readonly type: 'inserted';
      readonly pos: number;
      readonly count: number;
      readonly carried: readonly SeqRange[];
      /** seq and link of the block's first row, to recognise the log's tail moved up. */
      readonly lead?: { readonly seq: number | null; readonly prev: string | null };
    };

const GENESIS: Anchor = { leaf: '', pos: -1, seq: -1, trusted: true };

function overlaps(a: { from: number; to: number }, b: { from: number; to: number }): boolean {
  return a.from < b.to && b.from < a.to;
}

function seqText(from: number, to: number): string {
  return to - from === 1 ? `seq ${from}` : `seq ${from}..${to - 1}`;
}

/** Streams rows in, then names the order problems (see the file comment). */
export class OrderTracker {
  private readonly segments: Segment[] = [];
  private lastLeaf = '';

  /** Adds the next row of the stream. */
  add(row: OrderFacts): void {
    const cur = this.segments[this.segments.length - 1];
    const continues =
      cur !== undefined &&
      cur.first !== null &&
      row.seq !== null &&
      row.seq === cur.first + cur.len &&
      row.prev === this.lastLeaf;
    if (continues) {
      cur.len++;
      if (cur.head.length < RECENT_ROWS) cur.head.push(row.leafHex);
      cur.tail.push(row.leafHex);
      if (cur.tail.length > RECENT_ROWS) cur.tail.shift();
    } else {
      this.segments.push({
        pos: row.index,
        len: 1,
        first: row.seq,
        firstPrev: row.prev,
        firstModified: row.leafMismatch,
        head: [row.leafHex],
        tail: [row.leafHex],
      });
    }
    this.lastLeaf = row.leafHex;
  }

  /** The problems found in the whole stream. */
  finish(): AuditProblem[] {
    return new Classifier(this.segments).run();
  }
}

class Classifier {
  private expected = 0;
  private anchor: Anchor = GENESIS;
  private recent: Row[] = [];
  private findings: Finding[] = [];

  constructor(private readonly segs: readonly Segment[]) {}

  run(): AuditProblem[] {
    let i = 0;
    while (i < this.segs.length) i = this.step(i);
    return this.report();
  }

  /** Classifies segment i and returns the index of the next segment to look at. */
  private step(i: number): number {
    const s = this.segs[i]!;
    const next = this.segs[i + 1];
    const linked = s.firstPrev === this.anchor.leaf;
    if (s.first === this.expected && linked) {
      this.accept(s);
      return i + 1;
    }
    if (s.len === 1 && s.first !== this.expected && (linked || next?.first === this.expected + 1)) {
      this.misfit(s, linked, false);
      return i + 1;
    }
    const resume = this.findResume(i + 1);
    if (resume >= 0) {
      this.insert(this.segs.slice(i, resume));
      return resume;
    }
    if (s.first === this.expected) {
      // The chain breaks where the numbering does not: either this row's own link was edited
      // (its hash gives it away), or the anchor is not the row this one hashed. After a misfit
      // the break is already explained.
      if (s.firstModified) this.findings.push({ type: 'broken', pos: s.pos });
      else if (this.anchor.trusted) this.findings.push({ type: 'blame', pos: this.anchor.pos, next: s.pos });
      this.accept(s);
      return i + 1;
    }
    if (s.first !== null && s.first < this.expected) {
      if (this.skipRepeat(s)) return i + 1;
      if (this.rollBackTo(s)) return i;
    }
    if (next === undefined && s.len === 1 && (s.first === null || s.first < this.expected)) {
      this.misfit(s, false, true);
      return i + 1;
    }
    if (s.first !== null && s.first > this.expected) {
      this.findings.push({ type: 'missing', pos: s.pos, from: this.expected, to: s.first });
      this.accept(s);
      return i + 1;
    }
    this.insert([s]);
    return i + 1;
  }

  private accept(s: Segment): void {
    const first = s.first!;
    this.expected = first + s.len;
    const end = s.pos + s.len;
    s.tail.forEach((leaf, k) => {
      const back = s.tail.length - k;
      this.recent.push({ pos: end - back, seq: this.expected - back, leaf });
    });
    if (this.recent.length > RECENT_ROWS) this.recent = this.recent.slice(-RECENT_ROWS);
    this.anchor = { leaf: s.tail[s.tail.length - 1]!, pos: end - 1, seq: this.expected - 1, trusted: true };
  }

  /** A lone row standing where entry `expected` should be. */
  private misfit(s: Segment, linked: boolean, last: boolean): void {
    this.findings.push({
      type: 'misfit',
      pos: s.pos,
      slot: this.expected,
      seq: s.first,
      explained: linked || s.firstModified,
      last,
    });
    this.anchor = { leaf: s.tail[0]!, pos: s.pos, seq: this.expected, trusted: false };
    this.expected++;
  }

  /** First segment at or after `from` (within the lookahead) that continues `anchor`. */
  private findResume(from: number): number {
    const end = Math.min(this.segs.length, from + LOOKAHEAD_SEGMENTS);
    for (let j = from; j < end; j++) {
      const t = this.segs[j]!;
      if (t.first === this.expected && t.firstPrev === this.anchor.leaf) return j;
    }
    return -1;
  }

  private insert(block: readonly Segment[]): void {
    const first = block[0]!;
    const count = block.reduce((n, b) => n + b.len, 0);
    const carried = block.flatMap((b) => (b.first === null ? [] : [{ pos: b.pos, from: b.first, to: b.first + b.len }]));
    this.findings.push({ type: 'inserted', pos: first.pos, count, carried, lead: { seq: first.first, prev: first.firstPrev } });
  }

  /** The accepted row `s` links to (by seq and leaf), or undefined. */
  private linkTarget(s: Segment): Row | undefined {
    if (s.first === 0 && s.firstPrev === '') return { pos: -1, seq: -1, leaf: '' };
    return this.recent.find((r) => r.seq === s.first! - 1 && r.leaf === s.firstPrev);
  }

  /**
   * `s` starts with a copy of the rows accepted last: the copy is what was inserted (where the
   * log first differs). Report it and accept the rest of `s`, which continues the anchor.
   */
  private skipRepeat(s: Segment): boolean {
    const target = this.linkTarget(s);
    if (target === undefined) return false;
    const copied = this.recent.filter((r) => r.pos > target.pos);
    const count = copied.length;
    if (count === 0 || count !== this.anchor.pos - target.pos || !this.anchor.trusted) return false;
    if (copied.some((r, k) => s.head[k] !== r.leaf)) return false;
    this.findings.push({ type: 'inserted', pos: s.pos, count, carried: [] });
    if (s.len > count) {
      const rest = s.len - count;
      this.accept({ ...s, pos: s.pos + count, len: rest, first: s.first! + count, tail: s.tail.slice(-rest) });
    }
    return true;
  }

  /**
   * `s` repeats seqs already taken and links to an earlier accepted row R: the rows after R were
   * accepted only because a forger gave them R's successor's seq and link. Re-read them as one
   * insertion, unless a finding already explains any of them.
   */
  private rollBackTo(s: Segment): boolean {
    const target = this.linkTarget(s);
    if (target === undefined) return false;
    if (this.findings.some((f) => f.pos > target.pos && f.type !== 'blame')) return false;
    this.findings = this.findings.filter((f) => f.pos < target.pos || (f.pos === target.pos && f.type !== 'blame'));
    this.findings.push({ type: 'inserted', pos: target.pos + 1, count: s.pos - target.pos - 1, carried: [] });
    this.recent = this.recent.filter((r) => r.pos <= target.pos);
    this.expected = target.seq + 1;
    this.anchor = { leaf: target.leaf, pos: target.pos, seq: target.seq, trusted: true };
    return true;
  }

  private report(): AuditProblem[] {
    const problems: AuditProblem[] = [];
    const holes: SeqRange[] = [];
    const carriers: SeqRange[] = [];
    for (const f of this.findings) {
      if (f.type === 'missing') holes.push({ pos: f.pos, from: f.from, to: f.to });
      if (f.type === 'misfit') {
        holes.push({ pos: f.pos, from: f.slot, to: f.slot + 1 });
        if (f.seq !== null) carriers.push({ pos: f.pos, from: f.seq, to: f.seq + 1 });
      }
      if (f.type === 'inserted') carriers.push(...f.carried);
    }
    const carriedElsewhere = (h: SeqRange): SeqRange | undefined => carriers.find((c) => c.pos !== h.pos && overlaps(c, h));
    const isHole = (c: SeqRange): SeqRange | undefined => holes.find((h) => h.pos !== c.pos && overlaps(c, h));
    // A block that starts with the seq the log would have next, linked to the log's last row, is
    // the log's tail moved up before entries that belong ahead of it, not foreign rows.
    const isMovedTail = (lead: { seq: number | null; prev: string | null } | undefined): boolean =>
      lead !== undefined && this.anchor.trusted && lead.seq === this.expected && lead.prev === this.anchor.leaf;
    for (const f of this.findings) {
      switch (f.type) {
        case 'blame':
          problems.push(
            f.pos >= 0
              ? {
                  kind: 'modified',
                  index: f.pos,
                  detail: `entry ${f.pos} is not the entry that entry ${f.next} links to: it was rewritten with its stored hash`,
                }
              : { kind: 'modified', index: f.next, detail: `entry ${f.next} should start the chain but links to an entry` },
          );
          break;
        case 'broken':
          problems.push({ kind: 'broken_chain', index: f.pos, detail: `entry ${f.pos} does not link to entry ${f.pos - 1}` });
          break;
        case 'missing': {
          const found = carriedElsewhere(f);
          problems.push(
            found !== undefined
              ? { kind: 'reordered', index: f.pos, detail: `${seqText(f.from, f.to)} belongs before entry ${f.pos} but is at entry ${found.pos}` }
              : { kind: 'deleted', index: f.pos, detail: `${seqText(f.from, f.to)} missing before entry ${f.pos}` },
          );
          break;
        }
        case 'misfit': {
          const own = f.seq === null ? undefined : { pos: f.pos, from: f.seq, to: f.seq + 1 };
          const moved = carriedElsewhere({ pos: f.pos, from: f.slot, to: f.slot + 1 }) ?? (own && isHole(own));
          if (moved !== undefined) {
            problems.push({ kind: 'reordered', index: f.pos, detail: `entry ${f.pos} holds seq ${f.seq ?? '?'} instead of seq ${f.slot}` });
          } else if (f.last && !f.explained) {
            problems.push({ kind: 'inserted', index: f.pos, detail: `entry ${f.pos} (seq ${f.seq ?? '?'}) does not belong at the end of the log` });
          } else {
            problems.push({ kind: 'modified', index: f.pos, detail: `entry ${f.pos} is not entry seq ${f.slot}: it was rewritten or replaced` });
          }
          break;
        }
        case 'inserted': {
          const moved = f.carried.some((c) => isHole(c) !== undefined) || isMovedTail(f.lead);
          const span = f.count === 1 ? `entry ${f.pos}` : `entries ${f.pos}..${f.pos + f.count - 1}`;
          problems.push(
            moved
              ? { kind: 'reordered', index: f.pos, detail: `${span} belong${f.count === 1 ? 's' : ''} later in the log` }
              : { kind: 'inserted', index: f.pos, detail: `${span} ${f.count === 1 ? 'was' : 'were'} inserted into the log` },
          );
          break;
        }
      }
    }
    return problems;
  }
}

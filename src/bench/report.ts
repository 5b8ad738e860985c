/**
 * The bench's one table: each figure next to its reference from the same run, the ratio, the
 * goal (REFERENCE.md section 6) and the verdict. Rows marked `info` carry a verdict for
 * context only; the goal is judged on the other rows.
 */
import type { AuditVerifyResult, AuditVerifyStoreResult } from './audit-verify.js';
import type { ConnectorsResult, ProvisionResult } from './connectors.js';
import type { IntrospectionResult } from './introspection.js';
import { roundRatios, type IssuanceParty, type IssuanceResult } from './issuance.js';
import type { ScaleResult } from './scale.js';
import type { TokenExchangeResult } from './token-exchange.js';

/** One line of the table. */
export interface ReportRow {
  readonly metric: string;
  readonly stint: string;
  readonly reference: string;
  readonly ratio: string;
  readonly goal: string;
  /** PASS / FAIL, `info: pass` / `info: fail` for context rows, ERROR when the benchmark broke. */
  readonly verdict: string;
}

const MB = 1_000_000;
/** 300 MB (decimal), the memory goal. */
const RSS_GOAL_BYTES = 300 * MB;
const RESTART_GOAL_MS = 3000;
const AUDIT_GOAL_PER_SECOND = 200_000;
const RATIO_GOAL = 0.5;
const REVOCATION_LAG_GOAL_MS = 1000;

const storeName = (store: string): string => (store === 'pglite' ? 'PGlite' : 'PostgreSQL');
const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const perSecond = (n: number): string => `${count(n)}/s`;
const percent = (r: number): string => `${(r * 100).toFixed(0)}%`;
const megabytes = (bytes: number): string => `${(bytes / MB).toFixed(0)} MB`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const millis = (ms: number): string => (ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`);
const size = (n: number): string => (n >= 1_000_000 && n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));

function verdict(pass: boolean, judged: boolean): string {
  if (judged) return pass ? 'PASS' : 'FAIL';
  return pass ? 'info: pass' : 'info: fail';
}

/** `spread`: the lowest and highest ratio of the rounds the ratio was measured in, shown beside it. */
function ratioRow(metric: string, stint: number, reference: number, referenceLabel: string, judged: boolean, spread?: { min: number; max: number }): ReportRow {
  const ratio = stint / reference;
  return {
    metric,
    stint: perSecond(stint),
    reference: `${perSecond(reference)} ${referenceLabel}`,
    ratio: spread === undefined ? percent(ratio) : `${percent(ratio)} (rounds ${percent(spread.min)}-${percent(spread.max)})`,
    goal: `>= ${percent(RATIO_GOAL)}`,
    verdict: verdict(ratio >= RATIO_GOAL, judged),
  };
}

/** Goal 1: in-process and HTTP issuance against raw INSERT+COMMIT, measured in alternating slices. */
export function issuanceRows(r: IssuanceResult): ReportRow[] {
  const where = `${storeName(r.store)}, c=${r.concurrency}`;
  const row = (metric: string, party: IssuanceParty, reference: IssuanceParty, label: string, judged: boolean): ReportRow =>
    ratioRow(metric, r[party].perSecond, r[reference].perSecond, label, judged, r.rounds > 1 ? roundRatios(r, party, reference) : undefined);
  return [
    row(`Grants issued, in-process (${where})`, 'inProcess', 'rawInsert', 'raw INSERT+COMMIT', true),
    row(`  the same, Cedar evaluating every request (${where})`, 'inProcessEveryDecision', 'rawInsert', 'raw INSERT+COMMIT', false),
    row(`Grants issued, HTTP (${where})`, 'http', 'rawInsert', 'raw INSERT+COMMIT', true),
    row(`  the same against INSERT+COMMIT behind bare HTTP (${where})`, 'http', 'rawInsertHttp', 'raw INSERT+COMMIT, HTTP', false),
  ];
}

/** Goal 2: judged on HTTP introspection; in-process introspection and the bare HTTP round trip are context. */
export function introspectionRows(r: IntrospectionResult): ReportRow[] {
  return [
    ratioRow(`Introspections, HTTP (c=${r.concurrency})`, r.http.perSecond, r.rawVerify.perSecond, 'raw JWT verify', true),
    ratioRow(`Introspections, HTTP, a new token each call (c=${r.concurrency})`, r.httpFirstSight.perSecond, r.rawVerify.perSecond, 'raw JWT verify', false),
    ratioRow(`Introspections, in-process (c=${r.concurrency})`, r.inProcess.perSecond, r.rawVerify.perSecond, 'raw JWT verify', false),
    ratioRow(`HTTP round trip alone, GET /healthz (c=${r.concurrency})`, r.httpFloor.perSecond, r.rawVerify.perSecond, 'raw JWT verify', false),
  ];
}

/** Issue #4 item 9: token exchange rates next to the native request (context, no goal). */
export function tokenExchangeRows(r: TokenExchangeResult): ReportRow[] {
  const where = `PGlite, c=${r.concurrency}`;
  const row = (metric: string, stint: number, reference: number, referenceLabel: string): ReportRow => ({
    metric,
    stint: perSecond(stint),
    reference: `${perSecond(reference)} ${referenceLabel}`,
    ratio: percent(stint / reference),
    goal: '-',
    verdict: 'info',
  });
  return [
    row(`Token exchanges, HTTP (${where})`, r.exchange.perSecond, r.native.perSecond, 'POST /v1/grants'),
    row(`DPoP-bound token exchanges, HTTP (${where})`, r.dpopExchange.perSecond, r.native.perSecond, 'POST /v1/grants'),
    row(`  native POST /v1/grants, HTTP (${where})`, r.native.perSecond, r.rawVerify.perSecond, 'raw JWT verify'),
  ];
}

/** Goal 3: memory and restart time at each stored size. */
export function scaleRows(r: ScaleResult): ReportRow[] {
  return r.points.flatMap((p) => {
    const where = `${storeName(r.store)}, ${size(p.filled)} grants`;
    const worstReady = Math.max(...p.readyMs);
    const memoryRow = (metric: string, bytes: number): ReportRow => ({
      metric: `${metric} (${where})`,
      stint: megabytes(bytes),
      reference: `${megabytes(p.probe.memory.rssBytes)} store alone`,
      ratio: `${(bytes / p.probe.memory.rssBytes).toFixed(1)}x`,
      goal: `< ${megabytes(RSS_GOAL_BYTES)}`,
      verdict: verdict(bytes < RSS_GOAL_BYTES, true),
    });
    return [
      {
        metric: `Restart to ready, worst of ${p.readyMs.length} (${where})`,
        stint: seconds(worstReady),
        reference: `${seconds(p.probe.readyMs)} store alone`,
        ratio: `${(worstReady / p.probe.readyMs).toFixed(1)}x`,
        goal: `< ${seconds(RESTART_GOAL_MS)}`,
        verdict: verdict(worstReady < RESTART_GOAL_MS, true),
      },
      memoryRow('RSS when ready', p.memoryReady.rssBytes),
      memoryRow(`RSS after ${count(p.loadGrants.ops)} grants + ${p.listPages} pages`, p.memoryAfterLoad.rssBytes),
      memoryRow('Peak RSS (VmHWM)', p.memoryAfterLoad.peakRssBytes),
    ];
  });
}

/** Goal 4: judged with the reads included; verification over records in memory is context. */
export function auditRows(r: AuditVerifyResult): ReportRow[] {
  const rowsOf = (s: AuditVerifyStoreResult, judgedStore: boolean): ReportRow[] => {
    const where = s.store === 'pglite' ? 'PGlite' : 'PostgreSQL';
    const reference = `${perSecond(s.readOnly.perSecond)} packed store read only`;
    const row = (metric: string, eventsPerSecond: number, judged: boolean): ReportRow => ({
      metric: `${metric} (${size(s.events)} events, ${where})`,
      stint: perSecond(eventsPerSecond),
      reference,
      ratio: percent(eventsPerSecond / s.readOnly.perSecond),
      goal: `>= ${perSecond(AUDIT_GOAL_PER_SECOND)}`,
      verdict: verdict(eventsPerSecond >= AUDIT_GOAL_PER_SECOND, judged),
    });
    return [
      row('Audit verify, reads included (worker thread)', s.verifyWithReads.perSecond, judgedStore),
      row('Audit verify, reads included (one thread)', s.verifyWithReadsOneThread.perSecond, false),
      row('Audit verify, in memory', s.verifyInMemory.perSecond, false),
      row('Audit store read row by row (earlier read path)', s.readRowByRow.perSecond, false),
      ...(s.readWire !== undefined ? [row('Audit store read as wire batches, decoded (what the verifier reads)', s.readWire.perSecond, false)] : []),
    ];
  };
  return [...rowsOf(r, true), ...rowsOf(r.postgres, false)];
}

/** Issue #3 item 10: provision latency per connector (context, no goal) and revocation lag (goal p99 <= 1 s). */
export function connectorRows(r: ConnectorsResult): ReportRow[] {
  const provisionRows = (name: string, p: ProvisionResult): ReportRow[] =>
    (['p50Ms', 'p99Ms'] as const).map((q) => ({
      metric: `Provision ${q.slice(0, 3)}, ${name} (${count(p.stint.samples)} grants, one at a time)`,
      stint: millis(p.stint[q]),
      reference: `${millis(p.reference[q])} statements direct`,
      ratio: `${(p.stint[q] / p.reference[q]).toFixed(1)}x`,
      goal: '-',
      verdict: 'info',
    }));
  const v = r.revocation;
  const where = `${count(v.grants)} grants expiring together, PostgreSQL`;
  const direct = v.reference;
  // The reference: the same batched statements and login attempts run directly; per percentile,
  // when that share of the direct login attempts had been refused.
  const lagRow = (q: 'p50Ms' | 'p99Ms' | 'maxMs', judged: boolean): ReportRow => ({
    metric: `Revocation lag ${q.slice(0, -2)}, expiry -> verified dead incl. login attempt (${where})`,
    stint: seconds(v.lag[q]),
    reference: `${seconds(direct.refused[q])} direct`,
    ratio: `${(v.lag[q] / direct.refused[q]).toFixed(2)}x`,
    goal: `<= ${seconds(REVOCATION_LAG_GOAL_MS)}`,
    verdict: verdict(v.lag[q] <= REVOCATION_LAG_GOAL_MS, judged),
  });
  const stepRow = (label: string, l: { p50Ms: number; p99Ms: number }, reference: string): ReportRow => ({
    metric: `  ${label} p50 / p99 (${count(v.grants)} grants)`,
    stint: `${seconds(l.p50Ms)} / ${seconds(l.p99Ms)}`,
    reference,
    ratio: '-',
    goal: '-',
    verdict: 'info',
  });
  // The profile (only when the goal failed): the connector's batch path alone, next to login
  // attempts alone (the floor a real login attempt per credential sets).
  const floor = r.profile?.floors.find((f) => f.client === 'pg.Client');
  const profileRows: ReportRow[] = [
    ...(r.profile?.runs ?? []).map((run) => ({
      metric: `  profile: connector batch path alone, ${run.login ? `${run.loginConcurrency} parallel logins` : 'no login attempt'} (${count(run.roles)} roles)`,
      stint: `${seconds(run.proof.maxMs)}`,
      reference: floor ? `${seconds(floor.totalMs)} logins alone` : '-',
      ratio: `drop ${seconds(run.droppedMs)}, p50 ${seconds(run.proof.p50Ms)}`,
      goal: '-',
      verdict: 'info',
    })),
    ...(r.profile?.floors ?? []).map((f) => ({
      metric: `  profile: ${count(f.attempts)} refused login attempts alone, ${f.client}, ${f.lanes} parallel`,
      stint: seconds(f.totalMs),
      reference: '-',
      ratio: `${millis(f.totalMs / f.attempts)}/login, client CPU ${seconds(f.clientCpuMs)}`,
      goal: '-',
      verdict: 'info',
    })),
  ];
  return [
    ...provisionRows('PostgreSQL', r.provision.postgres),
    ...provisionRows('Redis', r.provision.redis),
    lagRow('p50Ms', false),
    lagRow('p99Ms', true),
    lagRow('maxMs', false),
    stepRow('expiry -> grant.expired committed (intent)', v.expired, '-'),
    stepRow('expiry -> role dropped, sessions ended (seen in pg_roles)', v.dropped, `${seconds(direct.droppedMs)} direct, all`),
    ...profileRows,
  ];
}

/** A row for a benchmark that did not finish. */
export function errorRow(name: string, error: unknown): ReportRow {
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  return { metric: name, stint: '-', reference: '-', ratio: '-', goal: '-', verdict: `ERROR: ${message.slice(0, 120)}` };
}

/** The rows as an aligned text table with a header. */
export function formatTable(rows: readonly ReportRow[]): string {
  const header: ReportRow = { metric: 'metric', stint: 'stint', reference: 'reference (same run)', ratio: 'ratio', goal: 'goal', verdict: 'PASS/FAIL' };
  const columns = ['metric', 'stint', 'reference', 'ratio', 'goal', 'verdict'] as const;
  const all = [header, ...rows];
  const widths = columns.map((c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: ReportRow): string => columns.map((c, i) => r[c].padEnd(widths[i]!)).join(' | ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}
